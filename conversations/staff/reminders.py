"""One gentle reminder for residents who started but did not finish.

Never more than one (the reminder is recorded before it is sent), never after
the round closes, never after /stop, never to a resident the bot cannot reach.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select, update

from conversations.storage.models import (
    ChannelIdentity,
    Consultation,
    Conversation,
    Resident,
    Round,
    utcnow,
)


@dataclass(frozen=True)
class Reminder:
    chat_id: str
    slug: str
    language: str


def claim_due(*, session: Session, idle_since: datetime, channel: str = "telegram",
              limit: int = 200) -> list[Reminder]:  # fmt: skip
    """Residents part-way through an open round, idle since before `idle_since`.

    Marks each as reminded in the same transaction, before anything is sent."""
    rows = session.exec(
        select(Conversation, ChannelIdentity.chat_id, Consultation.slug, Resident.language)
        .join(Round, col(Round.id) == col(Conversation.round_id))
        .join(Consultation, col(Consultation.id) == col(Round.consultation_id))
        .join(Resident, col(Resident.id) == col(Conversation.resident_id))
        .join(
            ChannelIdentity,
            (col(ChannelIdentity.resident_id) == col(Resident.id))
            & (col(ChannelIdentity.channel) == channel),
        )
        .where(
            Round.status == "open",
            col(Conversation.completed_at).is_(None),
            col(Conversation.reminded_at).is_(None),
            col(Conversation.updated_at) < idle_since,
            col(Resident.invitations).is_(True),
            col(Resident.unreachable).is_(False),
        )
        .limit(limit)
        .with_for_update(of=Conversation, skip_locked=True)
    ).all()
    due = []
    now = utcnow()
    for conversation, chat_id, slug, language in rows:
        conversation.reminded_at = now
        session.add(conversation)
        # Only residents who agreed to take part and are mid-way: not those who
        # declined or never answered the consent question.
        if json.loads(conversation.state_json).get("phase") == "steps":
            due.append(Reminder(chat_id=chat_id, slug=slug, language=language))
    return due


def unreachable(*, session: Session, chat_id: str, channel: str = "telegram") -> None:
    """The resident in this chat has blocked the bot: no reminder or invitation tries again."""
    residents = select(ChannelIdentity.resident_id).where(
        ChannelIdentity.channel == channel, ChannelIdentity.chat_id == chat_id
    )
    session.exec(update(Resident).where(col(Resident.id).in_(residents)).values(unreachable=True))
