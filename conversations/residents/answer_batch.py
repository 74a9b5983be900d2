"""The updates residents send most, handled for many residents in a few statements.

Nearly every update is a button press or a typed answer to the question a
resident is on. `AnswerPath` handles those with SQLAlchemy Core: two reads (the
residents, their conversations, rounds and consultations and recent updates; and
which updates were seen already), then the answers upserted, the states saved and
the updates recorded, one statement per table, in one transaction for a whole batch
of residents. The ORM's flushes cost several times that, and this path is the one
that limits how many residents a bot can serve, so its statements are compiled once
and run on the DB-API cursor (conversations/storage/prepared.py). On SQLite every statement
also lets the event loop's thread take the interpreter, and the database thread then
waits to get it back: a batch pays that a few times, not a few times per resident.

Anything else (a new resident, whom conversations/residents/join_batch.py takes, a disclosure
of harm, a change of language, a closed round, a redelivered update, a flood) is
declined before anything is written, and the service's full path handles it. Both paths write the
same rows; the conversation tests run through both.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from conversations.flow import engine
from conversations.flow.inputs import ChoiceInput, EditedText, Input, TextInput, Unsupported
from conversations.flow.messages import Message, to_message
from conversations.flow.outcome import Completed, ConsentDeclined, ConsentGiven, Outcome
from conversations.flow.script import Script
from conversations.flow.state import ConversationState
from conversations.screening import moderation, safeguarding
from conversations.storage.models import (
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
from conversations.storage.prepared import BySize, Cursor, Prepared, transaction

# Tables, not ORM classes: Core statements skip the unit of work entirely.
log = logging.getLogger(__name__)
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
FAST_INPUTS = (TextInput, EditedText, ChoiceInput, Unsupported)
# A declined consent is not among them: it erases what the resident sent (conversations/storage/erasure.py).
_EVENTS = (Completed, ConsentGiven)


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
    outcome: Outcome
    withheld: str | None


class _Decline(Exception):
    """Not a case for the fast path: leave it to the full path."""


@dataclass(frozen=True)
class AnswerRequest:
    """One resident's update for the fast path."""

    channel: str
    external_id: str
    update_key: str
    given: Input


def _read_statement(count: int) -> Any:
    """The state of `count` residents (external_id_0 ...), with their recent updates."""
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
    return (
        select(
            _identity.c.external_id,
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
        )
        .select_from(
            _identity.join(_resident, _resident.c.id == _identity.c.resident_id)
            .join(_conversation, _conversation.c.id == _resident.c.current_conversation_id)
            .join(_round, _round.c.id == _conversation.c.round_id)
            .join(_consultation, _consultation.c.id == _round.c.consultation_id)
        )
        .where(
            _identity.c.channel == bindparam("channel"),
            _identity.c.external_id.in_([bindparam(f"external_id_{i}") for i in range(count)]),
        )
        # PostgreSQL: each resident's updates in turn, as the full path's lock does; in
        # the order of their ids, so two workers' batches never wait for each other.
        .order_by(_resident.c.id)
        .with_for_update(of=_resident)
    )


def seen_statement(count: int) -> Any:
    """Which of `count` update keys (key_0 ...) were handled already."""
    return select(_inbox.c.update_key).where(
        _inbox.c.channel == bindparam("channel"),
        _inbox.c.update_key.in_([bindparam(f"key_{i}") for i in range(count)]),
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
        self._sized = BySize(dialect)

    def handle(self, channel: str, external_id: str, update_key: str,
               given: Input) -> list[Message] | None:  # fmt: skip
        """Handle `given` if it is a plain answer; None if the full path must."""
        return self.handle_many([AnswerRequest(channel, external_id, update_key, given)])[0]

    def handle_many(self, requests: Sequence[AnswerRequest]) -> list[list[Message] | None]:
        """Handle each request that is a plain answer, all in one transaction.

        The replies for each request, or None where the full path must handle it (and
        for all of them if the transaction fails). A resident with two updates here gets
        the first handled; the second waits for the full path, after this commits."""
        results: list[list[Message] | None] = [None] * len(requests)
        chosen: dict[tuple[str, str], int] = {}
        for index, request in enumerate(requests):
            if isinstance(request.given, FAST_INPUTS):
                chosen.setdefault((request.channel, request.external_id), index)
        if not chosen:
            return results
        # The texts' safety checks are the costliest part, and need nothing from the
        # database: done before the transaction, so SQLite's lock is held only briefly.
        checks = {index: _check(requests[index].given) for index in chosen.values()}
        try:
            with transaction(self.db) as cursor:
                now = utcnow()
                writes = _Writes()
                for channel in {channel for channel, _ in chosen}:
                    batch = {
                        external_id: index
                        for (on, external_id), index in chosen.items()
                        if on == channel
                    }
                    self._plan_channel(
                        cursor, channel, batch, requests, checks, now, writes, results
                    )
                for statement, rows in (
                    (self._upsert, writes.answers),
                    (self._consent, writes.consents),
                    (self._save_state, writes.states),
                    (self._record, writes.records),
                ):
                    if rows:
                        cursor.execute_many(statement, rows)
        except Exception:  # e.g. an update handled meanwhile elsewhere: one by one, in full
            log.info("a batch of %d answers goes the full path", len(requests), exc_info=True)
            return [None] * len(requests)
        return results

    def _plan_channel(self, cursor: Cursor, channel: str, batch: dict[str, int],
                      requests: Sequence[AnswerRequest], checks: dict[int, str | None],
                      now: datetime, writes: _Writes,
                      results: list[list[Message] | None]) -> None:  # fmt: skip
        """Step each resident of one channel in `batch` (external id -> request index)."""
        keys = [requests[index].update_key for index in batch.values()]
        seen = {
            row[0]
            for row in cursor.all(
                self._sized(seen_statement, len(keys)),
                {"channel": channel} | {f"key_{i}": key for i, key in enumerate(keys)},
            )
        }
        rows = cursor.all(
            self._sized(_read_statement, len(batch)),
            {
                "channel": channel,
                "since": now - self.flood_window,
                "abuse_since": now - self.abuse_window,
            }
            | {f"external_id_{i}": external_id for i, external_id in enumerate(batch)},
        )
        for row in rows:
            index = batch[row[0]]
            request = requests[index]
            if request.update_key in seen:
                continue  # a redelivery: the full path decides whether to send again
            try:
                plan = self._plan(row[1:], channel, request.given, checks.get(index))
            except _Decline:
                continue
            results[index] = writes.add(plan, request, now, self.boot_id)

    def _plan(self, row: tuple[Any, ...], channel: str, given: Input,
              check: str | None) -> _Plan:  # fmt: skip
        (resident_id, language, conversation_id, state_json, round_id, status, kind,
         consultation_id, script_hash, recent, abuse) = row  # fmt: skip
        if recent >= self.flood_limit or status != "open" or kind == "prioritise":
            raise _Decline
        script = self.script_of(script_hash)
        if script is None:
            raise _Decline
        script = script.for_round(kind)
        state = ConversationState.from_dict(json.loads(state_json))
        if (state.step is not None and not script.has_step(state.step)) or (
            state.phase == "steps" and state.consent_version != script.consent.version
        ):
            raise _Decline  # the script changed under the resident
        withheld = None
        if isinstance(given, TextInput | EditedText):
            if abuse >= self.abuse_limit:
                raise _Decline  # paused after repeated abuse: the full path says so
            if check is _DISCLOSURE:
                raise _Decline  # help at once, and a flag for the leads: the full path
            withheld = check
        outcome = engine.step(script, state, given, channel=channel)
        if outcome.state.language != language or any(
            not isinstance(e, _EVENTS) for e in outcome.events
        ):
            raise _Decline
        return _Plan(resident_id, consultation_id, conversation_id, round_id, outcome, withheld)


_DISCLOSURE = "disclosure"


def _check(given: Input) -> str | None:
    """A typed answer's safety check: a disclosure of harm, "abuse" (stored, never
    quoted), or None (as for anything that is not text)."""
    if not isinstance(given, TextInput | EditedText):
        return None
    if safeguarding.assess(given.text).risk:
        return _DISCLOSURE
    return "abuse" if moderation.assess_abuse(given.text).flagged else None


class _Writes:
    """The rows a batch writes, gathered so that each table takes one statement."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.consents: list[dict[str, Any]] = []
        self.states: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []

    def add(self, plan: _Plan, request: AnswerRequest, now: datetime, boot_id: str
            ) -> list[Message]:  # fmt: skip
        """Gather one planned answer's rows; its replies."""
        outcome = plan.outcome
        for answer in outcome.answers:
            text_checked = answer.kind == "text" and not answer.skipped
            self.answers.append(
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
                    "withheld": plan.withheld if text_checked else None,
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
                        "resident_id": plan.resident_id,
                        "consultation_id": plan.consultation_id,
                        "version": event.version,
                        "given": isinstance(event, ConsentGiven),
                        "channel": request.channel,
                        "recorded_at": now,
                    }
                )
        self.states.append(
            {
                "conversation_id": plan.conversation_id,
                "state_json": json.dumps(outcome.state.to_dict()),
                "now": now,
                "completed_at": now if completed else None,
            }
        )
        messages = [to_message(reply) for reply in outcome.replies]
        self.records.append(
            {
                "channel": request.channel,
                "update_key": request.update_key,
                "resident_id": plan.resident_id,
                "replies_json": json.dumps([m.to_dict() for m in messages]),
                "handled_at": now,
                "handled_by": boot_id,
                "delivered_at": None,
                "flag": "abuse" if plan.withheld == "abuse" else None,
            }
        )
        return messages
