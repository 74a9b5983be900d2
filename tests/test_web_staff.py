"""The staff dashboard: one-time links, sessions, roles, CSRF, pages and exports."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.staff_access import NotStaff, create_login_link, public_base_url
from conversations.residents.service import ConversationService
from conversations.storage.models import AuditEntry, Round, StaffLogin, StaffSession, utcnow
from tests.command_line import needsfirst
from tests.example_consultation import Resident_
from tests.example_consultation import complete_example as complete_telegram
from tests.web_helpers import (
    ADMIN,
    FACILITATOR,
    OFFICER,
    SAFEGUARDING,
    WebResident,
    complete_example,
    sign_in,
    staff_cookie,
    web_client,
    web_config,
)

PAGES = [
    "/staff/",
    "/staff/c/example",
    "/staff/audit",
    "/staff/c/example/export.csv",
    "/staff/c/example/export.json",
]
ACTIONS = [("/staff/c/example/round", {"action": "close"}), ("/staff/logout", {})]


def round_status(db: Engine) -> list[tuple[int, str]]:
    with Session(db) as session:
        return [(r.number, r.status) for r in session.exec(select(Round).order_by(Round.number))]  # type: ignore[arg-type]


async def change_round(client: TestClient, action: str, csrf: str) -> int:
    return await post(client, "/staff/c/example/round", {"action": action, "csrf": csrf})


async def post(client: TestClient, path: str, data: dict[str, str]) -> int:
    response = await client.post(path, data=data, allow_redirects=False)
    return response.status


async def test_every_page_and_action_refuses_anyone_not_signed_in(db: Engine) -> None:
    async with web_client(db) as client:
        for path in PAGES:
            response = await client.get(path, allow_redirects=False)
            assert response.status == 401, path
            assert "needsfirst login" in await response.text()
        for path, data in ACTIONS:
            assert await post(client, path, data) == 401, path
        client.session.cookie_jar.update_cookies({"nf_staff": "forged-session-token"})
        assert (await client.get("/staff/", allow_redirects=False)).status == 401
    assert round_status(db) == [(1, "open")]


async def test_a_one_time_link_works_once(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        link = create_login_link(db, config, FACILITATOR)
        assert link.startswith("http://127.0.0.1:8080/staff/login/")
        path = link.removeprefix("http://127.0.0.1:8080")
        # Fetching the link (as a link previewer would) does not use it up.
        assert (await client.get(path)).status == 200
        assert (await client.get(path)).status == 200
        signed = await client.post(path)
        assert signed.status == 200 and signed.url.path == "/staff/"
        assert staff_cookie(client) is not None
        client.session.cookie_jar.clear()
        again = await client.post(path, allow_redirects=False)
        assert again.status == 403 and "expired or was already used" in await again.text()
        assert staff_cookie(client) is None
    with Session(db) as session:
        login = session.exec(select(StaffLogin)).one()
        assert login.used_at is not None
        assert path.rsplit("/", 1)[1] not in login.token_hash  # only the hash is kept


async def test_a_link_expires_after_15_minutes(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        path = re.sub(r"^http://[^/]+", "", create_login_link(db, config, ADMIN))
        with Session(db) as session, session.begin():
            login = session.exec(select(StaffLogin)).one()
            assert login.expires_at - login.created_at == timedelta(minutes=15)
            login.expires_at = utcnow() - timedelta(seconds=1)
            session.add(login)
        assert (await client.post(path, allow_redirects=False)).status == 403
        assert staff_cookie(client) is None


async def test_sessions_expire_after_8_hours(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        await sign_in(client, db, config, FACILITATOR)
        assert (await client.get("/staff/")).status == 200
        with Session(db) as session, session.begin():
            found = session.exec(select(StaffSession)).one()
            assert found.expires_at - found.created_at == timedelta(hours=8)
            found.expires_at = utcnow() - timedelta(seconds=1)
            session.add(found)
        assert (await client.get("/staff/", allow_redirects=False)).status == 401


async def test_round_actions_need_the_role_and_the_csrf_token(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        officer_csrf = await sign_in(client, db, config, OFFICER)
        assert await change_round(client, "close", officer_csrf) == 403
        client.session.cookie_jar.clear()
        csrf = await sign_in(client, db, config, FACILITATOR)
        assert await post(client, "/staff/c/example/round", {"action": "close"}) == 403
        assert await change_round(client, "close", officer_csrf) == 403
        assert await post(client, "/staff/logout", {"csrf": "wrong"}) == 403
        assert round_status(db) == [(1, "open")]
        asked = await client.post("/staff/c/example/round", data={"action": "close", "csrf": csrf})
        assert asked.status == 200 and "Yes, close round 1" in await asked.text()
        assert round_status(db) == [(1, "open")]  # closing asks first
        sure = {"action": "close", "csrf": csrf, "confirm": "yes"}
        closed = await client.post("/staff/c/example/round", data=sure)
        assert closed.status == 200 and "The round is closed" in await closed.text()
        assert round_status(db) == [(1, "closed")]
        # Closing twice is refused with the reason, and changes nothing.
        refused = await client.post("/staff/c/example/round", data=sure)
        assert refused.status == 409 and "no open round" in await refused.text()
        assert await change_round(client, "open", csrf) == 303
        assert round_status(db) == [(1, "closed"), (2, "open")]
        assert await post(client, "/staff/logout", {"csrf": csrf}) == 303
        assert (await client.get("/staff/", allow_redirects=False)).status == 401
    with Session(db) as session:
        audit = session.exec(
            select(AuditEntry).where(AuditEntry.actor == f"staff:{FACILITATOR}")
        ).all()
        assert [(a.action, a.target) for a in audit] == [
            ("round.close", "example#1"),
            ("round.open", "example#2"),
        ]


async def test_pages_by_role(db: Engine) -> None:
    config = web_config()
    expected = {
        FACILITATOR: {"/staff/audit": 403, "/staff/c/example/export.csv": 200},
        OFFICER: {"/staff/audit": 403, "/staff/c/example/export.csv": 200},
        ADMIN: {"/staff/audit": 200, "/staff/c/example/export.csv": 200},
        SAFEGUARDING: {"/staff/audit": 403, "/staff/c/example/export.csv": 403},
    }
    async with web_client(db, config) as client:
        for staff_id, pages in expected.items():
            client.session.cookie_jar.clear()
            await sign_in(client, db, config, staff_id)
            assert (await client.get("/staff/")).status == 200
            home = await (await client.get("/staff/c/example")).text()
            assert ("Close round 1" in home) == (staff_id in (FACILITATOR, ADMIN))
            assert ('href="/staff/audit"' in home) == (staff_id == ADMIN)
            for path, status in pages.items():
                assert (await client.get(path)).status == status, (staff_id, path)


async def test_dashboard_shows_coverage_escaped_answers_and_exports(db: Engine) -> None:
    config = web_config()
    attack = "<script>alert(1)</script> The bus <b>never</b> comes"
    async with web_client(db, config) as client:
        await complete_example(WebResident(client), need=attack)
        client.session.cookie_jar.clear()
        await sign_in(client, db, config, OFFICER)
        page = await (await client.get("/staff/c/example")).text()
        assert "<script>alert(1)" not in page and "<b>never" not in page
        assert (
            "&lt;script&gt;alert(1)&lt;/script&gt; The bus &lt;b&gt;never&lt;/b&gt; comes" in page
        )
        # One resident from the North: far too few to flag anyone, and it says so in words.
        assert "Under-heard</strong>" not in page and page.count("Too few to say") >= 2
        assert "<svg" in page and "<script" not in page.split("<svg", 1)[1]
        home = await (await client.get("/staff/")).text()
        assert "Under-heard:" not in home and "Too few residents so far to say" in home
        exported = await client.get("/staff/c/example/export.csv")
        assert (
            exported.headers["Content-Disposition"] == 'attachment; filename="example-answers.csv"'
        )
        rows = list(csv.DictReader(io.StringIO(await exported.text())))
        assert {r["question"] for r in rows} >= {"need", "area"}
        assert any(r["answer"] == attack and r["source"] == "" for r in rows)
        records = json.loads(await (await client.get("/staff/c/example/export.json")).text())
        assert len(records) == len(rows) and records[0]["profile_area"] == "north"
        client.session.cookie_jar.clear()
        await sign_in(client, db, config, ADMIN)
        audit = await (await client.get("/staff/audit")).text()
        assert "export.csv" in audit and f"staff member {OFFICER}" in audit


async def test_dashboard_shows_residents_by_channel(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        await complete_example(WebResident(client))
        service = ConversationService(db)
        for n in range(2):
            await asyncio.to_thread(complete_telegram, Resident_(service, f"t{n}"))
        client.session.cookie_jar.clear()
        await sign_in(client, db, config, OFFICER)
        page = await (await client.get("/staff/c/example")).text()
    table = page.split(">By channel</caption>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row" dir="auto">([^<]+)</th>\s*<td class="num">(\d+)</td>'
                      r'\s*<td class="num">([^<]+)</td>\s*<td class="num">([^<]+)</td>', table)  # fmt: skip
    assert rows == [("Telegram", "2", "67%", "–"), ("Web chat", "1", "33%", "–")]
    assert "Under-heard" not in table and "Invite this group" not in table
    assert table.count("No population figure") == 2


def test_login_links_only_for_configured_staff(db: Engine) -> None:
    config = web_config(public_url="https://consult.example.org/")
    link = create_login_link(db, config, OFFICER)
    assert re.fullmatch(r"https://consult\.example\.org/staff/login/[A-Za-z0-9_-]{43}", link)
    with pytest.raises(NotStaff):
        create_login_link(db, config, 999)
    assert public_base_url(web_config(host="0.0.0.0", port=9000)) == "http://localhost:9000"  # type: ignore[arg-type]


def test_needsfirst_login_prints_a_link(tmp_path: Path, db_url: str, db: Engine) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n'
        "[staff]\nfacilitators = [4242]\n[web]\nport = 8123\n",
        encoding="utf-8",
    )
    printed = needsfirst(config, "login", "4242")
    assert printed.returncode == 0, printed.stderr
    assert re.fullmatch(r"http://127\.0\.0\.1:8123/staff/login/\S+\n", printed.stdout)
    refused = needsfirst(config, "login", "7")
    assert refused.returncode == 2 and "not in [staff]" in refused.stderr
