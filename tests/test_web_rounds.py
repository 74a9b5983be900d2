"""Rounds from the dashboard: the schedule is the command line's, a prioritise round opens
with the reviewed themes, and a time or kind that cannot be used is refused with why."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select

from conversations.storage import priority_votes
from conversations.storage.models import AuditEntry, Round
from tests.command_line import needsfirst
from tests.prioritise_helpers import seed_run
from tests.web_helpers import FACILITATOR, OFFICER, sign_in, web_client, web_config

OPENS, CLOSES = "2031-03-01T09:00", "2031-04-15T17:30"  # local: Europe/London (GMT, then BST)


def rounds(db: Engine) -> list[tuple[int, str, str, object, object]]:
    with Session(db) as session:
        found = session.exec(select(Round).order_by(col(Round.number))).all()
        return [(r.number, r.kind, r.status, r.opens_at, r.closes_at) for r in found]


def schedules(db: Engine) -> list[tuple[str, str]]:
    with Session(db) as session:
        entries = session.exec(
            select(AuditEntry)
            .where(AuditEntry.action == "round.schedule")
            .order_by(col(AuditEntry.id))
        ).all()
        return [(e.target, e.detail) for e in entries]


async def test_the_page_schedules_what_the_command_line_would(
    tmp_path: Path, db_url: str, db: Engine
) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', "utf-8")
    config = web_config()
    async with web_client(db, config) as client:
        seed_run(db, ["Buses stop early", "Dark streets"])
        by_cli = needsfirst(config_file, "round", "schedule", "example", "--opens", OPENS,
                            "--closes", CLOSES, "--kind", "prioritise")  # fmt: skip
        assert by_cli.returncode == 0, by_cli.stderr
        stored_by_cli, audited_by_cli = rounds(db), schedules(db)
        assert stored_by_cli[1][:3] == (2, "prioritise", "draft")
        with Session(db) as session, session.begin():
            session.exec(delete(Round).where(col(Round.number) == 2))  # type: ignore[call-overload]
        csrf = await sign_in(client, db, config, FACILITATOR)
        form = {"csrf": csrf, "form": "next", "opens": OPENS, "closes": CLOSES,
                "kind": "prioritise"}  # fmt: skip
        done = await client.post("/staff/c/example/round/schedule", data=form)
        page = await done.text()
        assert done.status == 200 and "The schedule is saved" in page
        assert rounds(db) == stored_by_cli
        assert schedules(db) == audited_by_cli * 2
        # The form shows the round as scheduled, in local time, ready to change.
        assert f'value="{OPENS}"' in page and f'value="{CLOSES}"' in page
        assert "Round 2 (prioritise) is scheduled: opens 2031-03-01 09:00 UTC" in page
        assert "closes 2031-04-15 16:30 UTC" in page  # British Summer Time by then


async def test_times_and_kinds_that_cannot_be_used_are_refused_with_why(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        officer = await sign_in(client, db, config, OFFICER)
        refused = {"csrf": officer, "form": "next", "opens": OPENS}
        assert (await client.post("/staff/c/example/round/schedule", data=refused)).status == 403
        client.session.cookie_jar.clear()
        csrf = await sign_in(client, db, config, FACILITATOR)
        before = rounds(db)
        for typed, status, why in [
            ({"opens": "next tuesday"}, 400, "such as 2026-12-01T09:00"),
            ({"opens": ""}, 400, "Say when the next round opens"),
            ({"opens": OPENS, "kind": "vote"}, 400, "answer round or a prioritise round"),
            ({"opens": OPENS, "closes": "2031-02-01T09:00"}, 409, "must close after it opens"),
        ]:
            form = {"csrf": csrf, "form": "next", "kind": "needs", **typed}
            response = await client.post("/staff/c/example/round/schedule", data=form)
            page = await response.text()
            assert response.status == status and why in page, (typed, page[-3000:])
            if typed.get("opens"):
                assert f'value="{typed["opens"]}"' in page  # what was typed is kept
        past = {"csrf": csrf, "form": "close", "closes": "2020-01-01T09:00"}
        response = await client.post("/staff/c/example/round/schedule", data=past)
        assert response.status == 409 and "the closing time is in the past" in await response.text()
        assert rounds(db) == before
        # Only a closing time: it is the open round's.
        closing = {"csrf": csrf, "form": "close", "closes": CLOSES}
        assert (await client.post("/staff/c/example/round/schedule", data=closing)).status == 200
        assert rounds(db)[0][:3] == (1, "needs", "open") and rounds(db)[0][4] is not None
        missing = await client.post("/staff/c/nowhere/round/schedule", data=closing)
        assert missing.status == 404


async def test_a_prioritise_round_opens_from_the_page_with_the_reviewed_themes(
    db: Engine,
) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        csrf = await sign_in(client, db, config, FACILITATOR)
        sure = {"csrf": csrf, "action": "close", "confirm": "yes"}
        assert (await client.post("/staff/c/example/round", data=sure)).status == 200
        page = await (await client.get("/staff/c/example")).text()
        assert "Open round 2 now" in page and "Prioritise round" in page
        opening = {"csrf": csrf, "action": "open", "kind": "prioritise"}
        refused = await client.post("/staff/c/example/round", data=opening)
        assert refused.status == 409 and "needs at least 2 themes" in await refused.text()
        ids = seed_run(db, ["Buses stop early", "Dark streets", "Library hours"])
        opened = await client.post("/staff/c/example/round", data=opening)
        assert opened.status == 200 and "The round is open" in await opened.text()
        assert rounds(db)[1][:3] == (2, "prioritise", "open")
        with Session(db) as session:
            round_id = session.exec(select(Round.id).where(Round.number == 2)).one()
            assert round_id is not None
            shown = priority_votes.round_themes(session=session, round_id=round_id)
            assert sorted(t.theme_id for t in shown) == ids
            audit = session.exec(select(AuditEntry).where(AuditEntry.action == "round.open")).all()
            assert [(a.actor, a.detail) for a in audit][-1] == (
                f"staff:{FACILITATOR}",
                "prioritise: 3 themes",
            )
