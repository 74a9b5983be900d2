"""One update from a resident, handled in one transaction on the full path: a turn.

The update is looked up in the inbox (a redelivered update is handled once), the
resident is locked, the decline policy may refuse it (a flood, a pause after repeated
abuse), the action runs, and its replies are recorded with the update, all together.
`Turn` is what an action works with: the session, the resident, the replies so far.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from conversations.flow.inputs import EditedText, Input, TextInput
from conversations.flow.messages import Message
from conversations.residents import policy
from conversations.residents.outcome_rows import OutcomeStatements, update_record
from conversations.residents.texts import service_text
from conversations.screening import safeguarding
from conversations.storage import liveness, store
from conversations.storage.models import (
    Consultation,
    Conversation,
    InboxEntry,
    Resident,
    Round,
    utcnow,
)
from conversations.storage.scripts import ScriptCache

if TYPE_CHECKING:
    from conversations.residents.service import Who

# Replies are recorded as delivered in batches; within this time of handling an
# update, a copy of it reaching the same running service is a duplicate whose
# replies are still on their way. After a restart nothing is on its way.
REDELIVERY_GRACE = timedelta(seconds=15)


@dataclass
class Turn:
    """One update's handling on the full path, inside its transaction."""

    session: Session
    who: Who
    resident: Resident | None
    scripts: ScriptCache
    statements: OutcomeStatements
    messages: list[Message] = field(default_factory=list)
    flag: str | None = None  # recorded with the update: "abuse" or "paused"
    erased: bool = False  # words were erased: checkpoint once committed
    results_url: str = ""  # as Setting.results_url

    @property
    def language(self) -> str:
        if self.resident is not None:
            return self.resident.language
        return self.who.language or "en"

    def say(self, key: str, **values: str) -> None:
        text = service_text(key, self.language, channel=self.who.channel, **values)
        self.messages.append(Message(text))

    def known_resident(self) -> Resident:
        """The resident, made now if the channel has not met them before."""
        if self.resident is None:
            self.resident = store.create_resident(
                session=self.session,
                channel=self.who.channel,
                external_id=self.who.external_id,
                chat_id=self.who.chat_id,
                language=self.who.language or "en",
            )
        return self.resident

    def current(self) -> tuple[Conversation, Round, Consultation] | None:
        """The resident's current conversation, with its round and consultation."""
        resident = self.resident
        if resident is None or resident.current_conversation_id is None:
            return None
        # One query for all three: this runs for every message a resident sends.
        row = self.session.exec(
            select(Conversation, Round, Consultation)
            .join(Round, col(Round.id) == col(Conversation.round_id))
            .join(Consultation, col(Consultation.id) == col(Round.consultation_id))
            .where(Conversation.id == resident.current_conversation_id)
        ).first()
        return (row[0], row[1], row[2]) if row is not None else None

    def flagged(self, flag: str) -> int:
        """How many of the resident's updates within the abuse window carry `flag`."""
        if self.resident is None or self.resident.id is None:
            return 0
        since = utcnow() - policy.ABUSE_WINDOW
        return store.count_recent_flags(
            session=self.session, resident_id=self.resident.id, flag=flag, since=since
        )


@dataclass(frozen=True)
class Setting:
    """What every turn of one running service shares."""

    db: Engine
    scripts: ScriptCache
    statements: OutcomeStatements
    boot_id: str  # tells this running service's in-flight replies from a dead one's
    # A consultation's public results page, "{slug}" and "{lang}" to fill in ("": none).
    results_url: str = ""


def take_turn(setting: Setting, who: Who, update_key: str | None, action: Callable[[Turn], None],
              given: Input | None) -> tuple[list[Message], bool]:  # fmt: skip
    """Handle one update in one transaction; its replies, and whether words were erased."""
    with Session(setting.db, expire_on_commit=False) as session, session.begin():
        if update_key is not None:
            seen = store.inbox_entry(session=session, channel=who.channel, update_key=update_key)
            if seen is not None:
                return _again(setting, session, seen), False
        resident = store.resident_for(
            session=session, channel=who.channel, external_id=who.external_id, lock=True
        )
        turn = Turn(session, who, resident, setting.scripts, setting.statements,
                    results_url=setting.results_url)  # fmt: skip
        recent = _recent_updates(session, resident) if update_key is not None else 0
        refused = policy.refusal(
            recent=recent,
            given=given,
            abusive=lambda: turn.flagged("abuse"),
            disclosure=lambda: _discloses(given, turn.language),
        )
        if refused == "quiet":
            pass  # the rest of a flood is ignored quietly
        elif refused == "slow_down":
            turn.say("slow_down")  # once
        elif refused == "paused":
            if not turn.flagged("paused"):
                turn.say("abuse_pause")  # once a window; then quietly
                turn.flag = "paused"
        else:
            action(turn)
        if update_key is not None:
            row = update_record(
                channel=who.channel,
                update_key=update_key,
                resident_id=turn.resident.id if turn.resident is not None else None,
                messages=turn.messages,
                boot_id=setting.boot_id,
                flag=turn.flag,
                now=utcnow(),
            )
            session.add(InboxEntry(**row))
        return turn.messages, turn.erased


def _again(setting: Setting, session: Session, seen: InboxEntry) -> list[Message]:
    """A redelivered update: its replies again only if they were never delivered and
    are no longer in flight (the process that handled it died first). Behind a load
    balancer it may come to another worker than the first: on PostgreSQL that one
    asks whether the first still runs (conversations/storage/liveness.py)."""
    handler_runs = seen.handled_by == setting.boot_id or (
        seen.handled_by is not None and liveness.alive(session, seen.handled_by) is True
    )
    in_flight = handler_runs and utcnow() - seen.handled_at < REDELIVERY_GRACE
    if seen.delivered_at is not None or in_flight:
        return []
    return [Message.from_dict(m) for m in json.loads(seen.replies_json)]


def _discloses(given: Input | None, language: str) -> bool:
    assert isinstance(given, TextInput | EditedText)  # asked only for text
    return safeguarding.assess(given.text, language).risk


def _recent_updates(session: Session, resident: Resident | None) -> int:
    if resident is None or resident.id is None:
        return 0
    since = utcnow() - policy.FLOOD_WINDOW
    return store.count_recent_updates(session=session, resident_id=resident.id, since=since)
