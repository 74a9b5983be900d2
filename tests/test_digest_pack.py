"""The evidence pack with the weekly digest ([digest] with_pack): to an officer on
Telegram (the fake Bot API) and one by email (the fake GOV.UK Notify), each once,
through APScheduler's own job, across crashes, and dropped once both have it; on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from telegram import Bot

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.digests import WEEK, build, store_digest, with_pack
from bot.actions.theme_runs import analyse_consultation
from bot.config import (
    DAYS,
    Config,
    DatabaseConfig,
    DigestConfig,
    NotifyConfig,
    StaffConfig,
    WebConfig,
)
from bot.notify.digest_email import DigestEmails
from bot.scheduling.digest_job import Digests
from bot.scheduling.scheduler import JobContext, start_scheduler, stop_scheduler
from bot.telegram.digest_delivery import DigestSender
from bot.telegram.pacing import SendBudget
from conversations.residents.service import ConversationService
from conversations.staff import digest_emails
from conversations.storage.models import (
    Answer,
    AuditEntry,
    Consultation,
    Digest,
    DigestDelivery,
    utcnow,
)
from tests.example_consultation import seed
from tests.fakes.notify import FakeNotify
from tests.fakes.telegram_api import FakeBotAPI
from tests.pack_reading import read_pdf
from tests.pack_seed import seed_pack
from tests.test_digest_delivery import Crash, CrashingBot
from tests.test_forget_copies import forget

OFFICER = 201  # on Telegram
ADDRESS = "jo@council.example.gov.uk"  # by email
LONDON = ZoneInfo("Europe/London")
BODY = ("Digest for ((consultation)), ((period)).\n\n((summary))\n\nRead it: ((link))\n"
        "The table: ((link_to_file))\nThe evidence pack: ((pack_file))")  # fmt: skip


@pytest.fixture
async def notify() -> AsyncIterator[tuple[FakeNotify, str, str]]:
    async with FakeNotify() as server:
        template = server.add_template(BODY, subject="Weekly digest: ((consultation))")
        yield server, server.new_api_key().value, template.id


@pytest.fixture
def seeded(db: Engine) -> tuple[Engine, str, set[str]]:
    """Reviewed themes, residents' answers an hour old, the consultation long open; with
    its title and the residents' words."""
    needs = set(seed_pack(db).by_text)
    with Session(db) as session, session.begin():
        for answer in session.exec(select(Answer)):
            answer.answered_at -= timedelta(hours=1)
            session.add(answer)
        consultation = session.exec(select(Consultation)).one()
        consultation.created_at = datetime(2020, 1, 1, tzinfo=UTC)
        session.add(consultation)
        title = consultation.title
    return db, title, needs


def config(db: Engine, notify: tuple[FakeNotify, str, str], *,
           officers: tuple[int, ...] = (OFFICER,)) -> Config:  # fmt: skip
    """with_pack on, the digest due at the minute just gone (this week's answers in it):
    made once a test, so that each process it starts sees the same week."""
    local = datetime.now(LONDON)
    server, key, template = notify
    return Config(
        database=DatabaseConfig(url=str(db.url)),
        web=WebConfig(public_url="https://needs.example.gov.uk"),
        digest=DigestConfig(day=DAYS[local.weekday()], time=f"{local:%H:%M}", with_pack=True),
        staff=StaffConfig(officers=officers, officer_emails=(ADDRESS,)),
        notify=NotifyConfig(api_key=key, base_url=server.base_url, digest_template_id=template),
    )


def job(settings: Config, db: Engine, bot: Any) -> Digests:
    digests = Digests(settings, db, bot, SendBudget(per_chat=0.0))
    assert digests.emails is not None
    digests.emails.settle_after = timedelta(0)  # the tests' lost answers are not in flight
    return digests


def packs_to(fake: FakeBotAPI, officer: int) -> list[bytes]:
    return [d.data for d in fake.user(officer).documents if (d.filename or "").endswith(".pdf")]


def first_page(pdf: bytes) -> str:
    """The PDF's first page as its reader sees it (pypdf), lines joined."""
    return " ".join(read_pdf(pdf).pages[0].split())


def digest_row(db: Engine) -> Digest:
    with Session(db) as session:
        return session.exec(select(Digest)).one()


def delivered(db: Engine) -> bool:
    """The digest is built and every officer, on both channels, has had it."""
    with Session(db) as session:
        digest = session.exec(select(Digest)).first()
        return digest is not None and digest.cleared_at is not None


async def test_the_weekly_job_sends_the_pack_once_by_telegram_and_email(
    fake: FakeBotAPI, telegram_bot: Bot, notify: tuple[FakeNotify, str, str],
    seeded: tuple[Engine, str, set[str]],
) -> None:  # fmt: skip
    db, title, needs = seeded
    fake.user(OFFICER, started=True)
    server = notify[0]
    digests = job(config(db, notify), db, telegram_bot)
    scheduler = start_scheduler(JobContext(digests.config, db, digests.registry()),
                                weekly={"digest": "officers' digest"})  # fmt: skip
    try:
        scheduler.modify_job("tick:digest-catch-up", next_run_time=datetime.now(UTC))
        scheduler.wakeup()
        for _ in range(1200):
            if await asyncio.to_thread(delivered, db):
                break
            await asyncio.sleep(0.1)
        # The next tick finds nothing to send.
        await digests.catch_up()
    finally:
        await stop_scheduler(scheduler)
        digests.close()

    names = [d.filename or "" for d in fake.user(OFFICER).documents]
    assert [n.rpartition(".")[2] for n in names] == ["html", "csv", "pdf"], names
    (sent,) = packs_to(fake, OFFICER)
    assert names[2].endswith("-evidence-pack.pdf") and f"Evidence pack: {title}" in first_page(sent)

    (email,) = server.emails_to(ADDRESS)
    pack = email.files["pack_file"]
    assert pack.mimetype == "application/pdf" and pack.filename == names[2]
    assert pack.confirm_email_before_download and pack.retention_period == "4 weeks"
    assert f"Evidence pack: {title}" in first_page(pack.content) and pack.url in email.body
    assert email.files["link_to_file"].filename.endswith(".csv")  # type: ignore[union-attr]
    assert not any(need in email.body for need in needs)  # residents' words: in files only

    digest = digest_row(db)
    assert digest.with_pack and digest.cleared_at is not None  # both channels had it
    assert digest.pack is None and digest.html == ""  # dropped: it quotes residents
    with Session(db) as session:
        made = session.exec(select(AuditEntry).where(AuditEntry.action == "pack.make")).one()
        assert made.actor == "system:digest"


async def test_a_crash_on_either_channel_sends_the_pack_nobody_twice(
    fake: FakeBotAPI, telegram_bot: Bot, notify: tuple[FakeNotify, str, str],
    seeded: tuple[Engine, str, set[str]], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    db = seeded[0]
    server = notify[0]
    officers = (OFFICER, 202)
    for officer in officers:
        fake.user(officer, started=True)
    recorded = DigestEmails._record

    def dies(self: DigestEmails, email_id: int, state: str, notify_id: str | None) -> None:
        raise Crash  # Notify took the email; the process died before writing so

    monkeypatch.setattr(DigestEmails, "_record", dies)
    settings = config(db, notify, officers=officers)
    first = job(settings, db, telegram_bot)
    with pytest.raises(Crash):
        await first.catch_up()
    first.close()
    monkeypatch.setattr(DigestEmails, "_record", recorded)
    assert len(server.emails_to(ADDRESS)) == 1 and fake.user(OFFICER).documents == []

    # Email is settled by asking Notify; on Telegram, 201's fourth part (the pack) goes
    # out and the process dies before anything records it.
    second = job(settings, db, CrashingBot(telegram_bot, after=4))
    with pytest.raises(Crash):
        await second.catch_up()
    second.close()
    digest = digest_row(db)
    assert digest.pack is not None  # 202 has still to have it
    with Session(db) as session:
        rows = {d.officer_id: (d.state, d.next_part) for d in session.exec(select(DigestDelivery))}
        assert rows == {OFFICER: ("sending", 4), 202: ("pending", 0)}
        emailed = digest_emails.states(session=session, digest_id=digest.id or 0)
        assert emailed == {ADDRESS: "sent"}

    restarted = job(settings, db, telegram_bot)
    await restarted.catch_up()
    await restarted.catch_up()
    restarted.close()
    for officer in officers:
        user = fake.user(officer)  # the summary, then the report, the table and the pack
        assert len([t for t in user.texts if t.startswith("Weekly digest")]) == 1
        assert len(user.documents) == 3
        assert len(packs_to(fake, officer)) == 1
    assert len(server.emails_to(ADDRESS)) == 1
    assert len(server.emails_to(ADDRESS)[0].files) == 2
    digest = digest_row(db)
    assert digest.cleared_at is not None and digest.pack is None
    with Session(db) as session:
        states = session.exec(select(DigestDelivery.state).order_by(col(DigestDelivery.id)))
        assert list(states) == ["sent", "sent"]


@pytest.fixture
def answered(db: Engine) -> Engine:
    """Residents' answers, analysed: enough for a digest and a pack."""
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    seed(ConversationService(db), "a", copies=1)
    analyse_consultation(db, "example", actor="test", n_themes=3)
    return db


async def test_a_pack_over_notify_s_2_mb_is_a_link_to_the_dashboard(
    answered: Engine, notify: tuple[FakeNotify, str, str]
) -> None:
    server, key, template = notify
    end = utcnow()
    documents, run_id = build(answered, "example", start=end - WEEK, end=end, zone=LONDON)
    made = with_pack(answered, documents, LONDON)
    assert made.pack is not None and made.pack.startswith(b"%PDF")
    big = made.pack + b"\n%" + b"x" * (2 * 1024 * 1024)  # a comment: still a PDF, over 2 MB
    digest_id = store_digest(answered, slug="example", kind="on-demand", start=end - WEEK,
                             end=end, documents=replace(made, pack=big), run_id=run_id,
                             officers=(), emails=(ADDRESS,))  # fmt: skip
    emails = DigestEmails(answered, api_key=key, template_id=template, base_url=server.base_url,
                          public_url="https://needs.example.gov.uk/")  # fmt: skip
    assert await emails.deliver(digest_id) == {"sent": 1}
    (email,) = server.emails_to(ADDRESS)
    assert list(email.files) == ["link_to_file"]  # the table only
    link = "https://needs.example.gov.uk/staff/c/example/pack"
    assert f"The evidence pack (2.1 MB) is larger than the 2 MB GOV.UK Notify sends by email: download it from the dashboard, {link}" in email.body  # fmt: skip
    assert "The evidence pack: Not attached: the evidence pack (2.1 MB)" in email.body
    assert digest_row(answered).cleared_at is not None and digest_row(answered).pack is None

    # The fake Notify refuses such a file, as Notify does, were it sent regardless.
    client = NotificationsAPIClient(key, base_url=server.base_url)
    refused = {"file": base64.b64encode(big).decode("ascii"), "filename": "pack.pdf"}
    with pytest.raises(HTTPError) as error:
        await asyncio.to_thread(
            client.send_email_notification, email_address=ADDRESS, template_id=template,
            personalisation={"consultation": "x", "period": "x", "summary": "x", "link": "x",
                             "link_to_file": "x", "pack_file": refused},
        )  # fmt: skip
    assert error.value.status_code == 400 and "File is larger than 2MB" in str(error.value.message)


async def test_without_themes_yet_the_weekly_digest_goes_without_its_pack(
    fake: FakeBotAPI, telegram_bot: Bot, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    seed(ConversationService(db), "a", copies=1)  # answers, never analysed
    with Session(db) as session, session.begin():
        consultation = session.exec(select(Consultation)).one()
        consultation.created_at -= timedelta(days=30)
        session.add(consultation)
    fake.user(OFFICER, started=True)
    settings = Config(database=DatabaseConfig(url=str(db.url)),
                      digest=DigestConfig(with_pack=True), staff=StaffConfig(officers=(OFFICER,)))  # fmt: skip
    digests = Digests(settings, db, telegram_bot, SendBudget(per_chat=0.0))
    with caplog.at_level("WARNING", logger="bot.scheduling.digest_job"):
        await digests.catch_up(now=utcnow() + timedelta(days=7))
    digests.close()
    assert "goes without its evidence pack: 'example' has no themes yet" in caplog.text
    names = [d.filename or "" for d in fake.user(OFFICER).documents]
    assert [n.rpartition(".")[2] for n in names] == ["html", "csv"]
    assert not digest_row(db).with_pack


async def test_a_resident_forgotten_before_delivery_is_not_in_the_pack_sent(
    fake: FakeBotAPI, telegram_bot: Bot, seeded: tuple[Engine, str, set[str]]
) -> None:
    db, _, needs = seeded
    end = utcnow()
    documents, run_id = build(db, "example", start=end - WEEK, end=end, zone=LONDON)
    digest_id = store_digest(db, slug="example", kind="weekly", start=end - WEEK, end=end,
                             documents=with_pack(db, documents, LONDON), run_id=run_id,
                             officers=(OFFICER,))  # fmt: skip
    stored = digest_row(db).pack
    assert stored is not None
    text = " ".join(" ".join(read_pdf(stored).pages).split())
    quoted = sorted(need for need in needs if need in text)
    assert quoted, "the pack quotes someone"
    with Session(db) as session:
        answer_id = session.exec(select(Answer.id).where(Answer.value == quoted[0])).one()
    assert answer_id is not None
    forget(ConversationService(db), db, answer_id)
    assert digest_row(db).stale
    fake.user(OFFICER, started=True)
    await DigestSender(db, telegram_bot, zone=LONDON).deliver(digest_id)
    (sent,) = packs_to(fake, OFFICER)
    assert sent != stored and quoted[0] not in " ".join(" ".join(read_pdf(sent).pages).split())
