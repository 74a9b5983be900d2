"""The weekly digest by email through GOV.UK Notify (the fake on loopback): once to each
officer, figures only in the body, the table as a file, across 429s, lost answers and
crashes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.theme_runs import analyse_consultation
from bot.config import Config, DatabaseConfig, NotifyConfig, StaffConfig, WebConfig
from bot.notify.digest_email import DigestEmails
from bot.scheduling.digest_job import Digests
from bot.scheduling.scheduler import JobContext, start_scheduler, stop_scheduler
from conversations.residents.service import ConversationService
from conversations.staff import digest_emails
from conversations.storage.models import Consultation, Digest, DigestEmail, utcnow
from tests.example_consultation import ALL_NEEDS, seed
from tests.fakes.notify import FakeNotify, Template

OFFICERS = ("jo@council.example.gov.uk", "sam@council.example.gov.uk")
LATER = timedelta(days=7)  # a week on, so this week's answers are in the digest
BODY = ("Digest for ((consultation)), ((period)).\n\n((summary))\n\nRead it: ((link))\n"
        "The table: ((link_to_file))")  # fmt: skip


class Crash(BaseException):
    """The process dying: not an error anything catches."""


@dataclass
class Notify:
    server: FakeNotify
    key: str
    template: Template


@pytest.fixture
async def notify() -> AsyncIterator[Notify]:
    async with FakeNotify() as server:
        key = server.new_api_key()
        template = server.add_template(BODY, subject="Weekly digest: ((consultation))")
        yield Notify(server, key.value, template)


@pytest.fixture
def seeded(db: Engine) -> Engine:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    seed(ConversationService(db), "a", copies=1)
    analyse_consultation(db, "example", actor="test", n_themes=3)
    with Session(db) as session, session.begin():
        consultation = session.exec(select(Consultation)).one()
        consultation.created_at -= timedelta(days=30)
        session.add(consultation)
    return db


def config(db: Engine, notify: Notify, *, template: str | None = None,
           telegram: tuple[int, ...] = ()) -> Config:  # fmt: skip
    return Config(
        database=DatabaseConfig(url=str(db.url)),
        web=WebConfig(public_url="https://needs.example.gov.uk"),
        staff=StaffConfig(officers=telegram, officer_emails=OFFICERS),
        notify=NotifyConfig(
            api_key=notify.key,
            base_url=notify.server.base_url,
            digest_template_id=template or notify.template.id,
        ),
    )


def job(db: Engine, notify: Notify, **kwargs: Any) -> Digests:
    digests = Digests(config(db, notify, **kwargs), db, None)
    assert digests.emails is not None
    digests.emails.settle_after = timedelta(0)  # the tests' lost answers are not in flight
    return digests


def rows(db: Engine) -> dict[str, str]:
    with Session(db) as session:
        digest = session.exec(select(Digest)).one()
        assert digest.id is not None
        return digest_emails.states(session=session, digest_id=digest.id)


async def test_each_officer_gets_figures_a_link_and_the_table_once(
    notify: Notify, seeded: Engine
) -> None:
    digests = job(seeded, notify)
    await digests.catch_up(now=utcnow() + LATER)
    await digests.catch_up(now=utcnow() + LATER)  # the next tick: nothing more
    assert rows(seeded) == dict.fromkeys(OFFICERS, "sent")
    for address in OFFICERS:
        (email,) = notify.server.emails_to(address)
        assert email.subject.startswith("Weekly digest: ")
        assert "New residents taking part: " in email.body and "Themes: " in email.body
        assert "https://needs.example.gov.uk/staff/digests/" in email.body
        (table,) = email.files.values()
        assert table.filename is not None and table.filename.endswith(".csv")
        assert table.mimetype == "text/csv" and table.confirm_email_before_download
        assert table.url in email.body
        # Residents' words are in the file, behind Notify's address check, never in the body.
        quotes = {c for row in csv.reader(io.StringIO(table.content.decode())) for c in row}
        assert any(need in cell for cell in quotes for need in ALL_NEEDS)
        assert not any(need in email.body for need in ALL_NEEDS)
    with Session(seeded) as session:
        digest = session.exec(select(Digest)).one()
        assert digest.cleared_at is not None and digest.csv == ""  # every officer had it
        assert digest.figures  # figures only: kept
    digests.close()


async def test_documents_are_kept_until_telegram_officers_have_them_too(
    notify: Notify, seeded: Engine
) -> None:
    digests = job(seeded, notify, telegram=(201,))  # Telegram is off in this process
    await digests.catch_up(now=utcnow() + LATER)
    assert rows(seeded) == dict.fromkeys(OFFICERS, "sent")
    with Session(seeded) as session:
        assert session.exec(select(Digest)).one().cleared_at is None
    digests.close()


async def test_a_429_waits_for_the_next_pass_and_sends_once(notify: Notify, seeded: Engine) -> None:
    notify.server.inject_fault(429, kind="RateLimitError",
                               message="Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds")  # fmt: skip
    digests = job(seeded, notify)
    await digests.catch_up(now=utcnow() + LATER)
    assert rows(seeded) == dict.fromkeys(OFFICERS, "pending")  # the rest wait too
    await digests.catch_up(now=utcnow() + LATER)
    assert rows(seeded) == dict.fromkeys(OFFICERS, "sent")
    assert all(len(notify.server.emails_to(a)) == 1 for a in OFFICERS)
    digests.close()


async def test_a_lost_answer_is_looked_up_not_sent_again(notify: Notify, seeded: Engine) -> None:
    notify.server.lose_answers = 1  # Notify takes jo's email; its answer never arrives
    digests = job(seeded, notify)
    await digests.catch_up(now=utcnow() + LATER)
    assert rows(seeded) == {OFFICERS[0]: "sending", OFFICERS[1]: "sent"}
    await digests.catch_up(now=utcnow() + LATER)
    assert rows(seeded) == dict.fromkeys(OFFICERS, "sent")
    assert all(len(notify.server.emails_to(a)) == 1 for a in OFFICERS)
    with Session(seeded) as session:
        found = session.exec(select(DigestEmail).where(DigestEmail.address == OFFICERS[0])).one()
        assert found.notify_id == notify.server.emails_to(OFFICERS[0])[0].id
    digests.close()


async def test_a_5xx_notify_did_not_take_is_sent_again_once(notify: Notify, seeded: Engine) -> None:
    notify.server.inject_fault(500)
    digests = job(seeded, notify)
    await digests.catch_up(now=utcnow() + LATER)
    assert rows(seeded)[OFFICERS[0]] == "sending" and notify.server.emails_to(OFFICERS[0]) == []
    await digests.catch_up(now=utcnow() + LATER)  # Notify has no such message: send it
    assert rows(seeded) == dict.fromkeys(OFFICERS, "sent")
    assert all(len(notify.server.emails_to(a)) == 1 for a in OFFICERS)
    digests.close()


async def test_a_crash_after_notify_took_it_sends_nothing_twice(
    notify: Notify, seeded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = job(seeded, notify)
    recorded = DigestEmails._record

    def dies(self: DigestEmails, email_id: int, state: str, notify_id: str | None) -> None:
        raise Crash  # the email went; the process died before writing so

    monkeypatch.setattr(DigestEmails, "_record", dies)
    with pytest.raises(Crash):
        await first.catch_up(now=utcnow() + LATER)
    first.close()
    monkeypatch.setattr(DigestEmails, "_record", recorded)
    assert rows(seeded) == {OFFICERS[0]: "sending", OFFICERS[1]: "pending"}
    restarted = job(seeded, notify)
    await restarted.catch_up(now=utcnow() + LATER)
    assert rows(seeded) == dict.fromkeys(OFFICERS, "sent")
    assert all(len(notify.server.emails_to(a)) == 1 for a in OFFICERS)
    restarted.close()


async def test_a_template_without_the_file_placeholder_is_refused_and_recorded(
    notify: Notify, seeded: Engine
) -> None:
    bare = notify.server.add_template("((consultation)) ((period)) ((summary)) ((link))")
    digests = job(seeded, notify, template=bare.id)
    await digests.catch_up(now=utcnow() + LATER)
    assert rows(seeded) == dict.fromkeys(OFFICERS, "failed")
    assert notify.server.sent == []
    assert notify.server.rejected[0][0] == 400
    digests.close()


async def test_a_quiet_week_says_so_without_a_file(notify: Notify, seeded: Engine) -> None:
    digests = job(seeded, notify)
    await digests.catch_up(now=utcnow() + LATER + timedelta(days=14))
    (email,) = notify.server.emails_to(OFFICERS[0])
    assert "Nothing new this week" in email.body and email.files == {}
    digests.close()


async def test_the_scheduler_s_job_sends_it(notify: Notify, seeded: Engine) -> None:
    """APScheduler itself runs the catch-up job, as the service does."""
    digests = job(seeded, notify)
    with Session(seeded) as session, session.begin():  # answers from before the last period
        for consultation in session.exec(select(Consultation)):
            consultation.created_at = datetime(2020, 1, 1, tzinfo=UTC)
            session.add(consultation)
    scheduler = start_scheduler(JobContext(digests.config, seeded, digests.registry()),
                                weekly={"digest": "officers' digest"})  # fmt: skip
    try:
        scheduler.modify_job("tick:digest-catch-up", next_run_time=datetime.now(UTC))
        scheduler.wakeup()
        for _ in range(600):
            if len(notify.server.sent) == len(OFFICERS):
                break
            await asyncio.sleep(0.1)
    finally:
        await stop_scheduler(scheduler)
        digests.close()
    assert sorted(s.to for s in notify.server.sent) == sorted(OFFICERS)


CHILD = """
import asyncio, sys
from datetime import datetime, timedelta
from bot.config import Config, DatabaseConfig, NotifyConfig, StaffConfig, WebConfig
from bot.scheduling.digest_job import Digests
from conversations.storage.db import make_engine

url, base, key, template, now = sys.argv[1:6]
db = make_engine(url)
config = Config(database=DatabaseConfig(url=url), web=WebConfig(public_url="https://x.gov.uk"),
                staff=StaffConfig(officer_emails=tuple(sys.argv[6:])),
                notify=NotifyConfig(api_key=key, base_url=base, digest_template_id=template))
digests = Digests(config, db, None)
digests.emails.settle_after = timedelta(0)
asyncio.run(digests.catch_up(now=datetime.fromisoformat(now)))
digests.close()
"""


@pytest.mark.slow
async def test_a_process_killed_while_notify_holds_the_email_sends_nothing_twice(
    notify: Notify, seeded: Engine, db_url: str
) -> None:
    """A real process, SIGKILLed while Notify has taken jo's email and not yet answered;
    the next process asks Notify, records it, and sends sam's alone."""
    import os
    import signal
    import sys

    now = (utcnow() + LATER).isoformat()
    arguments = [sys.executable, "-c", CHILD, db_url, notify.server.base_url, notify.key,
                 notify.template.id, now, *OFFICERS]  # fmt: skip
    environment = os.environ | {"PYTHONPATH": os.getcwd()}
    notify.server.stall_answers = 1
    child = await asyncio.create_subprocess_exec(*arguments, env=environment,
                                                 start_new_session=True)  # fmt: skip
    try:
        for _ in range(600):
            if notify.server.sent:
                break
            await asyncio.sleep(0.1)
        assert [s.to for s in notify.server.sent] == [OFFICERS[0]]
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        await asyncio.wait_for(child.wait(), 10)
    assert rows(seeded) == {OFFICERS[0]: "sending", OFFICERS[1]: "pending"}
    again = await asyncio.create_subprocess_exec(*arguments, env=environment)
    assert await asyncio.wait_for(again.wait(), 120) == 0
    assert rows(seeded) == dict.fromkeys(OFFICERS, "sent")
    assert all(len(notify.server.emails_to(a)) == 1 for a in OFFICERS)
