"""Safeguarding alerts cannot be lost: they wait, retry, escalate and reach leads added later."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from telegram import Bot

from bot.config import Config, SafeguardingConfig, StaffConfig
from bot.notify.email import NotifyEmail
from bot.scheduling.jobs import Jobs
from bot.scheduling.safeguarding_alerts import SafeguardingAlerts, report_at_start_up
from conversations.flow import callbacks
from conversations.flow.inputs import TextInput
from conversations.residents.service import ConversationService, Who
from conversations.staff import safeguarding_flags
from conversations.storage.models import SafeguardingDelivery, SafeguardingFlag, utcnow
from tests.fakes.notify import FakeNotify
from tests.fakes.telegram_api import FakeBotAPI

DISCLOSURE = "my dad hits me and my little sister every night"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def disclose(service: ConversationService, uid: str, text: str = DISCLOSURE) -> None:
    service.receive(Who("telegram", uid, uid, "en"), TextInput(text))


def config(leads: tuple[int, ...] = (), **safeguarding: object) -> Config:
    return replace(
        Config(),
        staff=StaffConfig(safeguarding=leads),
        safeguarding=replace(SafeguardingConfig(), **safeguarding),  # type: ignore[arg-type]
    )


def deliveries(db: Engine) -> list[SafeguardingDelivery]:
    with Session(db) as session:
        return list(session.exec(select(SafeguardingDelivery).order_by(SafeguardingDelivery.id)))


def texts_to(fake: FakeBotAPI, chat_id: int) -> list[str]:
    """The messages Telegram accepted for this chat."""
    return [c.params["text"] for c in fake.calls_to("sendMessage")
            if int(c.params["chat_id"]) == chat_id and c.status == 200]  # fmt: skip


async def test_a_flag_with_no_lead_waits_and_reaches_a_lead_added_later(
    db: Engine, service: ConversationService, fake: FakeBotAPI, telegram_bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    disclose(service, "601")
    with caplog.at_level(logging.ERROR):
        report_at_start_up(Config(), db, telegram=True)
        await Jobs(Config(), db, telegram_bot).safeguarding_alerts()
    assert "no safeguarding lead can be alerted" in caplog.text
    assert "1 flag(s) wait and no safeguarding lead can be reached" in caplog.text
    assert DISCLOSURE not in caplog.text
    assert fake.calls_to("sendMessage") == []
    with Session(db) as session:
        flag = session.exec(select(SafeguardingFlag)).one()
        assert (flag.status, flag.notified_at) == ("open", None)

    fake.user(9001, started=True)  # the lead added later has opened a chat with the bot
    await Jobs(config((9001,)), db, telegram_bot).safeguarding_alerts()
    (alert,) = texts_to(fake, 9001)
    assert f"/staff/safeguarding/{flag.id}" in alert
    assert "dad" not in alert and "hits" not in alert  # never what was said
    with Session(db) as session:
        assert session.exec(select(SafeguardingFlag)).one().notified_at is not None
    await Jobs(config((9001,)), db, telegram_bot).safeguarding_alerts()
    assert len(texts_to(fake, 9001)) == 1  # once per lead


async def test_a_failed_send_is_retried_with_backoff_and_succeeds(
    db: Engine, service: ConversationService, fake: FakeBotAPI, telegram_bot: Bot
) -> None:
    disclose(service, "602")
    clock = Clock()
    alerts = SafeguardingAlerts(config((9002,)), db, telegram_bot, clock=clock)
    fake.user(9002)
    await alerts.run()  # the lead never opened a chat with the bot: Telegram refuses (403)
    (delivery,) = deliveries(db)
    assert delivery.sent_at is None and delivery.attempts == 1
    assert "can't initiate conversation" in delivery.last_error.lower()
    with Session(db) as session:
        assert safeguarding_flags.waiting(session=session).undelivered == 1

    fake.user(9002, started=True)  # now they have
    await alerts.run()
    assert deliveries(db)[0].attempts == 1  # not before its time
    clock.advance(seconds=31)
    await alerts.run()
    (delivery,) = deliveries(db)
    assert delivery.sent_at is not None and delivery.attempts == 2
    assert len(texts_to(fake, 9002)) == 1
    clock.advance(minutes=30)  # not yet the escalation's time (60 minutes)
    await alerts.run()
    assert len(texts_to(fake, 9002)) == 1


def test_backoff_doubles_up_to_an_hour() -> None:
    waits = [safeguarding_flags.backoff(n) for n in range(1, 10)]
    assert waits[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert waits[-1] == timedelta(hours=1)


async def test_an_unacknowledged_flag_escalates_to_every_lead_then_the_fallback(
    db: Engine, service: ConversationService, fake: FakeBotAPI, telegram_bot: Bot
) -> None:
    for chat in (9001, 9002, 9100):
        fake.user(chat, started=True)
    disclose(service, "603")
    disclose(service, "604", "he said he will kill me if I leave, I am scared")
    clock = Clock()
    settings = config((9001, 9002), escalate_after_minutes=30, fallback_telegram=(9100,))
    alerts = SafeguardingAlerts(settings, db, telegram_bot, clock=clock)
    await alerts.run()
    assert len(texts_to(fake, 9001)) == 2 and texts_to(fake, 9100) == []
    with Session(db) as session, session.begin():
        first_id, second_id = session.exec(
            select(SafeguardingFlag.id).order_by(SafeguardingFlag.id)
        )
        assert first_id is not None and second_id is not None
        safeguarding_flags.acknowledge(session=session, flag_id=second_id, actor="staff:9002")

    clock.advance(minutes=30)
    await alerts.run()
    escalations = [t for t in texts_to(fake, 9002) if "No lead has acknowledged" in t]
    assert len(escalations) == 1 and f"#{first_id}" in escalations[0]
    assert texts_to(fake, 9100) == []

    clock.advance(minutes=30)
    await alerts.run()
    (fallback,) = texts_to(fake, 9100)
    assert f"#{first_id}" in fallback and "you are the fallback" in fallback
    with Session(db) as session:
        flag = session.get(SafeguardingFlag, first_id)
        assert flag is not None and flag.escalated_at is not None and flag.fallback_at is not None

    with Session(db) as session, session.begin():
        safeguarding_flags.acknowledge(session=session, flag_id=first_id, actor="staff:9001")
    sent = len(fake.calls_to("sendMessage"))
    clock.advance(hours=3)
    await alerts.run()
    assert len(fake.calls_to("sendMessage")) == sent  # acknowledged: nothing more


@pytest.fixture
async def notify() -> AsyncIterator[FakeNotify]:
    async with FakeNotify() as server:
        yield server


async def test_leads_not_on_telegram_get_an_email_through_notify(
    db: Engine, service: ConversationService, notify: FakeNotify
) -> None:
    key = notify.new_api_key()
    template = notify.add_template(
        "Flag ((flag)) raised ((raised)). ((reason)) Read it: ((link))",
        subject="Safeguarding flag ((flag))",
    )
    settings = config(emails=("lead@council.example.gov.uk",), notify_api_key=key.value,
                      notify_template_id=template.id, notify_base_url=notify.base_url)  # fmt: skip
    disclose(service, "605")
    notify.inject_fault(429, kind="RateLimitError",
                        message="Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds")  # fmt: skip
    clock = Clock()
    alerts = SafeguardingAlerts(settings, db, None, clock=clock)  # a web-only install
    await alerts.run()
    (delivery,) = deliveries(db)
    assert delivery.sent_at is None and "429" in delivery.last_error
    clock.advance(seconds=31)
    await alerts.run()
    (email,) = notify.emails_to("lead@council.example.gov.uk")
    assert "/staff/safeguarding/" in email.body and "dad" not in email.body
    assert email.reference is not None and email.reference.startswith("flag-")
    assert deliveries(db)[0].sent_at is not None


async def test_a_wrong_template_is_recorded_and_retried_not_lost(
    db: Engine, service: ConversationService, notify: FakeNotify
) -> None:
    key = notify.new_api_key()
    template = notify.add_template("Flag ((flag)) ((link)) ((extra))")
    email = NotifyEmail(key.value, template.id, notify.base_url)
    disclose(service, "606")
    settings = config(emails=("lead@council.example.gov.uk",))
    clock = Clock()
    alerts = SafeguardingAlerts(settings, db, None, email=email, clock=clock)
    await alerts.run()
    (delivery,) = deliveries(db)
    assert delivery.last_error == "Notify 400: Missing personalisation: extra"
    assert delivery.next_attempt_at > clock.now


async def test_forget_keeps_an_open_flag_without_the_resident(
    db: Engine, service: ConversationService
) -> None:
    disclose(service, "607")
    disclose(service, "607", "I took too many pills last night and want to die")
    with Session(db) as session, session.begin():
        first_id, second_id = session.exec(
            select(SafeguardingFlag.id).order_by(SafeguardingFlag.id)
        )
        assert first_id is not None and second_id is not None
        safeguarding_flags.close(session=session, flag_id=first_id, actor="staff:9001",
                                 outcome="referred")  # fmt: skip
    who = Who("telegram", "607", "607", "en")
    service.forget_request(who)
    told = [m.text for m in service.press(who, callbacks.forget_data(True))]
    assert any("A person whose job is to keep people safe will read it" in text for text in told)
    with Session(db) as session:
        kept = session.exec(select(SafeguardingFlag)).all()
    assert [f.id for f in kept] == [second_id]  # the closed one went with the rest
    assert kept[0].resident_id is None and kept[0].resident_forgotten
    assert "pills" in kept[0].excerpt
    with Session(db) as session, session.begin():
        safeguarding_flags.close(session=session, flag_id=second_id, actor="staff:9001",
                                 outcome="no_action")  # fmt: skip
    with Session(db) as session:
        closed = session.get(SafeguardingFlag, second_id)
        assert closed is not None and closed.excerpt == ""  # nothing more needs it
