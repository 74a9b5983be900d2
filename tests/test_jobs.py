"""Scheduled jobs: reminders, safeguarding alerts, rounds on time; jobs stored in the database."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select
from telegram import Bot

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.config import Config, StaffConfig
from bot.scheduling.jobs import Jobs, registry
from bot.scheduling.scheduler import JobContext, start_scheduler, stop_scheduler
from conversations.flow.inputs import TextInput
from conversations.residents.service import ConversationService
from conversations.storage import store
from conversations.storage.models import Conversation, Round
from tests.example_consultation import Resident_, complete_example
from tests.fakes.telegram_api import FakeBotAPI, Fault


def delivered(fake: FakeBotAPI) -> list[tuple[int, str]]:
    """(chat, text) of every sendMessage Telegram accepted: a call alone proves nothing."""
    return [
        (int(c.params["chat_id"]), c.params["text"])
        for c in fake.calls_to("sendMessage")
        if c.status == 200
    ]


def idle(db: Engine, hours: int) -> None:
    with Session(db) as session, session.begin():
        for conversation in session.exec(select(Conversation)):
            conversation.updated_at -= timedelta(hours=hours)
            session.add(conversation)


async def test_one_gentle_reminder_only_for_those_part_way(
    db: Engine, service: ConversationService, fake: FakeBotAPI, telegram_bot: Bot
) -> None:
    part_way = Resident_(service, "501")
    part_way.start()
    part_way.press("happy to take part")
    done = Resident_(service, "502")
    complete_example(done)
    declined = Resident_(service, "503")
    declined.start()
    declined.press("No thanks")
    stopped = Resident_(service, "504")
    stopped.start()
    stopped.press("happy to take part")
    service.stop(stopped.who)
    for chat in (501, 502, 503, 504, 505):
        fake.user(chat, started=True)  # they wrote to the bot, so it may write back
    jobs = Jobs(Config(), db, telegram_bot)

    await jobs.reminders()
    assert fake.calls_to("sendMessage") == []  # not idle long enough yet
    idle(db, 25)
    await jobs.reminders()
    await jobs.reminders()  # never more than one
    assert [chat for chat, _ in delivered(fake)] == [501]
    assert len(fake.calls_to("sendMessage")) == 1
    reminder = fake.user(501).messages[-1]
    assert "only reminder" in reminder["text"]
    # Its button takes the resident back to the consultation.
    assert fake.user(501).last_keyboard_labels() != []

    # After the round closes, nobody is reminded.
    late = Resident_(service, "505")
    late.start()
    late.press("happy to take part")
    idle(db, 25)
    with Session(db) as session, session.begin():
        store.close_round(
            session=session,
            consultation=store.require_consultation(session=session, slug="example"),
        )
    await jobs.reminders()
    assert len(fake.calls_to("sendMessage")) == 1
    assert fake.user(505).messages == []


async def test_reminders_are_paced_and_wait_out_telegrams_flood_limit(
    db: Engine, service: ConversationService, fake: FakeBotAPI, telegram_bot: Bot
) -> None:
    """More reminders than Telegram takes in a second: every one arrives, none is lost."""
    chats = list(range(7001, 7046))
    for chat in chats:
        resident = Resident_(service, str(chat))
        resident.start()
        resident.press("happy to take part")
        fake.user(chat, started=True)
    idle(db, 25)
    fake.inject_fault("sendMessage", Fault.flood(retry_after=1))  # and one 429 besides
    await Jobs(Config(), db, telegram_bot).reminders()
    assert sorted(chat for chat, _ in delivered(fake)) == chats
    assert all("only reminder" in fake.user(chat).texts[-1] for chat in chats)


async def test_no_reminder_reaches_a_resident_the_bot_cannot_reach(
    db: Engine, service: ConversationService, fake: FakeBotAPI, telegram_bot: Bot
) -> None:
    """A 403 marks the resident unreachable, and nothing is sent to them again."""
    from conversations.storage.models import Resident

    for chat in ("801", "802"):
        resident = Resident_(service, chat)
        resident.start()
        resident.press("happy to take part")
    fake.user(801, started=True)
    fake.user(802, started=True)
    fake.blocked.add(802)
    idle(db, 25)
    await Jobs(Config(), db, telegram_bot).reminders()
    assert [chat for chat, _ in delivered(fake)] == [801]
    with Session(db) as session:
        unreachable = session.exec(select(Resident).where(Resident.unreachable)).all()
    assert len(unreachable) == 1
    # Marked unreachable: a later reminder round (even if one were due) skips them.
    with Session(db) as session, session.begin():
        for conversation in session.exec(select(Conversation)):
            conversation.reminded_at = None
            session.add(conversation)
    idle(db, 25)
    fake.blocked.clear()
    await Jobs(Config(), db, telegram_bot).reminders()
    assert [chat for chat, _ in delivered(fake)] == [801, 801]
    assert fake.user(802).messages == []


async def test_safeguarding_leads_are_told_once_without_what_was_said(
    db: Engine,
    service: ConversationService,
    fake: FakeBotAPI,
    telegram_bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The scheduler's job; waiting, retries and escalation: tests/test_safeguarding_alerts.py."""
    service.receive(engine_who("601"), TextInput("I can't go on, I want to end my life"))
    no_leads = Jobs(Config(), db, telegram_bot)
    with caplog.at_level(logging.WARNING):
        await no_leads.safeguarding_alerts()
    assert "no safeguarding lead can be reached" in caplog.text
    assert "end my life" not in caplog.text

    service.receive(engine_who("602"), TextInput("my dad hits me and my little sister every night"))
    fake.user(9001, started=True), fake.user(9002, started=True)
    jobs = Jobs(replace(Config(), staff=StaffConfig(safeguarding=(9001, 9002))), db, telegram_bot)
    await jobs.safeguarding_alerts()
    await jobs.safeguarding_alerts()
    alerts = delivered(fake)
    assert sorted(chat for chat, _ in alerts) == [9001, 9001, 9002, 9002]  # 2 flags
    assert len(fake.user(9001).messages) == len(fake.user(9002).messages) == 2
    assert not any("dad hits me" in text for _, text in alerts)


def engine_who(uid: str):  # type: ignore[no-untyped-def]
    from conversations.residents.service import Who

    return Who("telegram", uid, uid, "en")


async def test_jobs_are_stored_in_the_database_and_survive_a_restart(
    db: Engine, telegram_bot: Bot
) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test")
    context = JobContext(Config(), db, registry(Jobs(Config(), db, telegram_bot)))
    scheduler = start_scheduler(context)
    await stop_scheduler(scheduler)
    assert "scheduler_jobs" in inspect(db).get_table_names()
    with db.connect() as connection:
        stored = {row[0] for row in connection.execute(text("SELECT id FROM scheduler_jobs"))}
    assert stored == {
        "tick:rounds",
        "tick:reminders",
        "tick:safeguarding",
        "tick:housekeeping",
        "tick:unsendable",
        "tick:retention",
        "tick:embeddings",
    }
    # Starting again replaces the stored jobs instead of adding copies.
    scheduler = start_scheduler(context)
    await stop_scheduler(scheduler)
    with db.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM scheduler_jobs")).scalar() == 7


async def test_a_due_job_runs_on_the_event_loop(db: Engine) -> None:
    """The scheduler's bookkeeping runs in its own thread; the job itself on the loop."""
    ran = asyncio.Event()
    threads: list[int] = []

    async def job() -> None:
        threads.append(threading.get_ident())
        ran.set()

    scheduler = start_scheduler(JobContext(Config(), db, {"probe": job}))
    try:
        scheduler.modify_job("tick:probe", next_run_time=datetime.now(UTC))
        scheduler.wakeup()
        await asyncio.wait_for(ran.wait(), 10)
    finally:
        await stop_scheduler(scheduler)
    assert threads == [threading.get_ident()]


async def test_rounds_job_opens_a_due_round(db: Engine, telegram_bot: Bot) -> None:
    from conversations.staff.rounds import Rounds
    from conversations.storage.models import utcnow

    load_consultation(db, EXAMPLE_SCRIPT, actor="test")
    Rounds(db).schedule(
        "example", actor="test", opens_at=utcnow() + timedelta(seconds=1), closes_at=None
    )
    await Jobs(Config(), db, telegram_bot).rounds_due()
    assert Rounds(db).consultations()[0].status == "draft"
    with Session(db) as session, session.begin():
        for round_ in session.exec(select(Round)):
            round_.opens_at = utcnow() - timedelta(minutes=1)
            session.add(round_)
    await Jobs(Config(), db, telegram_bot).rounds_due()
    assert Rounds(db).consultations()[0].status == "open"


async def test_a_scheduled_prioritise_round_opens_with_the_themes_of_that_moment(
    db: Engine, fake: FakeBotAPI, telegram_bot: Bot
) -> None:
    from conversations.staff.rounds import Rounds
    from conversations.storage.models import RoundTheme, utcnow
    from tests.prioritise_helpers import seed_run

    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    rounds = Rounds(db)
    rounds.close("example", actor="test")
    scheduled = rounds.schedule(
        "example", actor="test", opens_at=utcnow() + timedelta(days=2), closes_at=None,
        kind="prioritise",
    )  # fmt: skip
    assert (scheduled.number, scheduled.kind, scheduled.status) == (2, "prioritise", "draft")
    seed_run(db, ["Buses stop early", "Nowhere for teenagers", "Damp homes"])  # after scheduling

    def due_now() -> None:
        with Session(db) as session, session.begin():
            round_ = session.exec(select(Round).where(Round.number == 2)).one()
            round_.opens_at = utcnow() - timedelta(minutes=1)
            session.add(round_)

    due_now()
    jobs = Jobs(replace(Config(), staff=StaffConfig(facilitators=(5001,))), db, telegram_bot)
    await jobs.rounds_due()
    with Session(db) as session:
        round_ = session.exec(select(Round).where(Round.number == 2)).one()
        shown = session.exec(select(RoundTheme).where(RoundTheme.round_id == round_.id)).all()
    assert (round_.kind, round_.status) == ("prioritise", "open")
    assert sorted(t.label for t in shown) == [
        "Buses stop early",
        "Damp homes",
        "Nowhere for teenagers",
    ]
    assert fake.calls_to("sendMessage") == []  # nothing to tell anyone


async def test_a_scheduled_prioritise_round_without_themes_waits_and_facilitators_are_told(
    db: Engine, fake: FakeBotAPI, telegram_bot: Bot
) -> None:
    from conversations.staff.rounds import Rounds
    from conversations.storage.models import AuditEntry, utcnow

    load_consultation(db, EXAMPLE_SCRIPT, actor="test")
    Rounds(db).schedule(
        "example", actor="test", opens_at=utcnow() + timedelta(hours=1), closes_at=None,
        kind="prioritise",
    )  # fmt: skip
    with Session(db) as session, session.begin():
        round_ = session.exec(select(Round)).one()
        round_.opens_at = utcnow() - timedelta(minutes=1)
        session.add(round_)
    staff = StaffConfig(facilitators=(5001, 5002), admins=(5002, 5003))
    for chat in (5001, 5002, 5003):
        fake.user(chat, started=True)
    jobs = Jobs(replace(Config(), staff=staff), db, telegram_bot)
    await jobs.rounds_due()
    await jobs.rounds_due()  # not tried again, and nobody told twice
    with Session(db) as session:
        round_ = session.exec(select(Round)).one()
        audit = session.exec(
            select(AuditEntry).where(AuditEntry.action == "round.not_opened")
        ).all()
    assert (round_.status, round_.opens_at) == ("draft", None)
    assert len(audit) == 1 and "review the themes first" in audit[0].detail
    told = delivered(fake)
    assert sorted(chat for chat, _ in told) == [5001, 5002, 5003]
    for chat in (5001, 5002, 5003):
        (text,) = fake.user(chat).texts
        assert "Round 1 of example was due to open now and did not" in text
        assert "/open example prioritise" in text


async def test_identities_are_dropped_after_retention_and_answers_stay(
    db: Engine, service: ConversationService, telegram_bot: Bot
) -> None:
    from conversations.storage.models import Answer, ChannelIdentity, Resident, utcnow

    complete_example(Resident_(service, "701"))
    with Session(db) as session, session.begin():
        store.close_round(
            session=session,
            consultation=store.require_consultation(session=session, slug="example"),
        )
    jobs = Jobs(Config(), db, telegram_bot)
    await jobs.drop_old_identities()
    with Session(db) as session:
        assert len(session.exec(select(ChannelIdentity)).all()) == 1  # closed, but not 180 days ago
        for round_ in session.exec(select(Round)):
            round_.closed_at = utcnow() - timedelta(days=181)
            session.add(round_)
        session.commit()
    await jobs.drop_old_identities()
    with Session(db) as session:
        assert session.exec(select(ChannelIdentity)).all() == []
        assert len(session.exec(select(Answer)).all()) == 6  # the answers stay, pseudonymised
        assert len(session.exec(select(Resident)).all()) == 1
