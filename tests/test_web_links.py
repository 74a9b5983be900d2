"""Partners' links on the dashboard: the command line's links, each with a QR code of
exactly that link and a poster to print; a bad name is refused as the command line does."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import segno
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.config import Config, WhatsAppConfig
from conversations.residents.service import ConversationService
from conversations.storage.models import AuditEntry
from tests.command_line import needsfirst
from tests.example_consultation import Resident_
from tests.web_helpers import FACILITATOR, OFFICER, sign_in, web_client, web_config

PUBLIC = "http://consult.riverside.example"  # http: the test client keeps no Secure cookie


def linked_config() -> Config:
    base = web_config(public_url=PUBLIC)
    return replace(
        base,
        telegram=replace(base.telegram, bot_username="RiversideSaysBot"),
        whatsapp=WhatsAppConfig(display_number="447700900100"),
    )


def qr_paths(html: str) -> list[str]:
    return re.findall(r'<path class="qrline"[^>]* d="([^"]+)"', html)


async def test_a_facilitator_makes_links_with_qr_codes_and_a_poster(
    tmp_path: Path, db_url: str, db: Engine
) -> None:
    config = linked_config()
    async with web_client(db, config) as client:
        resident = Resident_(ConversationService(db), "5001")
        resident.start("example--foodbank")  # a partner's Telegram deep link
        resident.press("happy to take part")
        csrf = await sign_in(client, db, config, FACILITATOR)
        listing = await (await client.get("/staff/c/example/links")).text()
        assert '<code>foodbank</code></th><td class="num">1</td>' in listing
        made = await client.post("/staff/c/example/links", data={"csrf": csrf, "source": "Tenants"})
        assert made.status == 200 and made.url.path == "/staff/c/example/links/tenants"
        page = await made.text()
        cli_file = tmp_path / "config.toml"
        cli_file.write_text(
            f'[database]\nurl = "{db_url}"\n[web]\npublic_url = "{PUBLIC}"\n'
            '[telegram]\nbot_username = "RiversideSaysBot"\n'
            '[whatsapp]\ndisplay_number = "447700900100"\n',
            "utf-8",
        )
        printed = needsfirst(cli_file, "links", "example", "--source", "tenants")
        assert printed.returncode == 0, printed.stderr
        urls = dict(line.split(": ", 1) for line in printed.stdout.splitlines())
        assert set(urls) == {"web", "telegram", "whatsapp"}
        # Every link the command line prints, and a QR code of exactly that link.
        codes = qr_paths(page)
        assert len(codes) == 3 and page.count('<svg role="img"') == 3
        for url in urls.values():
            assert f'href="{url.replace("&", "&amp;")}"' in page
            expected = segno.make(url, error="m").svg_inline(dark="#000000", light="#ffffff")
            assert qr_paths(expected)[0] in codes, url
        assert page.count("<title>QR code:") == 3
        poster = await client.get("/staff/c/example/links/tenants/poster?channel=whatsapp")
        text = await poster.text()
        assert poster.status == 200 and urls["whatsapp"].replace("&", "&amp;") in text
        assert "What would make life better in Riverside?" in text and "Have your say" in text
        assert (
            qr_paths(text) == [c for c in codes if c in qr_paths(text)] and len(qr_paths(text)) == 1
        )
        missing = await client.get("/staff/c/example/links/tenants/poster?channel=fax")
        assert missing.status == 404
    with Session(db) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "links.make")).all()
        assert [(a.actor, a.target, a.detail) for a in audit] == [
            (f"staff:{FACILITATOR}", "example", "source tenants")
        ]


async def test_a_bad_name_is_refused_and_officers_cannot_make_links(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        officer = await sign_in(client, db, config, OFFICER)
        assert (await client.get("/staff/c/example/links")).status == 403
        forbidden = await client.post(
            "/staff/c/example/links", data={"csrf": officer, "source": "x"}
        )
        assert forbidden.status == 403
        client.session.cookie_jar.clear()
        csrf = await sign_in(client, db, config, FACILITATOR)
        refused = await client.post(
            "/staff/c/example/links", data={"csrf": csrf, "source": "Tenants' <association>"}
        )
        page = await refused.text()
        assert refused.status == 400 and "1-40 lower-case letters" in page
        assert 'value="Tenants&#39; &lt;association&gt;"' in page  # kept, as text
        # Without bot_username or display_number: the web link alone, and how to get the others.
        assert "[telegram] bot_username" in page
        only_web = await (await client.get("/staff/c/example/links/tenants")).text()
        assert "http://127.0.0.1:8080/c/example/tenants" in only_web and "t.me" not in only_web
        assert (await client.get("/staff/c/example/links/Bad%20Name")).status == 404
        assert (await client.get("/staff/c/nowhere/links")).status == 404
    with Session(db) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "links.make")).all() == []
