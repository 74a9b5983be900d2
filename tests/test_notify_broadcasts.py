"""Broadcasts by text message and email, through GOV.UK Notify, to web-chat residents
who left contact details: counted per channel, sent once each across a restart,
within Notify's rate limit, with delivery receipts. Against the fake Notify on
loopback (tests/fakes/notify.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.decisions import decide
from bot.actions.theme_runs import analyse_consultation
from bot.app import Service, prepare_database
from bot.config import Config, ConsultationsConfig, DatabaseConfig, NotifyConfig, WebConfig
from bot.notify.messages import NotifyMessages, Templates
from bot.notify.sender import NotifySender, NotifySettings
from conversations.residents.service import ConversationService
from conversations.staff import broadcasts, theme_edits, themes
from conversations.storage import contacts, store
from conversations.storage.models import (
    BroadcastRecipient,
    ChannelIdentity,
    ConsentRecord,
    Resident,
)
from tests.example_consultation import seed, theme_of
from tests.fakes.notify import FakeNotify

MESSAGE = "Round 2 is open: tell us which needs matter most."


def resident(db: Engine, name: str, *, channel: str = "web", sms: str | None = None,
             email: str | None = None, invitations: bool = True) -> int:  # fmt: skip
    """An opted-in resident of the example consultation, with the details given."""
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug="example")
        someone = Resident(pseudonym=f"p-{name}", invitations=invitations)
        session.add(someone)
        session.flush()
        assert someone.id is not None and consultation.id is not None
        session.add(ChannelIdentity(resident_id=someone.id, channel=channel,
                                    external_id=f"{channel}-{name}", chat_id=name))  # fmt: skip
        session.add(ConsentRecord(resident_id=someone.id, consultation_id=consultation.id,
                                  version="1", given=True, channel=channel))  # fmt: skip
        for kind, address in (("sms", sms), ("email", email)):
            if address:
                contacts.keep(session=session, resident_id=someone.id, kind=kind, address=address)
        return someone.id


def queue_broadcast(db: Engine) -> int:
    with Session(db, expire_on_commit=False) as session, session.begin():
        draft, _ = broadcasts.draft(session=session, slug="example", message=MESSAGE,
                                    created_by="test")  # fmt: skip
        assert draft.id is not None
        broadcasts.queue(session=session, broadcast_id=draft.id, actor="test")
        return draft.id


def rows(db: Engine) -> dict[int, BroadcastRecipient]:
    with Session(db) as session:
        return {r.resident_id: r for r in session.exec(select(BroadcastRecipient)).all()}


def sender(db: Engine, notify: FakeNotify, **settings: float) -> NotifySender:
    key = notify.new_api_key()
    sms = notify.add_template("((message)) ((link))", type="sms")
    email = notify.add_template("((message))\n\n((link))", subject="Needs First", type="email")
    client = NotifyMessages(key.value, Templates(sms.id, email.id), notify.base_url)
    return NotifySender(db, client, "https://needs.example.gov.uk",
                        NotifySettings(**settings))  # type: ignore[arg-type]  # fmt: skip


async def drain(notify_sender: NotifySender) -> None:
    while await notify_sender.send_some():
        pass


@pytest.fixture
def example(db: Engine) -> Engine:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    return db


def test_the_preview_counts_each_channel(example: Engine) -> None:
    resident(example, "tg", channel="telegram")
    resident(example, "ann", sms="+447911123456")
    resident(example, "bob", email="bob@example.org")
    resident(example, "cat", sms="+447912345678", email="cat@example.org")  # email: free
    resident(example, "dan")  # web chat, no details: nothing can reach them
    resident(example, "eve", sms="+447400123456", invitations=False)  # said stop
    with Session(example) as session:
        consultation = store.require_consultation(session=session, slug="example")
        reach = broadcasts.reach(session=session, consultation=consultation, group=None)
    assert broadcasts.per_channel(reach) == {"email": 2, "sms": 1, "telegram": 1}


async def test_an_invitation_reaches_each_by_text_and_email_once_across_a_restart(
    example: Engine,
) -> None:
    ann = resident(example, "ann", sms="+447911123456")
    bob = resident(example, "bob", email="bob@example.org")
    cat = resident(example, "cat", email="cat@example.org")
    broadcast_id = queue_broadcast(example)
    async with FakeNotify() as notify:
        first = sender(example, notify, batch=1)
        assert await first.send_some()  # Ann's text, then the service stops
        # Bob's row is claimed and Notify takes it, but the service dies before recording:
        claimed = first._claim()
        assert [d.recipient_id for d in claimed] == [rows(example)[bob].id]
        await first.notify.send("email", "bob@example.org", {"message": MESSAGE, "link": "x"},
                                "crash")  # fmt: skip
        # A restart: Bob's is counted failed and never sent again; Cat's goes now.
        second = sender(example, notify)
        assert second._recover() == 1
        await drain(second)
    sent = [(s.type, s.to) for s in notify.sent]
    assert sent == [("sms", "+447911123456"), ("email", "bob@example.org"),
                    ("email", "cat@example.org")]  # fmt: skip
    assert "https://needs.example.gov.uk/c/example" in notify.sent[0].body
    assert MESSAGE in notify.sent[2].body and notify.sent[2].subject == "Needs First"
    recorded = rows(example)
    assert (recorded[ann].state, recorded[ann].channel) == ("sent", "sms")
    assert recorded[ann].provider_ref == notify.sent[0].id
    assert recorded[bob].state == "failed" and recorded[bob].provider_ref is None
    assert recorded[cat].provider_ref == notify.sent[2].id
    with Session(example) as session:
        assert broadcasts.progress(session=session, broadcast_id=broadcast_id).status == "done"


async def test_notifys_rate_limit_is_kept_and_its_429_honoured(example: Engine) -> None:
    for n in range(7):
        resident(example, f"r{n}", email=f"r{n}@example.org")
    queue_broadcast(example)
    async with FakeNotify(rate_limit=3, window_seconds=1.0) as notify:
        started = time.monotonic()
        await drain(sender(example, notify, per_minute=3, window_seconds=1.0))
        assert time.monotonic() - started >= 2.0  # 7 messages at 3 a second
        assert notify.rejected == []  # never over the limit
        assert len(notify.sent) == 7
        # A sender set too fast meets Notify's 429, waits, and still sends each once.
    for n in range(7, 12):
        resident(example, f"r{n}", sms="+447911123456")
    queue_broadcast(example)
    async with FakeNotify(rate_limit=3, window_seconds=1.0) as notify:
        await drain(sender(example, notify, per_minute=100, window_seconds=1.0,
                           not_now_seconds=0.5))  # fmt: skip
        assert any(status == 429 for status, _ in notify.rejected)
        assert sorted(s.to for s in notify.sent) == sorted(
            [f"r{n}@example.org" for n in range(7)] + ["+447911123456"] * 5
        )  # the second broadcast: each of the twelve once


async def test_delivery_receipts_are_recorded(example: Engine) -> None:
    ann = resident(example, "ann", sms="+447911123456")
    bob = resident(example, "bob", email="bob@example.org")
    queue_broadcast(example)
    async with FakeNotify() as notify:
        notify_sender = sender(example, notify)
        await drain(notify_sender)
        assert await notify_sender.collect_receipts() == 2
        assert {r.receipt for r in rows(example).values()} == {"sending"}
        by_to = {s.to: s.id for s in notify.sent}
        notify.set_status(by_to["+447911123456"], "delivered")
        notify.set_status(by_to["bob@example.org"], "permanent-failure")
        assert await notify_sender.collect_receipts() == 2
        assert await notify_sender.collect_receipts() == 0  # settled: not asked again
    recorded = rows(example)
    assert recorded[ann].receipt == "delivered" and recorded[ann].receipt_at is not None
    assert recorded[bob].receipt == "permanent-failure"


async def test_a_decision_reaches_web_residents_who_raised_it_by_email_or_text(db: Engine) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    seed(ConversationService(db), "a", copies=1)
    analyse_consultation(db, "example", actor="test", n_themes=3)
    run_id, theme_id = theme_of(db, "buses")
    with Session(db) as session, session.begin():
        raised = themes.residents_in_theme(session=session, run_id=run_id, theme_id=theme_id)
        # Two of them took part in the web chat instead and left contact details.
        by_email, by_text = raised[0], raised[1]
        for resident_id, kind, address in ((by_email, "email", "ann@example.org"),
                                           (by_text, "sms", "+447911123456")):  # fmt: skip
            identity = session.exec(
                select(ChannelIdentity).where(ChannelIdentity.resident_id == resident_id)
            ).one()
            identity.channel = "web"
            session.add(identity)
            contacts.keep(session=session, resident_id=resident_id, kind=kind, address=address)
        theme_edits.confirm(session=session, slug="example", theme_id=theme_id, actor="staff:222")
    decide(db, "example", theme_id, "The 7pm bus will run until 11pm.", actor="staff:222")
    recorded = rows(db)
    assert (recorded[by_email].channel, recorded[by_text].channel) == ("email", "sms")
    assert {r.channel for k, r in recorded.items() if k not in (by_email, by_text)} == {"telegram"}
    async with FakeNotify() as notify:
        await drain(sender(db, notify))
    assert sorted((s.type, s.to) for s in notify.sent) == [
        ("email", "ann@example.org"), ("sms", "+447911123456")
    ]  # fmt: skip
    assert all("11pm" in s.body for s in notify.sent)


async def test_the_running_service_sends_queued_broadcasts_through_notify(db_url: str) -> None:
    async with FakeNotify() as notify:
        key = notify.new_api_key()
        sms = notify.add_template("((message)) ((link))", type="sms")
        email = notify.add_template("((message)) ((link))", subject="Needs First", type="email")
        config = Config(
            database=DatabaseConfig(url=db_url),
            web=WebConfig(host="127.0.0.1", port=0),
            consultations=ConsultationsConfig(load=("example",), open_first_round=True),
            notify=NotifyConfig(api_key=key.value, base_url=notify.base_url,
                                sms_template_id=sms.id, email_template_id=email.id),
        )  # fmt: skip
        db = prepare_database(config)
        try:
            resident(db, "ann", sms="+447911123456")
            queue_broadcast(db)
            service = Service(config, db)  # web only: no Telegram token
            await service.start()
            try:
                assert service.notify_sender is not None
                service.notify_sender.wake()
                for _ in range(100):
                    if notify.sent:
                        break
                    await asyncio.sleep(0.05)
            finally:
                await service.stop()
        finally:
            db.dispose()
    assert [(s.type, s.to) for s in notify.sent] == [("sms", "+447911123456")]
