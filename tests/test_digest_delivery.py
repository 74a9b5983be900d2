"""Sending the weekly digest: once to each officer, across blocks, crashes and restarts."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from telegram import Bot

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.config import Config, DatabaseConfig, StaffConfig
from bot.scheduling.digest_job import Digests
from bot.telegram.pacing import SendBudget
from conversations.residents.service import ConversationService
from conversations.storage.models import AuditEntry, Consultation, Digest, DigestDelivery, utcnow
from tests.example_consultation import seed
from tests.fakes.telegram_api import FakeBotAPI

OFFICERS = (201, 202, 203)
LATER = timedelta(days=7)  # the tests' "now": a week on, so this week's answers are in it


class Crash(BaseException):
    """The process dying: not an error anything catches."""


class CrashingBot:
    """A bot that dies right after its n-th successful send (the message did go)."""

    def __init__(self, bot: Bot, after: int) -> None:
        self.bot, self.after, self.sends = bot, after, 0

    async def _count(self, result: Any) -> Any:
        self.sends += 1
        if self.sends == self.after:
            raise Crash
        return result

    async def send_message(self, *args: Any, **kwargs: Any) -> Any:
        return await self._count(await self.bot.send_message(*args, **kwargs))

    async def send_document(self, *args: Any, **kwargs: Any) -> Any:
        return await self._count(await self.bot.send_document(*args, **kwargs))


@pytest.fixture
def fake(fake: FakeBotAPI) -> FakeBotAPI:
    for officer in OFFICERS:
        fake.user(officer, started=True)  # each pressed Start once
    return fake


@pytest.fixture
def seeded(db: Engine) -> Engine:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    seed(ConversationService(db), "a", copies=1)
    with Session(db) as session, session.begin():
        consultation = session.exec(select(Consultation)).one()
        consultation.created_at -= timedelta(days=30)  # loaded long before the digest is due
        session.add(consultation)
    return db


def digests(db: Engine, bot: Any, officers: tuple[int, ...] = OFFICERS) -> Digests:
    config = Config(database=DatabaseConfig(url=str(db.url)), staff=StaffConfig(officers=officers))
    return Digests(config, db, bot, SendBudget(per_chat=0.0))


def received(fake: FakeBotAPI, officer: int) -> list[str]:
    """The summaries and the files an officer was sent."""
    user = fake.user(officer)
    summaries = [t[:16] for t in user.texts if t.startswith("Weekly digest")]
    return summaries + [d.filename or "" for d in user.documents]


def states(db: Engine) -> dict[int, str]:
    with Session(db) as session:
        return {d.officer_id: d.state for d in session.exec(select(DigestDelivery))}


async def test_each_officer_gets_it_once_and_a_blocked_one_stops_nobody(
    fake: FakeBotAPI, telegram_bot: Bot, seeded: Engine
) -> None:
    fake.blocked.add(202)
    job = digests(seeded, telegram_bot)
    await job.catch_up(now=utcnow() + LATER)
    job._failed.clear()  # as the scheduled weekly run does
    await job.catch_up(now=utcnow() + LATER)
    for officer in (201, 203):
        got = received(fake, officer)
        assert len(got) == 3 and got[0] == "Weekly digest: W", got
        assert got[1].endswith(".html") and got[2].endswith(".csv")
    assert received(fake, 202) == []
    assert states(seeded) == {201: "sent", 202: "blocked", 203: "sent"}
    with Session(seeded) as session:
        digest = session.exec(select(Digest)).one()  # built once
        assert digest.cleared_at is not None and digest.html == ""  # delivered, then dropped
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "digest.build")).one()
    report = fake.user(201).documents[0].data.decode("utf-8")
    assert '<h2 id="needs">What residents need</h2>' in report
    job.close()


async def test_a_crash_mid_send_sends_nothing_twice(
    fake: FakeBotAPI, telegram_bot: Bot, seeded: Engine
) -> None:
    first = digests(seeded, CrashingBot(telegram_bot, after=4))  # dies after 202's summary went out
    with pytest.raises(Crash):
        await first.catch_up(now=utcnow() + LATER)
    first.close()
    assert states(seeded) == {201: "sent", 202: "sending", 203: "pending"}
    restarted = digests(seeded, telegram_bot)
    await restarted.catch_up(now=utcnow() + LATER)
    await restarted.catch_up(now=utcnow() + LATER)
    for officer in OFFICERS:
        got = received(fake, officer)
        assert len(got) == 3 and got[0] == "Weekly digest: W", got
        assert got[1].endswith(".html") and got[2].endswith(".csv")
    assert states(seeded) == {201: "sent", 202: "sent", 203: "sent"}
    restarted.close()


async def test_no_officers_is_a_warning(
    fake: FakeBotAPI, telegram_bot: Bot, seeded: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    job = digests(seeded, telegram_bot, officers=())
    with caplog.at_level(logging.WARNING, logger="bot.actions.digests"):
        await job.catch_up(now=utcnow() + LATER)
    assert "no officers are configured" in caplog.text
    assert all(received(fake, o) == [] for o in OFFICERS)
    with Session(seeded) as session:
        assert len(session.exec(select(Digest)).all()) == 1
    job.close()


async def test_a_quiet_week_sends_the_summary_alone(
    fake: FakeBotAPI, telegram_bot: Bot, seeded: Engine
) -> None:
    job = digests(seeded, telegram_bot, officers=(201,))
    await job.catch_up(now=utcnow() + LATER + timedelta(days=14))  # two weeks with no answers
    assert fake.user(201).documents == []
    assert "Nothing new this week" in fake.user(201).texts[0]
    assert states(seeded) == {201: "sent"}
    job.close()
