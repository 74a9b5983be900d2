"""The safeguarding page: for leads only; open flags first; every step audited; exports
and the home page never show what was disclosed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from conversations.storage.models import AuditEntry, SafeguardingFlag
from tests.command_line import needsfirst
from tests.web_helpers import (
    ADMIN,
    FACILITATOR,
    OFFICER,
    SAFEGUARDING,
    WebResident,
    sign_in,
    web_client,
    web_config,
)

DISCLOSURE = "my partner hits me when he drinks and I am scared to go home"


async def disclose_on_the_web(client: TestClient) -> WebResident:
    """A resident of a web-only install (Telegram off) joins and discloses harm."""
    resident = WebResident(client)
    await resident.open()
    await resident.press("Take part")
    await resident.press("happy to take part")
    await resident.press("North")
    await resident.press("35 to 64")
    await resident.say(DISCLOSURE)
    return resident


def flag_id(db: Engine) -> int:
    with Session(db) as session:
        found = session.exec(select(SafeguardingFlag.id)).one()
    assert found is not None
    return found


async def test_a_web_only_install_shows_the_flag_to_the_lead(db: Engine) -> None:
    config = web_config()
    assert not config.telegram.token
    async with web_client(db, config) as client:
        resident = await disclose_on_the_web(client)
        assert any("999" in text for text in resident.page.bot_texts)
        number = flag_id(db)
        client.session.cookie_jar.clear()

        await sign_in(client, db, config, OFFICER)
        home = await (await client.get("/staff/")).text()
        assert "1 safeguarding flag open" in home and "Tell your safeguarding lead" in home
        assert "hits me" not in home and 'href="/staff/safeguarding"' not in home

        client.session.cookie_jar.clear()
        csrf = await sign_in(client, db, config, SAFEGUARDING)
        home = await (await client.get("/staff/")).text()
        assert "1 safeguarding flag open" in home and 'href="/staff/safeguarding"' in home
        listing = await (await client.get("/staff/safeguarding")).text()
        assert (
            f'href="/staff/safeguarding/{number}"' in listing and "<strong>Open</strong>" in listing
        )
        assert ">web<" in listing and "hits me" not in listing

        page = await (await client.get(f"/staff/safeguarding/{number}")).text()
        assert "hits me when he drinks" in page  # what was said
        assert "north" in page.lower() and "35 to 64" in page  # the rest of their answers
        assert "999" in page  # the help they were shown
        assert "Open: no lead has acknowledged it" in page

        async def act(action: str, **fields: str) -> str:
            response = await client.post(f"/staff/safeguarding/{number}/{action}",
                                         data={"csrf": csrf, **fields})  # fmt: skip
            assert response.status == 200, (action, response.status)
            return await response.text()

        assert "Acknowledged: alerts about this flag have stopped." in await act("acknowledge")
        noted = await act("note", note="Rang the resident's support worker.")
        assert "Rang the resident&#39;s support worker." in noted
        bad = await client.post(f"/staff/safeguarding/{number}/outcome",
                                data={"csrf": csrf, "outcome": "shrug"})  # fmt: skip
        assert bad.status == 409 and "the outcome must be one of" in await bad.text()
        closed = await act("outcome", outcome="referred")
        assert "Closed" in closed and "Referred" in closed
        again = await client.post(f"/staff/safeguarding/{number}/outcome",
                                  data={"csrf": csrf, "outcome": "no_action"})  # fmt: skip
        assert again.status == 409 and "already closed" in await again.text()
        missing = await client.get("/staff/safeguarding/999999")
        assert missing.status == 404

    with Session(db) as session:
        steps = session.exec(
            select(AuditEntry.action, AuditEntry.detail).where(
                AuditEntry.actor == f"staff:{SAFEGUARDING}",
                AuditEntry.target == f"flag:{number}",
            )
        ).all()
        flag = session.get(SafeguardingFlag, number)
    actions = [action for action, _ in steps]
    assert actions[0] == "safeguarding.view"
    for step in ("safeguarding.acknowledge", "safeguarding.note", "safeguarding.outcome"):
        assert step in actions
    assert not any("support worker" in detail for _, detail in steps)  # notes stay on the flag
    assert flag is not None and (flag.status, flag.outcome, flag.channel) == (
        "closed", "referred", "web",
    )  # fmt: skip


async def test_the_safeguarding_page_is_refused_to_every_other_role(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        await disclose_on_the_web(client)
        number = flag_id(db)
        pages = ["/staff/safeguarding", f"/staff/safeguarding/{number}"]
        actions = [f"/staff/safeguarding/{number}/{a}" for a in ("acknowledge", "note", "outcome")]
        client.session.cookie_jar.clear()
        for path in pages:
            assert (await client.get(path, allow_redirects=False)).status == 401
        for staff_id in (FACILITATOR, OFFICER, ADMIN):
            client.session.cookie_jar.clear()
            csrf = await sign_in(client, db, config, staff_id)
            for path in pages:
                response = await client.get(path, allow_redirects=False)
                assert response.status == 403, (staff_id, path)
                assert "hits me" not in await response.text()
            for path in actions:
                response = await client.post(
                    path, data={"csrf": csrf, "note": "x", "outcome": "referred"},
                    allow_redirects=False,
                )  # fmt: skip
                assert response.status == 403, (staff_id, path)
            home = await (await client.get("/staff/")).text()
            assert 'href="/staff/safeguarding"' not in home
    with Session(db) as session:
        flag = session.get(SafeguardingFlag, number)
        assert flag is not None and flag.status == "open"
        viewed = session.exec(
            select(AuditEntry).where(AuditEntry.action.startswith("safeguarding"))  # type: ignore[attr-defined]
        ).all()
        assert viewed == []


async def test_exports_leave_out_withheld_answers(db: Engine, tmp_path: Path, db_url: str) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        await disclose_on_the_web(client)
        client.session.cookie_jar.clear()
        await sign_in(client, db, config, OFFICER)
        exported = await (await client.get("/staff/c/example/export.csv")).text()
        records = json.loads(await (await client.get("/staff/c/example/export.json")).text())
    assert "hits me" not in exported and "hits me" not in json.dumps(records)
    rows = list(csv.DictReader(io.StringIO(exported)))
    (withheld,) = [r for r in rows if r["withheld"]]
    assert (withheld["question"], withheld["answer"], withheld["withheld"]) == (
        "need", "[withheld]", "safeguarding",
    )  # fmt: skip
    assert any(r["question"] == "area" and r["answer"] == "north" for r in rows)

    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', encoding="utf-8")
    cli = needsfirst(path, "export", "example", "--format", "csv")
    assert cli.returncode == 0, cli.stderr
    assert "hits me" not in cli.stdout
    cli_rows = list(csv.DictReader(io.StringIO(cli.stdout)))
    assert {"resident", "round", "question", "answer", "answered_at", "profile_area"} <= set(
        cli_rows[0]
    )
    assert [r["answer"] for r in cli_rows if r["withheld"] == "safeguarding"] == ["[withheld]"]


def test_the_officers_digest_never_carries_a_disclosure(db: Engine) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
    from bot.actions.digests import build
    from bot.actions.theme_runs import analyse_consultation
    from conversations.residents.service import ConversationService
    from conversations.storage.models import utcnow
    from tests.example_consultation import Resident_, complete_example, seed

    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(db)
    seed(service, "a", copies=1)
    # Without the disclosure this answer is the one quoted (test_digest_archive.py).
    need = f"Damp flat, mould on the wall, damp and mould making my asthma worse, and {DISCLOSURE}"
    complete_example(Resident_(service, "bea"), need=need)
    with Session(db) as session:
        assert session.exec(select(SafeguardingFlag)).all()  # it was flagged
    analyse_consultation(db, "example", actor="test", n_themes=3)
    end = utcnow() + timedelta(minutes=1)
    documents, _ = build(db, "example", start=end - timedelta(days=7), end=end,
                         zone=ZoneInfo("Europe/London"))  # fmt: skip
    for document in (documents.html, documents.summary, documents.csv):
        assert "hits me" not in document and "making my asthma worse" not in document
