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
declined before anything is written (conversations/residents/policy.py), and the service's
full path handles it. Both paths store an outcome through conversations/residents/outcome_rows.py;
the conversation tests run through both.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, select

from conversations.flow import engine
from conversations.flow.inputs import ChoiceInput, EditedText, Input, TextInput, Unsupported
from conversations.flow.messages import Message
from conversations.flow.outcome import Outcome
from conversations.flow.script import Script
from conversations.flow.state import ConversationState
from conversations.residents import policy
from conversations.residents.outcome_rows import (
    OutcomeStatements,
    Place,
    Rows,
    seen_statement,
    update_record,
)
from conversations.screening import moderation, safeguarding
from conversations.storage.models import (
    ChannelIdentity,
    Consultation,
    Conversation,
    InboxEntry,
    Resident,
    Round,
    utcnow,
)
from conversations.storage.prepared import BySize, Cursor, transaction

# Tables, not ORM classes: Core statements skip the unit of work entirely.
log = logging.getLogger(__name__)
_identity = ChannelIdentity.__table__  # type: ignore[attr-defined]
_resident = Resident.__table__  # type: ignore[attr-defined]
_conversation = Conversation.__table__  # type: ignore[attr-defined]
_round = Round.__table__  # type: ignore[attr-defined]
_consultation = Consultation.__table__  # type: ignore[attr-defined]
_inbox = InboxEntry.__table__  # type: ignore[attr-defined]

FAST_INPUTS = (TextInput, EditedText, ChoiceInput, Unsupported)


@dataclass(frozen=True)
class _Plan:
    place: Place
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


class AnswerPath:
    """Answers in an open round, without the ORM. See the module's docstring."""

    def __init__(self, db: Engine, script_of: Callable[[str], Script | None], boot_id: str,
                 statements: OutcomeStatements) -> None:  # fmt: skip
        self.db = db
        self.script_of = script_of  # by content hash; None if not parsed yet
        self.boot_id = boot_id
        self.statements = statements
        self._sized = BySize(db.dialect)

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
                rows = Rows()
                for channel in {channel for channel, _ in chosen}:
                    batch = {
                        external_id: index
                        for (on, external_id), index in chosen.items()
                        if on == channel
                    }
                    self._plan_channel(cursor, channel, batch, requests, checks, now, rows, results)
                self.statements.write(cursor, rows)
        except Exception:  # e.g. an update handled meanwhile elsewhere: one by one, in full
            log.info("a batch of %d answers goes the full path", len(requests), exc_info=True)
            return [None] * len(requests)
        return results

    def _plan_channel(self, cursor: Cursor, channel: str, batch: dict[str, int],
                      requests: Sequence[AnswerRequest], checks: dict[int, str | None],
                      now: datetime, rows: Rows,
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
        found = cursor.all(
            self._sized(_read_statement, len(batch)),
            {
                "channel": channel,
                "since": now - policy.FLOOD_WINDOW,
                "abuse_since": now - policy.ABUSE_WINDOW,
            }
            | {f"external_id_{i}": external_id for i, external_id in enumerate(batch)},
        )
        for row in found:
            index = batch[row[0]]
            request = requests[index]
            if request.update_key in seen:
                continue  # a redelivery: the full path decides whether to send again
            try:
                plan = self._plan(row[1:], channel, request.given, checks.get(index))
            except _Decline:
                continue
            messages = rows.outcome(
                plan.outcome, plan.place, channel=channel, withheld=plan.withheld, now=now
            )
            rows.records.append(
                update_record(
                    channel=channel,
                    update_key=request.update_key,
                    resident_id=plan.place.resident_id,
                    messages=messages,
                    boot_id=self.boot_id,
                    flag="abuse" if plan.withheld == "abuse" else None,
                    now=now,
                )
            )
            results[index] = messages

    def _plan(self, row: tuple[Any, ...], channel: str, given: Input,
              check: str | None) -> _Plan:  # fmt: skip
        (resident_id, language, conversation_id, state_json, round_id, status, kind,
         consultation_id, script_hash, recent, abuse) = row  # fmt: skip
        refused = policy.refusal(
            recent=recent,
            given=given,
            abusive=lambda: abuse,
            disclosure=lambda: check is _DISCLOSURE,
        )
        if refused is not None or not policy.batch_takes_round(status=status, kind=kind):
            raise _Decline  # a flood or a pause: the full path says so
        script = self.script_of(script_hash)
        if script is None:
            raise _Decline
        script = script.for_round(kind)
        state = ConversationState.from_dict(json.loads(state_json))
        if policy.script_changed(script, state):
            raise _Decline
        if check is _DISCLOSURE:
            raise _Decline  # help at once, and a flag for the leads: the full path
        outcome = engine.step(script, state, given, channel=channel)
        if not policy.batch_writes(outcome, language):
            raise _Decline
        place = Place(resident_id, consultation_id, conversation_id, round_id)
        return _Plan(place, outcome, check)  # `check` is None but for text


_DISCLOSURE = "disclosure"


def _check(given: Input) -> str | None:
    """A typed answer's safety check: a disclosure of harm, "abuse" (stored, never
    quoted), or None (as for anything that is not text)."""
    if not isinstance(given, TextInput | EditedText):
        return None
    if safeguarding.assess(given.text).risk:
        return _DISCLOSURE
    return "abuse" if moderation.assess_abuse(given.text).flagged else None
