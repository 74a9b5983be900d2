"""Broadcast invitations: who gets one, drafting, queueing, cancelling, and progress.

A broadcast is drafted (with a preview and a count), then queued: at that moment
its recipients are written down, one row each, which the sender then works through
(conversations.staff.broadcast_recipients: at most once per resident, by design).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from conversations.staff import whatsapp_recipients
from conversations.staff.coverage import opted_in_residents
from conversations.storage import store
from conversations.storage.models import (
    Answer,
    Broadcast,
    BroadcastRecipient,
    ChannelIdentity,
    Consultation,
    ResidentContact,
    Round,
    utcnow,
)

MAX_MESSAGE = 4000
MAX_WINDOW_MINUTES = 7 * 24 * 60  # a week


class BroadcastError(ValueError):
    """A broadcast request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class Progress:
    broadcast_id: int
    consultation: str
    status: str
    total: int
    pending: int
    sending: int
    sent: int
    failed: int
    blocked: int
    stopped: int
    window_minutes: int
    started_at: datetime | None
    finished_at: datetime | None
    skipped: int = 0  # WhatsApp residents, when no template is set up for its kind
    # WhatsApp's daily limit reached: its residents still to send wait until then.
    whatsapp_held: int = 0
    whatsapp_until: datetime | None = None

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.blocked + self.stopped + self.skipped

    def seconds_left(self, rate: float) -> float:
        """Estimated seconds to finish at `rate` messages a second."""
        remaining = self.pending + self.sending
        if self.window_minutes and self.started_at is not None:
            window_end = self.started_at.timestamp() + self.window_minutes * 60
            return max(remaining / rate if rate else 0.0, window_end - utcnow().timestamp())
        return remaining / rate if rate else 0.0


def parse_group(text: str | None) -> tuple[str, str] | None:
    """`area=south` -> ("area", "south")."""
    if not text:
        return None
    dimension, sep, value = text.partition("=")
    if not sep or not dimension.strip() or not value.strip():
        raise BroadcastError(f"a group is DIMENSION=VALUE, such as area=south (not {text!r})")
    return dimension.strip(), value.strip()


# The channels a broadcast (an invitation, a decision) can reach, in the order they are
# preferred for a resident known on several: Telegram and WhatsApp (where residents
# take part), then GOV.UK Notify's emails (free, no length limit) and text messages for
# web-chat residents who left contact details (the web chat cannot message anyone).
REACHABLE_CHANNELS = ("telegram", "whatsapp")
NOTIFY_CHANNELS = ("email", "sms")
PREFERENCE = (*REACHABLE_CHANNELS, *NOTIFY_CHANNELS)


def reach(*, session: Session, consultation: Consultation,
          group: tuple[str, str] | None) -> dict[int, str]:  # fmt: skip
    """Opted-in residents of a consultation (or one group) that a broadcast can reach,
    each with its channel: Telegram, else WhatsApp, else an email address they left,
    else a mobile number. Never a resident who said stop or whom a channel found
    unreachable (opted_in_residents leaves them out)."""
    assert consultation.id is not None
    residents = set(opted_in_residents(session=session, consultation_id=consultation.id))
    rank = {channel: i for i, channel in enumerate(PREFERENCE)}
    channels: dict[int, str] = {}

    def offer(resident_id: int, channel: str) -> None:
        if resident_id not in residents:
            return
        current = channels.get(resident_id)
        if current is None or rank[channel] < rank[current]:
            channels[resident_id] = channel

    for resident_id, kind in session.exec(
        select(ResidentContact.resident_id, ResidentContact.kind)
    ).all():
        if kind in rank:
            offer(resident_id, kind)
    for resident_id, channel in session.exec(
        select(ChannelIdentity.resident_id, ChannelIdentity.channel).where(
            col(ChannelIdentity.channel).in_(REACHABLE_CHANNELS)
        )
    ).all():
        offer(resident_id, channel)
    if group is not None:
        dimension, value = group
        members = set(
            session.exec(
                select(Answer.resident_id)
                .join(Round, col(Round.id) == col(Answer.round_id))
                .where(
                    Round.consultation_id == consultation.id,
                    Answer.profile == dimension,
                    Answer.value == value,
                )
            ).all()
        )
        channels = {r: c for r, c in channels.items() if r in members}
    return dict(sorted(channels.items()))


def audience(*, session: Session, consultation: Consultation,
             group: tuple[str, str] | None) -> list[int]:  # fmt: skip
    """The residents `reach` finds, on any channel."""
    return list(reach(session=session, consultation=consultation, group=group))


def per_channel(channels: dict[int, str]) -> dict[str, int]:
    """How many a broadcast reaches on each channel, for the preview."""
    counts: dict[str, int] = {}
    for channel in channels.values():
        counts[channel] = counts.get(channel, 0) + 1
    return dict(sorted(counts.items()))


CHANNEL_NAMES = {
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "email": "email",
    "sms": "text message",
}


def format_channels(counts: dict[str, int]) -> str:
    """The counts by channel as a preview says them: Telegram 3, WhatsApp 2, email 1."""
    return ", ".join(f"{CHANNEL_NAMES.get(c, c)} {n}" for c, n in counts.items())


def whatsapp_note(counts: dict[str, int], kind: str, *, template: str | None) -> str:
    """A preview's line when its WhatsApp residents will not get it: WhatsApp sends a
    business's first message only as an approved template, one per kind (invitation,
    decision). `template`: its name; "" for none set up; None when WhatsApp is off."""
    count = counts.get("whatsapp", 0)
    if not count or template:
        return ""
    who = f"{count} WhatsApp resident{'s' if count != 1 else ''}"
    if template is None:
        return f"The {who} will not get it: WhatsApp is not set up on this service."
    return (
        f"The {who} will not get it: no WhatsApp {kind} template is set up "
        f"([whatsapp] {kind}_template)."
    )


def draft(*, session: Session, slug: str, message: str, created_by: str,
          group: tuple[str, str] | None = None, window_minutes: int = 0
          ) -> tuple[Broadcast, int]:  # fmt: skip
    """A draft broadcast and how many residents it would reach."""
    consultation = store.require_consultation(session=session, slug=slug)
    text = message.strip()
    if not text:
        raise BroadcastError("the message is empty")
    if len(text) > MAX_MESSAGE:
        raise BroadcastError(f"the message is {len(text)} characters; the most is {MAX_MESSAGE}")
    if not 0 <= window_minutes <= MAX_WINDOW_MINUTES:
        raise BroadcastError("the window must be between 0 minutes and a week")
    count = len(audience(session=session, consultation=consultation, group=group))
    if count == 0:
        raise BroadcastError("no opted-in residents match, so there is nothing to send")
    assert consultation.id is not None
    broadcast = Broadcast(
        consultation_id=consultation.id,
        created_by=created_by,
        message=text,
        group_dimension=group[0] if group else None,
        group_value=group[1] if group else None,
        window_minutes=window_minutes,
    )
    session.add(broadcast)
    session.flush()
    return broadcast, count


def queue(*, session: Session, broadcast_id: int, actor: str,
          progress_chat_id: str | None = None, progress_message_id: int | None = None
          ) -> int:  # fmt: skip
    """Confirm a draft: write down its recipients and hand it to the sender."""
    broadcast = session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None:
        raise BroadcastError(f"there is no broadcast {broadcast_id}")
    if broadcast.status != "draft":
        raise BroadcastError(f"broadcast {broadcast_id} is already {broadcast.status}")
    consultation = session.get(Consultation, broadcast.consultation_id)
    assert consultation is not None
    group = (
        (broadcast.group_dimension, broadcast.group_value)
        if broadcast.group_dimension and broadcast.group_value
        else None
    )
    recipients = reach(session=session, consultation=consultation, group=group)
    if not recipients:
        raise BroadcastError("no opted-in residents to send to, so nothing was sent")
    session.add_all(
        BroadcastRecipient(broadcast_id=broadcast_id, resident_id=r, channel=channel)
        for r, channel in recipients.items()
    )
    broadcast.status = "queued"
    broadcast.progress_chat_id = progress_chat_id
    broadcast.progress_message_id = progress_message_id
    session.add(broadcast)
    group_text = f" to {group[0]}={group[1]}" if group else ""
    store.audit(
        session=session,
        actor=actor,
        action="broadcast.queue",
        target=f"{consultation.slug} broadcast {broadcast_id}",
        detail=f"{len(recipients)} recipients{group_text} "
        + ", ".join(f"{c} {n}" for c, n in per_channel(recipients).items()),
    )
    return len(recipients)


def cancel(*, session: Session, broadcast_id: int, actor: str) -> None:
    broadcast = session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None:
        raise BroadcastError(f"there is no broadcast {broadcast_id}")
    if broadcast.status in ("done", "cancelled"):
        raise BroadcastError(f"broadcast {broadcast_id} is already {broadcast.status}")
    broadcast.status = "cancelled"
    broadcast.finished_at = utcnow()
    session.add(broadcast)
    store.audit(
        session=session, actor=actor, action="broadcast.cancel", target=f"broadcast {broadcast_id}"
    )


def progress(*, session: Session, broadcast_id: int, whatsapp_daily_limit: int = 0,
             now: datetime | None = None) -> Progress:  # fmt: skip
    """A broadcast's figures; with WhatsApp's daily limit (its messaging limit tier,
    0: none), whether its WhatsApp residents wait for the limit, and until when."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise BroadcastError(f"there is no broadcast {broadcast_id}")
    consultation = session.get(Consultation, broadcast.consultation_id)
    counts = dict(
        session.exec(
            select(BroadcastRecipient.state, func.count())
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
            .group_by(col(BroadcastRecipient.state))
        ).all()
    )
    assert broadcast.id is not None
    held, until = 0, None
    if whatsapp_daily_limit and broadcast.status in ("queued", "sending"):
        held = whatsapp_recipients.waiting(session=session, broadcast_id=broadcast_id)
        tier = whatsapp_recipients.tier_used(session=session, now=now or utcnow())
        if held and tier.used >= whatsapp_daily_limit and tier.oldest is not None:
            until = tier.oldest + whatsapp_recipients.DAY
        else:
            held = 0
    return Progress(
        broadcast_id=broadcast.id,
        consultation=consultation.slug if consultation else "?",
        status=broadcast.status,
        total=sum(counts.values()),
        pending=counts.get("pending", 0),
        sending=counts.get("sending", 0),
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        blocked=counts.get("blocked", 0),
        stopped=counts.get("stopped", 0),
        window_minutes=broadcast.window_minutes,
        started_at=broadcast.started_at,
        finished_at=broadcast.finished_at,
        skipped=counts.get("skipped", 0),
        whatsapp_held=held,
        whatsapp_until=until,
    )


def format_progress(report: Progress, rate: float = 28.0) -> str:
    lines = [
        f"Broadcast {report.broadcast_id} ({report.consultation}): {report.status}",
        f"Sent {report.sent} of {report.total}; failed {report.failed}, "
        f"blocked {report.blocked}, stopped or left {report.stopped}."
        + (
            f" Skipped {report.skipped} (their channel, or its WhatsApp template, is not set up)."
            if report.skipped
            else ""
        ),
    ]
    if report.whatsapp_held and report.whatsapp_until is not None:
        lines.append(
            f"WhatsApp's daily limit is reached: {report.whatsapp_held} WhatsApp "
            f"resident{'s wait' if report.whatsapp_held != 1 else ' waits'} until about "
            f"{report.whatsapp_until:%H:%M} UTC on {report.whatsapp_until.day} "
            f"{report.whatsapp_until:%B}."
        )
    if report.status in ("queued", "sending"):
        minutes = report.seconds_left(rate) / 60
        lines.append(
            f"About {minutes:.0f} minutes left." if minutes >= 1 else "Less than a minute left."
        )
    return "\n".join(lines)


def recent(*, session: Session, limit: int, consultation_id: int | None = None) -> list[Broadcast]:
    """The latest broadcasts, newest first: of one consultation, or of every one."""
    query = select(Broadcast).order_by(col(Broadcast.id).desc()).limit(limit)
    if consultation_id is not None:
        query = query.where(Broadcast.consultation_id == consultation_id)
    return list(session.exec(query).all())


def recipient_counts(*, session: Session, broadcast_ids: Sequence[int]
                     ) -> dict[int, dict[str, int]]:  # fmt: skip
    """Broadcast id -> recipients by state, for several broadcasts in one query."""
    counts: dict[int, dict[str, int]] = {}
    if broadcast_ids:
        for broadcast_id, state, count in session.exec(
            select(BroadcastRecipient.broadcast_id, BroadcastRecipient.state, func.count())
            .where(col(BroadcastRecipient.broadcast_id).in_(broadcast_ids))
            .group_by(col(BroadcastRecipient.broadcast_id), col(BroadcastRecipient.state))
        ).all():
            counts.setdefault(broadcast_id, {})[state] = int(count)
    return counts
