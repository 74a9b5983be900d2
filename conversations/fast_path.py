"""The update residents send most, handled in four statements.

Nearly every update is a button press or a typed answer to the question a
resident is on. `AnswerPath` handles those with SQLAlchemy Core: one read (the
resident, their conversation, its round and consultation, the recent updates and
whether this update was seen), then the answers upserted, the state saved and
the update recorded, in one transaction. The ORM's flushes cost several times
that, and this path is the one that limits how many residents a bot can serve, so
its statements are compiled once and run on the DB-API cursor (conversations/prepared.py).

Anything else (a new resident, consent, a disclosure of harm, a change of
language, a closed round, a redelivered update, a flood) is declined before
anything is written, and the service's full path handles it. Both paths write the
same rows; the conversation tests run through both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, case, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from conversations import engine, moderation, safeguarding
from conversations.messages import Message, to_message
from conversations.models import (
    Answer,
    ChannelIdentity,
    ConsentRecord,
    Consultation,
    Conversation,
    InboxEntry,
    Resident,
    Round,
    utcnow,
)
from conversations.prepared import Prepared, transaction
from conversations.script import Script

# Tables, not ORM classes: Core statements skip the unit of work entirely.
_identity = ChannelIdentity.__table__  # type: ignore[attr-defined]
_resident = Resident.__table__  # type: ignore[attr-defined]
_conversation = Conversation.__table__  # type: ignore[attr-defined]
_round = Round.__table__  # type: ignore[attr-defined]
_consultation = Consultation.__table__  # type: ignore[attr-defined]
_inbox = InboxEntry.__table__  # type: ignore[attr-defined]
_answer = Answer.__table__  # type: ignore[attr-defined]
_consent = ConsentRecord.__table__  # type: ignore[attr-defined]

ANSWER_COLUMNS = (
    "conversation_id", "resident_id", "round_id", "step_id", "iteration", "kind", "value",
    "display", "profile", "skipped", "confirmed", "withheld", "message_ref", "answered_at",
    "updated_at",
)  # fmt: skip
INBOX_COLUMNS = (
    "channel", "update_key", "resident_id", "replies_json", "handled_at", "handled_by",
    "delivered_at", "flag",
)  # fmt: skip
CONSENT_COLUMNS = ("resident_id", "consultation_id", "version", "given", "channel", "recorded_at")
FAST_INPUTS = (engine.TextInput, engine.EditedText, engine.ChoiceInput, engine.Unsupported)
_EVENTS = (engine.Completed, engine.ConsentGiven, engine.ConsentDeclined)


@dataclass(frozen=True)
class Limits:
    """The service's flood and abuse limits, which this path must also respect."""

    flood: int
    flood_window: timedelta
    abuse: int
    abuse_window: timedelta


@dataclass(frozen=True)
class _Plan:
    resident_id: int
    consultation_id: int
    conversation_id: int
    round_id: int
    outcome: engine.Outcome
    withheld: str | None


class _Decline(Exception):
    """Not a case for the fast path: roll back and let the full path handle it."""


def _read_statement() -> Any:
    recent = (
        select(func.count())
        .select_from(_inbox)
        .where(_inbox.c.resident_id == _resident.c.id, _inbox.c.handled_at >= bindparam("since"))
        .scalar_subquery()
    )
    abuse = (
        select(func.count())
        .select_from(_inbox)
        .where(
            _inbox.c.resident_id == _resident.c.id,
            _inbox.c.flag == "abuse",
            _inbox.c.handled_at >= bindparam("abuse_since"),
        )
        .scalar_subquery()
    )
    seen = exists().where(
        _inbox.c.channel == bindparam("channel"), _inbox.c.update_key == bindparam("key")
    )
    return (
        select(
            _resident.c.id,
            _resident.c.language,
            _conversation.c.id,
            _conversation.c.state_json,
            _round.c.id,
            _round.c.status,
            _round.c.kind,
            _consultation.c.id,
            _consultation.c.script_hash,
            recent,
            abuse,
            seen,
        )
        .select_from(
            _identity.join(_resident, _resident.c.id == _identity.c.resident_id)
            .join(_conversation, _conversation.c.id == _resident.c.current_conversation_id)
            .join(_round, _round.c.id == _conversation.c.round_id)
            .join(_consultation, _consultation.c.id == _round.c.consultation_id)
        )
        .where(
            _identity.c.channel == bindparam("channel"),
            _identity.c.external_id == bindparam("external_id"),
        )
        # PostgreSQL: one resident's updates in turn, as the full path's lock does.
        .with_for_update(of=_resident)
    )


def _upsert_statement(dialect: str) -> Any:
    """Insert an answer, or replace the one already given to that question."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_answer)
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[_answer.c.conversation_id, _answer.c.step_id, _answer.c.iteration],
        set_={
            "kind": new.kind,
            "value": new.value,
            "display": new.display,
            "profile": new.profile,
            "skipped": new.skipped,
            "confirmed": new.confirmed,
            # A re-confirmation carries no text check; keep what the same text earned.
            "withheld": func.coalesce(
                new.withheld, case((_answer.c.value == new.value, _answer.c.withheld), else_=None)
            ),
            "message_ref": func.coalesce(new.message_ref, _answer.c.message_ref),
            "updated_at": new.updated_at,
        },
    )


class AnswerPath:
    """Answers in an open round, without the ORM. See the module's docstring."""

    def __init__(self, db: Engine, script_of: Callable[[str], Script | None], boot_id: str,
                 limits: Limits) -> None:  # fmt: skip
        self.db = db
        self.script_of = script_of  # by content hash; None if not parsed yet
        self.boot_id = boot_id
        self.flood_limit = limits.flood
        self.flood_window = limits.flood_window
        self.abuse_limit = limits.abuse
        self.abuse_window = limits.abuse_window
        dialect = db.dialect
        self._read = Prepared(_read_statement(), dialect)
        self._upsert = Prepared(_upsert_statement(dialect.name), dialect, ANSWER_COLUMNS)
        self._save_state = Prepared(
            update(_conversation)
            .where(_conversation.c.id == bindparam("conversation_id"))
            .values(
                state_json=bindparam("state_json"),
                updated_at=bindparam("now"),
                completed_at=func.coalesce(bindparam("completed_at"), _conversation.c.completed_at),
            ),
            dialect,
        )
        self._record = Prepared(insert(_inbox), dialect, INBOX_COLUMNS)
        self._consent = Prepared(insert(_consent), dialect, CONSENT_COLUMNS)

    def handle(self, channel: str, external_id: str, update_key: str,
               given: engine.Input) -> list[Message] | None:  # fmt: skip
        """Handle `given` if it is a plain answer; None if the full path must."""
        if not isinstance(given, FAST_INPUTS):
            return None
        try:
            with transaction(self.db) as connection:
                now = utcnow()
                row = connection.first(
                    self._read,
                    {
                        "channel": channel,
                        "external_id": external_id,
                        "key": update_key,
                        "since": now - self.flood_window,
                        "abuse_since": now - self.abuse_window,
                    },
                )
                if row is None:
                    return None
                plan = self._plan(row, channel, given)
                outcome = plan.outcome
                for answer in outcome.answers:
                    connection.execute(
                        self._upsert,
                        {
                            "conversation_id": plan.conversation_id,
                            "resident_id": plan.resident_id,
                            "round_id": plan.round_id,
                            "step_id": answer.step_id,
                            "iteration": answer.iteration,
                            "kind": answer.kind,
                            "value": answer.value,
                            "display": answer.display,
                            "profile": answer.profile,
                            "skipped": answer.skipped,
                            "confirmed": answer.confirmed,
                            "withheld": plan.withheld
                            if answer.kind == "text" and not answer.skipped
                            else None,
                            "message_ref": answer.ref,
                            "answered_at": now,
                            "updated_at": now,
                        },
                    )
                completed = False
                for event in outcome.events:
                    if isinstance(event, engine.Completed):
                        completed = True
                    elif isinstance(event, engine.ConsentGiven | engine.ConsentDeclined):
                        connection.execute(
                            self._consent,
                            {
                                "resident_id": plan.resident_id,
                                "consultation_id": plan.consultation_id,
                                "version": event.version,
                                "given": isinstance(event, engine.ConsentGiven),
                                "channel": channel,
                                "recorded_at": now,
                            },
                        )
                connection.execute(
                    self._save_state,
                    {
                        "conversation_id": plan.conversation_id,
                        "state_json": json.dumps(outcome.state.to_dict()),
                        "now": now,
                        "completed_at": now if completed else None,
                    },
                )
                messages = [to_message(reply) for reply in outcome.replies]
                connection.execute(
                    self._record,
                    {
                        "channel": channel,
                        "update_key": update_key,
                        "resident_id": plan.resident_id,
                        "replies_json": json.dumps([m.to_dict() for m in messages]),
                        "handled_at": now,
                        "handled_by": self.boot_id,
                        "delivered_at": None,
                        "flag": "abuse" if plan.withheld == "abuse" else None,
                    },
                )
                return messages
        except _Decline:
            return None

    def _plan(self, row: tuple[Any, ...], channel: str, given: engine.Input
              ) -> _Plan:  # fmt: skip
        (resident_id, language, conversation_id, state_json, round_id, status, kind,
         consultation_id, script_hash, recent, abuse, seen) = row  # fmt: skip
        if seen or recent >= self.flood_limit or status != "open" or kind == "prioritise":
            raise _Decline
        script = self.script_of(script_hash)
        if script is None:
            raise _Decline
        script = script.for_round(kind)
        state = engine.ConversationState.from_dict(json.loads(state_json))
        if (state.step is not None and not script.has_step(state.step)) or (
            state.phase == "steps" and state.consent_version != script.consent.version
        ):
            raise _Decline  # the script changed under the resident
        withheld = None
        if isinstance(given, engine.TextInput | engine.EditedText):
            if abuse >= self.abuse_limit:
                raise _Decline  # paused after repeated abuse: the full path says so
            if safeguarding.assess(given.text, language).risk:
                raise _Decline  # help at once, and a flag for the leads: the full path
            if moderation.assess_abuse(given.text).flagged:
                withheld = "abuse"
        outcome = engine.step(script, state, given, channel=channel)
        if outcome.state.language != language or any(
            not isinstance(e, _EVENTS) for e in outcome.events
        ):
            raise _Decline
        return _Plan(resident_id, consultation_id, conversation_id, round_id, outcome, withheld)
