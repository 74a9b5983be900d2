"""An engine outcome as the rows it stores: the one writer for every path, batched or not.

A step of the engine gives answers, events and replies. Stored, they are: each
answer upserted (a changed answer replaces the one given to that question, and a
re-confirmation keeps what the same text earned), a consent record for each consent
given or declined, and the conversation's new state with the moment it completed;
the update itself is recorded with the replies it produced, so that a redelivered
update is handled once (`update_record`).

`Rows` gathers those rows' values, for one outcome or a batch of them, and
`OutcomeStatements` writes them. A batch runs every table's statement once, compiled
once, on the DB-API cursor (conversations/storage/prepared.py). The full path
(conversations/residents/answering.py) runs the same answer and consent statements
on its session's connection; the conversation and the update's record are objects in
its session, so they take the same values (`keep_state`) and go with its flush.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, bindparam, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from conversations.flow.messages import Message, to_message
from conversations.flow.outcome import Completed, ConsentDeclined, ConsentGiven, Outcome
from conversations.flow.state import ConversationState
from conversations.storage.models import Answer, ConsentRecord, Conversation, InboxEntry
from conversations.storage.prepared import Cursor, Prepared

# Tables, not ORM classes: Core statements skip the unit of work entirely.
_answer = Answer.__table__  # type: ignore[attr-defined]
_consent = ConsentRecord.__table__  # type: ignore[attr-defined]
_conversation = Conversation.__table__  # type: ignore[attr-defined]
_inbox = InboxEntry.__table__  # type: ignore[attr-defined]

ANSWER_COLUMNS = (
    "conversation_id", "resident_id", "round_id", "step_id", "iteration", "kind", "value",
    "display", "profile", "skipped", "confirmed", "withheld", "message_ref", "answered_at",
    "updated_at",
)  # fmt: skip
CONSENT_COLUMNS = ("resident_id", "consultation_id", "version", "given", "channel", "recorded_at")
INBOX_COLUMNS = (
    "channel", "update_key", "resident_id", "replies_json", "handled_at", "handled_by",
    "delivered_at", "flag",
)  # fmt: skip


@dataclass(frozen=True)
class Place:
    """Where an outcome is stored: whose conversation, in which round of which consultation."""

    resident_id: int
    consultation_id: int
    conversation_id: int
    round_id: int


def replies(outcome: Outcome) -> list[Message]:
    """The outcome's replies, as the messages a channel delivers."""
    return [to_message(reply) for reply in outcome.replies]


def stored_state(state: ConversationState) -> str:
    """A conversation's state as its row keeps it."""
    return json.dumps(state.to_dict())


def seen_statement(count: int) -> Any:
    """Which of `count` update keys (key_0 ...) were recorded already."""
    return select(_inbox.c.update_key).where(
        _inbox.c.channel == bindparam("channel"),
        _inbox.c.update_key.in_([bindparam(f"key_{i}") for i in range(count)]),
    )


class Rows:
    """The rows one outcome or a batch of them writes, gathered so that each table
    takes one statement."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.consents: list[dict[str, Any]] = []
        self.states: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []

    def outcome(self, outcome: Outcome, place: Place, *, channel: str,
                withheld: str | None, now: datetime) -> list[Message]:  # fmt: skip
        """Gather one outcome's rows; its replies.

        `withheld`: why answers from this update's text must never be quoted, if they
        must not (only a typed answer carries it; a skip or a choice does not)."""
        for answer in outcome.answers:
            text_checked = answer.kind == "text" and not answer.skipped
            self.answers.append(
                {
                    "conversation_id": place.conversation_id,
                    "resident_id": place.resident_id,
                    "round_id": place.round_id,
                    "step_id": answer.step_id,
                    "iteration": answer.iteration,
                    "kind": answer.kind,
                    "value": answer.value,
                    "display": answer.display,
                    "profile": answer.profile,
                    "skipped": answer.skipped,
                    "confirmed": answer.confirmed,
                    "withheld": withheld if text_checked else None,
                    "message_ref": answer.ref,
                    "answered_at": now,
                    "updated_at": now,
                }
            )
        completed = False
        for event in outcome.events:
            if isinstance(event, Completed):
                completed = True
            elif isinstance(event, ConsentGiven | ConsentDeclined):
                self.consents.append(
                    {
                        "resident_id": place.resident_id,
                        "consultation_id": place.consultation_id,
                        "version": event.version,
                        "given": isinstance(event, ConsentGiven),
                        "channel": channel,
                        "recorded_at": now,
                    }
                )
        self.states.append(
            {
                "conversation_id": place.conversation_id,
                "state_json": stored_state(outcome.state),
                "now": now,
                "completed_at": now if completed else None,
            }
        )
        return replies(outcome)


def update_record(*, channel: str, update_key: str, resident_id: int | None,
                  messages: list[Message], boot_id: str, flag: str | None,
                  now: datetime) -> dict[str, Any]:  # fmt: skip
    """The update recorded as handled, with its replies (kept until delivered).

    `flag`: "abuse" (the text was abusive) or "paused" (told to take a break)."""
    return {
        "channel": channel,
        "update_key": update_key,
        "resident_id": resident_id,
        "replies_json": json.dumps([m.to_dict() for m in messages]),
        "handled_at": now,
        "handled_by": boot_id,
        "delivered_at": None,
        "flag": flag,
    }


def keep_state(conversation: Conversation, row: dict[str, Any]) -> None:
    """Give the full path's conversation object its state row, for its flush to write.

    The object is in the session (and may have been changed there, e.g. by an
    erasure): a statement beside it would leave it stale, or be overwritten by it."""
    conversation.state_json = row["state_json"]
    conversation.updated_at = row["now"]
    if row["completed_at"] is not None:  # as the batch's coalesce
        conversation.completed_at = row["completed_at"]


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


_SAVE_STATE = (
    update(_conversation)
    .where(_conversation.c.id == bindparam("conversation_id"))
    .values(
        state_json=bindparam("state_json"),
        updated_at=bindparam("now"),
        completed_at=func.coalesce(bindparam("completed_at"), _conversation.c.completed_at),
    )
)


class OutcomeStatements:
    """The statements that store `Rows`, for one database dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.answers = _upsert_statement(dialect.name)
        self.consents = insert(_consent)
        self._prepared = (
            Prepared(self.answers, dialect, ANSWER_COLUMNS),
            Prepared(self.consents, dialect, CONSENT_COLUMNS),
            Prepared(_SAVE_STATE, dialect),
            Prepared(insert(_inbox), dialect, INBOX_COLUMNS),
        )

    def write(self, cursor: Cursor, rows: Rows) -> None:
        """Store a batch's rows: answers, consents, states, then the updates' records."""
        tables = (rows.answers, rows.consents, rows.states, rows.records)
        for statement, values in zip(self._prepared, tables, strict=True):
            if values:
                cursor.execute_many(statement, values)

    def write_answers(self, session: Session, rows: Rows) -> None:
        """Store the answers and consent records in the full path's transaction.

        `rows.states` and `rows.records` are left alone: there, the conversation and
        the update's record are objects in the session, written by its flush."""
        tables = ((self.answers, rows.answers), (self.consents, rows.consents))
        if not any(values for _, values in tables):
            return
        session.flush()  # these statements skip the unit of work: what it holds goes first
        connection = session.connection()
        for statement, values in tables:
            if values:
                connection.execute(statement, values)
