"""Decisions back to residents: exactly the residents in the theme are told, and it is audited."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.decisions import DecisionError, decide
from bot.actions.digests import build
from bot.actions.theme_runs import analyse_consultation
from bot.app import Service
from bot.config import StaffConfig
from conversations.residents.service import ConversationService
from conversations.staff import theme_edits, themes
from conversations.storage.db import make_engine
from conversations.storage.models import (
    Answer,
    AuditEntry,
    Broadcast,
    BroadcastRecipient,
    ChannelIdentity,
    Decision,
    Resident,
    in_language,
    utcnow,
)
from tests.command_line import needsfirst
from tests.example_consultation import TOPICS, seed, theme_of
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_harness import complete_example, expect

FACILITATOR, OFFICER = 111, 222


def test_only_the_residents_in_the_theme_hear_and_it_is_audited(db: Engine) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    seed(ConversationService(db), "a")
    analyse_consultation(db, "example", actor="test", n_themes=3)
    run_id, theme_id = theme_of(db, "buses")
    with Session(db) as session, session.begin():
        raised = themes.residents_in_theme(session=session, run_id=run_id, theme_id=theme_id)
        stopped, blocked = raised[0], raised[1]
        for resident_id, field in ((stopped, "invitations"), (blocked, "unreachable")):
            resident = session.get(Resident, resident_id)
            assert resident is not None
            setattr(resident, field, field == "unreachable")
            session.add(resident)
    with pytest.raises(DecisionError, match="not reviewed"):
        decide(db, "example", theme_id, "The 7pm bus will run until 11pm.", actor="staff:222")
    with Session(db) as session, session.begin():
        theme_edits.confirm(session=session, slug="example", theme_id=theme_id, actor="staff:222")
    with pytest.raises(DecisionError, match="10 to 1500"):
        decide(db, "example", theme_id, "ok", actor="staff:222")
    with pytest.raises(DecisionError, match="no current theme 99"):
        decide(db, "example", 99, "The buses will run later.", actor="staff:222")
    result = decide(db, "example", theme_id, "The 7pm bus will run until 11pm.", actor="staff:222")
    assert result.residents == len(raised) - 2
    with Session(db) as session:
        recipients = session.exec(
            select(BroadcastRecipient.resident_id).where(
                BroadcastRecipient.broadcast_id == result.broadcast_id
            )
        ).all()
        assert sorted(recipients) == sorted(set(raised) - {stopped, blocked})
        # Everyone who wrote about buses is among them (residents_in_theme also counts
        # answers for which the theme was a second match).
        bus_riders = set(
            session.exec(
                select(Answer.resident_id).where(
                    Answer.step_id == "need",
                    col(Answer.value).in_([f"{n}{e}" for n in TOPICS["buses"] for e in ("", "!")]),
                )
            ).all()
        )
        assert bus_riders - {stopped, blocked} <= set(recipients)
        broadcast = session.get(Broadcast, result.broadcast_id)
        assert broadcast is not None and broadcast.status == "queued"
        assert "You said, we did" in broadcast.message and "11pm" in broadcast.message
        # Each resident is sent it in their language: the frame in Welsh, the officer's
        # words and the theme's name as written.
        welsh = in_language(broadcast.message, broadcast.translations, "cy")
        assert welsh.startswith("Dywedoch chi, fe wnaethon ni:") and "11pm" in welsh
        assert in_language(broadcast.message, broadcast.translations, "en") == broadcast.message
        decision = session.exec(select(Decision)).one()
        assert (decision.actor, decision.theme_id, decision.residents_told) == (
            "staff:222",
            theme_id,
            len(recipients),
        )
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "decision.record")).one()
        assert audit.actor == "staff:222" and f"theme {theme_id}" in audit.target
    # The week's digest lists it.
    end = utcnow() + timedelta(minutes=1)
    documents, _ = build(
        db, "example", start=end - timedelta(days=7), end=end, zone=ZoneInfo("Europe/London")
    )
    assert "The 7pm bus will run until 11pm." in documents.html
    assert f"Sent to {len(recipients)} residents who raised it" in documents.html


@pytest.mark.slow  # a dozen command-line processes on each database
def test_the_command_line_records_a_decision(tmp_path, db_url: str, db: Engine) -> None:  # type: ignore[no-untyped-def]
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    seed(ConversationService(db), "a", copies=1)
    analyse_consultation(db, "example", actor="test", n_themes=3)
    _, theme_id = theme_of(db, "damp")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', encoding="utf-8"
    )
    decide_args = ("decide", "example", str(theme_id), "--text", "Damp repairs within 28 days.")
    proposed = needsfirst(config, *decide_args, "--yes")
    assert proposed.returncode == 2 and "not reviewed" in proposed.stderr
    accepted = needsfirst(config, "theme", "accept", "example", str(theme_id))
    assert accepted.returncode == 0, accepted.stderr
    unconfirmed = needsfirst(config, *decide_args)  # no terminal to ask on: nothing sent
    assert unconfirmed.returncode == 2 and "confirm with --yes" in unconfirmed.stderr
    assert (
        f"Theme {theme_id} (" in unconfirmed.stderr and "residents raised it" in unconfirmed.stderr
    )
    with Session(db) as session:
        assert (
            session.exec(select(AuditEntry).where(AuditEntry.action == "decision.record")).all()
            == []
        )
    done = needsfirst(config, *decide_args, "--yes")
    assert done.returncode == 0, done.stderr
    with Session(db) as session:
        run = themes.latest_run(session=session, consultation_id=1)
        assert run is not None and run.id is not None
        raised = themes.residents_in_theme(session=session, run_id=run.id, theme_id=theme_id)
    assert f"on theme {theme_id}" in done.stdout
    assert f"is being sent to the {len(raised)} residents" in done.stdout
    missing = needsfirst(
        config, "decide", "example", "99", "--text", "Something decided here.", "--yes"
    )
    assert missing.returncode == 2 and "no current theme 99" in missing.stderr
    report = tmp_path / "digest.html"
    written = needsfirst(config, "digest", "example", "--out", str(report))
    assert written.returncode == 0, written.stderr
    assert "Damp repairs within 28 days." in report.read_text(encoding="utf-8")
    with Session(db) as session:
        assert session.exec(select(AuditEntry).where(col(AuditEntry.actor).startswith("cli"))).all()


@pytest.fixture
def bot_staff() -> StaffConfig:
    return StaffConfig(facilitators=(FACILITATOR,), officers=(OFFICER,))


async def test_officers_decide_and_read_the_digest_in_telegram(
    fake: FakeBotAPI, bot: Service, db_url: str
) -> None:
    assert bot.scheduler is not None
    assert bot.scheduler.get_job("weekly:digest") is not None  # Monday 09:00 by default
    assert bot.scheduler.get_job("tick:digest-catch-up") is not None
    needs = {
        5001: TOPICS["buses"][0],
        5002: TOPICS["buses"][1],
        5003: TOPICS["damp"][0],
        5004: TOPICS["damp"][1],
        5005: TOPICS["buses"][2],
    }
    for user_id, need in needs.items():
        await complete_example(fake.user(user_id), need)
    staff, officer = fake.user(FACILITATOR), fake.user(OFFICER)
    await staff.send_command("/decide", "example 1 The buses will run later.")
    await expect(staff, "only for the consultation team")
    await officer.send_command("/decide", "example 1 The buses will run later.")
    await expect(officer, "Not done: 'example' has not been analysed yet")
    await staff.send_command("/analyse", "example 2")
    await expect(staff, "Analysis run", timeout=60)
    db = make_engine(db_url)
    try:
        run_id, theme_id = theme_of(db, "buses")
        with Session(db) as session:
            raised = themes.residents_in_theme(session=session, run_id=run_id, theme_id=theme_id)
            chats = {
                int(c)
                for c in session.exec(
                    select(ChannelIdentity.chat_id).where(
                        col(ChannelIdentity.resident_id).in_(raised)
                    )
                )
            }
    finally:
        db.dispose()
    assert chats and chats < set(needs)  # the theme's residents, not everyone
    await officer.send_command("/decide", f"example {theme_id} The last bus will run at 11pm.")
    await expect(officer, "Not done: theme")  # proposed, not reviewed
    await officer.send_command("/accept", f"example {theme_id}")
    await expect(officer, "is in the codebook")
    await officer.send_command("/decide", f"example {theme_id} The last bus will run at 11pm.")
    shown = await expect(officer, f"{len(chats)} can be sent the decision")
    assert f"/decide confirm example {theme_id} The last bus will run at 11pm." in shown
    assert not any("You said, we did" in t for u in needs for t in fake.user(u).texts)
    await officer.send_command(
        "/decide", f"confirm example {theme_id} The last bus will run at 11pm."
    )
    await expect(officer, f"is being sent to the {len(chats)} resident")
    for user_id in chats:
        await expect(fake.user(user_id), "You said, we did", timeout=15)
    for user_id in set(needs) - chats:
        assert not any("You said, we did" in t for t in fake.user(user_id).texts)
    await officer.send_command("/digest", "example")
    await expect(officer, "That was the digest of the last 7 days", timeout=60)
    assert any(t.startswith("Weekly digest") for t in officer.texts)
    names = [d.filename or "" for d in officer.documents]
    assert len(names) == 2 and names[0].endswith(".html") and names[1].endswith(".csv")
    report = officer.documents[0].data.decode("utf-8")
    assert "The last bus will run at 11pm." in report
    # Where it stands, from Telegram: facilitators read it, officers set it.
    await staff.send_command("/decisions", "example")
    listed = await expect(staff, "The last bus will run at 11pm.")
    decision_id = int(listed.split("Decision ", 1)[1].split(",", 1)[0])
    assert "agreed" in listed
    await staff.send_command("/progress", f"example {decision_id} under_way")
    await expect(staff, "only for the consultation team")
    await officer.send_command("/progress", f"example {decision_id} sideways")
    await expect(officer, "Not done: 'sideways' is not a decision status")
    await officer.send_command("/progress", f"example {decision_id} under_way New buses ordered")
    await expect(officer, "is now under way (was agreed): New buses ordered")
    await officer.send_command("/decisions", "example")
    await expect(officer, "under way since")
