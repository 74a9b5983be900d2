"""conversations/staff/whatsapp_recipients.py and WhatsApp in a broadcast's reach: who is
reached on WhatsApp, claims, outcomes, put-backs, recovery, the daily limit tier's
count, and receipts by wamid. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from conversations.staff import broadcasts, whatsapp_recipients
from conversations.staff.whatsapp_recipients import Outcome, Receipt
from conversations.storage import contacts, store
from conversations.storage.models import (
    Broadcast,
    BroadcastRecipient,
    ChannelIdentity,
    ConsentRecord,
    Decision,
    Resident,
    in_language,
    utcnow,
)

NUMBERS = itertools.count(1)
MESSAGE = "Round 2 is open:\n\ntell us which needs matter most."


def resident(db: Engine, name: str, *, channels: tuple[str, ...] = ("whatsapp",),
             email: str | None = None, invitations: bool = True, unreachable: bool = False,
             language: str = "en") -> int:  # fmt: skip
    """An opted-in resident of the example consultation, known on `channels`."""
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug="example")
        someone = Resident(pseudonym=f"p-{name}", invitations=invitations,
                           unreachable=unreachable, language=language)  # fmt: skip
        session.add(someone)
        session.flush()
        assert someone.id is not None and consultation.id is not None
        for channel in channels:
            chat = f"4477009{next(NUMBERS):05d}" if channel == "whatsapp" else name
            session.add(ChannelIdentity(resident_id=someone.id, channel=channel,
                                        external_id=chat, chat_id=chat))  # fmt: skip
        session.add(ConsentRecord(resident_id=someone.id, consultation_id=consultation.id,
                                  version="1", given=True, channel=channels[0]))  # fmt: skip
        if email:
            contacts.keep(session=session, resident_id=someone.id, kind="email", address=email)
        return someone.id


def queue_broadcast(db: Engine, *, decision: bool = False) -> int:
    with Session(db, expire_on_commit=False) as session, session.begin():
        draft, _ = broadcasts.draft(session=session, slug="example", message=MESSAGE,
                                    created_by="test")  # fmt: skip
        assert draft.id is not None
        broadcasts.queue(session=session, broadcast_id=draft.id, actor="test")
        if decision:
            session.add(Decision(consultation_id=draft.consultation_id, theme_id=1,
                                 theme_label="Buses", run_id=1, text="More buses.",
                                 actor="test", broadcast_id=draft.id))  # fmt: skip
        return draft.id


def rows(db: Engine) -> dict[int, BroadcastRecipient]:
    with Session(db) as session:
        return {r.resident_id: r for r in session.exec(select(BroadcastRecipient)).all()}


@pytest.fixture
def example(db: Engine) -> Engine:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    return db


def test_whatsapp_comes_after_telegram_and_before_email_and_text(example: Engine) -> None:
    both = resident(example, "both", channels=("telegram", "whatsapp"))
    wa = resident(example, "wa", email="wa@example.org")
    web = resident(example, "web", channels=("web",), email="web@example.org")
    resident(example, "stopped", invitations=False)
    resident(example, "blocked", unreachable=True)
    with Session(example) as session:
        consultation = store.require_consultation(session=session, slug="example")
        reach = broadcasts.reach(session=session, consultation=consultation, group=None)
    assert reach == {both: "telegram", wa: "whatsapp", web: "email"}
    counts = broadcasts.per_channel(reach)
    assert counts == {"email": 1, "telegram": 1, "whatsapp": 1}
    assert broadcasts.format_channels(counts) == "email 1, Telegram 1, WhatsApp 1"
    assert broadcasts.whatsapp_note(counts, "invitation", template="needs_invite") == ""
    assert "([whatsapp] decision_template)" in broadcasts.whatsapp_note(
        counts, "decision", template=""
    )
    assert "not set up" in broadcasts.whatsapp_note(counts, "invitation", template=None)


def test_a_claim_takes_pending_rows_with_their_kind_and_what_changed_since(
    example: Engine,
) -> None:
    ann, bob, cat = (resident(example, n, language=lang) for n, lang in
                     (("ann", "en"), ("bob", "cy"), ("cat", "en")))  # fmt: skip
    invitation = queue_broadcast(example)
    decision = queue_broadcast(example, decision=True)
    with Session(example) as session, session.begin():  # Bob says STOP after it was queued
        bob_row = session.get(Resident, bob)
        assert bob_row is not None
        bob_row.invitations = False
        session.add(bob_row)
    with Session(example) as session:
        held = set(session.exec(select(BroadcastRecipient.id).where(
            BroadcastRecipient.broadcast_id == invitation, BroadcastRecipient.resident_id == cat
        )).all())  # fmt: skip
    now = utcnow()
    with Session(example) as session, session.begin():
        claimed = whatsapp_recipients.claim(session=session, limit=10, now=now, held=held)
    by = {(d.broadcast_id, d.resident_id): d for d in claimed}
    assert len(claimed) == 5  # Cat's first row is held back
    assert (invitation, cat) not in by
    assert by[(invitation, ann)].kind == "invitation" and by[(decision, ann)].kind == "decision"
    assert by[(invitation, bob)].invitations is False and by[(invitation, bob)].language == "cy"
    assert by[(invitation, ann)].wa_id and by[(invitation, ann)].message == MESSAGE
    assert by[(invitation, ann)].slug == "example" and by[(invitation, ann)].attempts == 1
    with Session(example) as session:
        assert {b.status for b in session.exec(select(Broadcast)).all()} == {"sending"}
        assert whatsapp_recipients.claim(session=session, limit=10, now=now) != []  # Cat's
    with Session(example) as session, session.begin():
        assert len(whatsapp_recipients.claim(session=session, limit=10, now=now)) == 1
        assert whatsapp_recipients.claim(session=session, limit=10, now=now) == []


def test_outcomes_put_backs_and_recovery(example: Engine) -> None:
    ann, bob, cat, dan = (resident(example, n) for n in ("ann", "bob", "cat", "dan"))
    broadcast_id = queue_broadcast(example)
    now = utcnow()
    with Session(example) as session, session.begin():
        claimed = {d.resident_id: d.recipient_id for d in
                   whatsapp_recipients.claim(session=session, limit=10, now=now)}  # fmt: skip
    with Session(example) as session, session.begin():
        whatsapp_recipients.record(session=session, at=now, outcomes=[
            Outcome(claimed[ann], "sent", wamid="wamid.ANN"),
            Outcome(claimed[bob], "blocked", note="error 131026"),
        ])  # fmt: skip
        whatsapp_recipients.release(session=session, recipient_ids=[claimed[cat]], counted=False)
        whatsapp_recipients.release(session=session, recipient_ids=[claimed[dan]])
    recorded = rows(example)
    assert (recorded[ann].state, recorded[ann].provider_ref) == ("sent", "wamid.ANN")
    assert (recorded[bob].state, recorded[bob].receipt) == ("blocked", "error 131026")
    assert (recorded[cat].state, recorded[cat].attempts) == ("pending", 0)  # "not now"
    assert (recorded[dan].state, recorded[dan].attempts) == ("pending", 1)
    with Session(example) as session:
        assert session.get(Resident, bob).unreachable  # type: ignore[union-attr]
        assert broadcasts.progress(session=session, broadcast_id=broadcast_id).status == "sending"
    with Session(example) as session, session.begin():
        whatsapp_recipients.claim(session=session, limit=10, now=now)
    with Session(example) as session, session.begin():  # a restart with both in flight
        assert whatsapp_recipients.recover(session=session) == 2
    with Session(example) as session:
        report = broadcasts.progress(session=session, broadcast_id=broadcast_id)
    assert (report.sent, report.blocked, report.failed, report.pending) == (1, 1, 2, 0)


def test_skipped_rows_finish_a_broadcast_and_show_in_its_progress(example: Engine) -> None:
    resident(example, "ann")
    broadcast_id = queue_broadcast(example)
    now = utcnow()
    with Session(example) as session, session.begin():
        (claimed,) = whatsapp_recipients.claim(session=session, limit=10, now=now)
        whatsapp_recipients.record(session=session, at=now, outcomes=[
            Outcome(claimed.recipient_id, "skipped", note="no template")])  # fmt: skip
    with Session(example) as session:
        report = broadcasts.progress(session=session, broadcast_id=broadcast_id)
    assert (report.status, report.skipped, report.done, report.total) == ("done", 1, 1, 1)
    assert (
        "Skipped 1 (their channel, or its WhatsApp template, is not set up)."
        in broadcasts.format_progress(report)
    )


def test_the_tier_counts_unique_residents_in_the_last_24_hours(example: Engine) -> None:
    ann, bob, cat = (resident(example, n) for n in ("ann", "bob", "cat"))
    first, second = queue_broadcast(example), queue_broadcast(example)
    then = utcnow() - timedelta(hours=30)
    with Session(example) as session, session.begin():
        claimed = whatsapp_recipients.claim(session=session, limit=6, now=then)
        early = [d for d in claimed if d.broadcast_id == first]
        whatsapp_recipients.record(
            session=session,
            at=then,
            outcomes=[
                Outcome(d.recipient_id, "sent", wamid=f"wamid.{d.recipient_id}") for d in early
            ],
        )
        whatsapp_recipients.release(session=session, counted=False, recipient_ids=[
            d.recipient_id for d in claimed if d.broadcast_id == second])  # fmt: skip
    now = utcnow()
    with Session(example) as session:  # thirty hours ago: not counted
        assert whatsapp_recipients.tier_used(session=session, now=now).used == 0
        assert whatsapp_recipients.tier_used(session=session, now=then).used == 3
    with Session(example) as session, session.begin():
        ann_and_bob = [d for d in whatsapp_recipients.claim(session=session, limit=2, now=now)]
        whatsapp_recipients.record(session=session, at=now, outcomes=[
            Outcome(ann_and_bob[0].recipient_id, "sent", wamid="wamid.x")])  # fmt: skip
    with Session(example) as session:
        tier = whatsapp_recipients.tier_used(session=session, now=now)
        assert (tier.used, tier.oldest) == (2, now)  # one sent, one still being sent
        report = broadcasts.progress(session=session, broadcast_id=second,
                                     whatsapp_daily_limit=2, now=now)  # fmt: skip
        assert (report.whatsapp_held, report.whatsapp_until) == (1, now + timedelta(hours=24))
        assert "daily limit is reached: 1 WhatsApp resident waits" in (
            broadcasts.format_progress(report)
        )
        report = broadcasts.progress(session=session, broadcast_id=second,
                                     whatsapp_daily_limit=250, now=now)  # fmt: skip
        assert report.whatsapp_held == 0
    assert {ann, bob, cat} == set(rows(example))


def test_receipts_find_their_row_by_wamid_and_never_go_back(example: Engine) -> None:
    ann, bob = resident(example, "ann"), resident(example, "bob")
    queue_broadcast(example)
    now = utcnow()
    with Session(example) as session, session.begin():
        claimed = {d.resident_id: d.recipient_id for d in
                   whatsapp_recipients.claim(session=session, limit=10, now=now)}  # fmt: skip
        whatsapp_recipients.record(session=session, at=now, outcomes=[
            Outcome(claimed[ann], "sent", wamid="wamid.ANN"),
            Outcome(claimed[bob], "sent", wamid="wamid.BOB")])  # fmt: skip
    later = now + timedelta(minutes=1)
    with Session(example) as session, session.begin():
        unmatched = whatsapp_recipients.record_receipts(session=session, at=later, receipts=[
            Receipt("wamid.ANN", "delivered"), Receipt("wamid.ANN", "read"),
            Receipt("wamid.BOB", "failed", 131026), Receipt("wamid.REPLY", "delivered")])  # fmt: skip
    assert unmatched == {"wamid.REPLY"}
    with Session(example) as session, session.begin():  # a late "delivered" after "read"
        whatsapp_recipients.record_receipts(session=session, at=later,
                                            receipts=[Receipt("wamid.ANN", "delivered")])  # fmt: skip
    recorded = rows(example)
    assert (recorded[ann].receipt, recorded[ann].state) == ("read", "sent")
    assert recorded[ann].updated_at == now  # the sent time the tier counts by
    assert (recorded[bob].receipt, recorded[bob].state) == ("failed 131026", "blocked")
    with Session(example) as session:
        assert session.get(Resident, bob).unreachable  # type: ignore[union-attr]
        assert not session.get(Resident, ann).unreachable  # type: ignore[union-attr]


async def test_rows_on_a_channel_switched_off_are_skipped_and_the_broadcast_finishes(
    example: Engine,
) -> None:
    from bot.config import Config, WhatsAppConfig
    from bot.scheduling.jobs import Jobs, channels_off

    on_whatsapp = resident(example, "on-whatsapp")
    broadcast_id = queue_broadcast(example)
    # This service runs neither WhatsApp, Telegram nor Notify: nothing could ever send it.
    assert channels_off(Config()) == {"telegram", "whatsapp", "email", "sms"}
    on = Config(whatsapp=WhatsAppConfig(phone_number_id="1"))
    assert "whatsapp" not in channels_off(on)
    await Jobs(on, example, None).unsendable()  # WhatsApp on: left for its sender
    with Session(example) as session:
        assert session.exec(select(BroadcastRecipient.state)).all() == ["pending"]
    await Jobs(Config(), example, None).unsendable()
    with Session(example) as session:
        row = session.exec(select(BroadcastRecipient)).one()
        assert (row.resident_id, row.state) == (on_whatsapp, "skipped")
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None and broadcast.status == "done"
        report = broadcasts.progress(session=session, broadcast_id=broadcast_id)
    assert "Skipped 1 (their channel" in broadcasts.format_progress(report)


def test_each_resident_is_sent_the_message_in_their_language(example: Engine) -> None:
    from conversations.staff import broadcast_recipients, notify_recipients

    english = resident(example, "en-wa")
    welsh = resident(example, "cy-wa", language="cy")
    on_telegram = resident(example, "cy-tg", channels=("telegram",), language="cy")
    by_email = resident(example, "cy-mail", channels=("web",), email="a@example.org",
                        language="cy")  # fmt: skip
    broadcast_id = queue_broadcast(example, decision=True)
    with Session(example) as session, session.begin():
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        broadcast.translations = '{"cy": "Neges yn Gymraeg."}'
        session.add(broadcast)
    with Session(example) as session, session.begin():
        sent = {d.resident_id: d.message
                for d in whatsapp_recipients.claim(session=session, limit=10, now=utcnow())}  # fmt: skip
        telegram = broadcast_recipients.claim(session=session, broadcast_id=broadcast_id, limit=10)
        mailed = notify_recipients.claim(session=session, limit=10)
    assert sent == {english: MESSAGE, welsh: "Neges yn Gymraeg."}
    assert [(d.resident_id, d.language) for d in telegram] == [(on_telegram, "cy")]
    assert [d.message for d in mailed] == ["Neges yn Gymraeg."]
    assert [d.recipient_id for d in mailed] == [rows(example)[by_email].id]  # Welsh, by email
    assert in_language(MESSAGE, "not json", "cy") == MESSAGE  # a damaged row: as written
    assert in_language(MESSAGE, '{"cy": ""}', "cy") == MESSAGE
