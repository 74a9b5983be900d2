"""New residents joining by a deep link, for many residents in a few statements.

When a consultation is announced (a broadcast, a poster, a partner's post), hundreds
of people open its link within a minute. Each `/start slug` from someone new makes a
resident, their channel identity and a conversation, and asks for consent. The
service's full path does that through the ORM in about 2.5 ms of the database
thread; on SQLite, which has one writer, a burst of joins then queues every other
resident's answer behind it. `JoinPath` does the same for a batch of new residents in
one transaction with Core statements compiled once (conversations/storage/prepared.py).

Anything else is declined before anything is written, and the full path handles it:
someone we know already, a link without a consultation or to an unknown or closed
one, a round that needs the database to begin (prioritising), a script not parsed
yet, a redelivered update. Both paths write the same rows (tests/test_join_path.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, update

from conversations.flow import engine
from conversations.flow.inputs import Begin
from conversations.flow.messages import Message
from conversations.flow.script import Script
from conversations.flow.state import new_state
from conversations.residents import policy
from conversations.residents.outcome_rows import (
    OutcomeStatements,
    Rows,
    replies,
    seen_statement,
    stored_state,
    update_record,
)
from conversations.storage.models import (
    ChannelIdentity,
    Consultation,
    Conversation,
    Resident,
    Round,
    utcnow,
)
from conversations.storage.prepared import BySize, Cursor, Prepared, transaction

_identity = ChannelIdentity.__table__  # type: ignore[attr-defined]
_resident = Resident.__table__  # type: ignore[attr-defined]
_conversation = Conversation.__table__  # type: ignore[attr-defined]
_round = Round.__table__  # type: ignore[attr-defined]
_consultation = Consultation.__table__  # type: ignore[attr-defined]

RESIDENT_COLUMNS = ("pseudonym", "language", "created_at", "invitations", "unreachable")
CONVERSATION_COLUMNS = (
    "resident_id", "round_id", "state_json", "source", "started_at", "updated_at",
)  # fmt: skip
IDENTITY_COLUMNS = ("resident_id", "channel", "external_id", "chat_id", "created_at")


@dataclass(frozen=True)
class JoinRequest:
    """Someone's `/start slug` (or `slug--source`), already parsed."""

    channel: str
    external_id: str
    chat_id: str
    language: str | None  # their app's language, if the channel says
    update_key: str
    slug: str | None
    source: str | None


@dataclass(frozen=True)
class _Open:
    consultation_id: int
    script_hash: str
    round_id: int
    kind: str


def _known_statement(count: int) -> Any:
    """Which of `count` people (external_id_0 ...) the channel knows already."""
    return select(_identity.c.external_id).where(
        _identity.c.channel == bindparam("channel"),
        _identity.c.external_id.in_([bindparam(f"external_id_{i}") for i in range(count)]),
    )


class JoinPath:
    """New residents joining an open consultation, without the ORM. See the module."""

    def __init__(self, db: Engine, script_of: Callable[[str], Script | None], boot_id: str,
                 statements: OutcomeStatements) -> None:  # fmt: skip
        self.db = db
        self.script_of = script_of  # by content hash; None if not parsed yet
        self.boot_id = boot_id
        self.statements = statements
        dialect = db.dialect
        self._open = Prepared(
            select(
                _consultation.c.slug,
                _consultation.c.id,
                _consultation.c.script_hash,
                _round.c.id,
                _round.c.kind,
            )
            .select_from(_round.join(_consultation, _consultation.c.id == _round.c.consultation_id))
            .where(_round.c.status == "open"),
            dialect,
        )
        self._new_resident = Prepared(
            insert(_resident).returning(_resident.c.id), dialect, RESIDENT_COLUMNS
        )
        self._new_conversation = Prepared(
            insert(_conversation).returning(_conversation.c.id), dialect, CONVERSATION_COLUMNS
        )
        self._identity = Prepared(insert(_identity), dialect, IDENTITY_COLUMNS)
        self._current = Prepared(
            update(_resident)
            .where(_resident.c.id == bindparam("resident_id"))
            .values(current_conversation_id=bindparam("conversation_id")),
            dialect,
        )
        self._sized = BySize(dialect)

    def handle_many(self, requests: Sequence[JoinRequest]) -> list[list[Message] | None]:
        """Join each new resident, all in one transaction.

        The replies for each request, or None where the full path must handle it (and
        for all of them if the transaction fails, e.g. someone joined meanwhile from
        another worker). Someone with two requests here gets the first one handled."""
        results: list[list[Message] | None] = [None] * len(requests)
        chosen: dict[tuple[str, str], int] = {}
        for index, request in enumerate(requests):
            if request.slug is not None:
                chosen.setdefault((request.channel, request.external_id), index)
        if not chosen:
            return results
        with transaction(self.db) as cursor:
            rounds: dict[str, list[_Open]] = {}
            for slug, *row in cursor.all(self._open, {}):
                rounds.setdefault(slug, []).append(_Open(*row))
            now = utcnow()
            recorded = Rows()
            links: list[dict[str, Any]] = []
            identities: list[dict[str, Any]] = []
            for channel in {channel for channel, _ in chosen}:
                batch = [index for (on, _), index in chosen.items() if on == channel]
                for index in self._new(cursor, channel, batch, requests):
                    request = requests[index]
                    open_rounds = rounds.get(request.slug or "", [])
                    if len(open_rounds) != 1:
                        continue  # unknown, closed, or ambiguous: the full path explains
                    joined = self._join(cursor, request, open_rounds[0], now)
                    if joined is None:
                        continue
                    resident_id, conversation_id, messages = joined
                    results[index] = messages
                    identities.append(
                        {
                            "resident_id": resident_id,
                            "channel": channel,
                            "external_id": request.external_id,
                            "chat_id": request.chat_id,
                            "created_at": now,
                        }
                    )
                    links.append({"resident_id": resident_id, "conversation_id": conversation_id})
                    recorded.records.append(
                        update_record(
                            channel=channel,
                            update_key=request.update_key,
                            resident_id=resident_id,
                            messages=messages,
                            boot_id=self.boot_id,
                            flag=None,
                            now=now,
                        )
                    )
            for statement, rows in ((self._identity, identities), (self._current, links)):
                if rows:
                    cursor.execute_many(statement, rows)
            self.statements.write(cursor, recorded)
        return results

    def _new(self, cursor: Cursor, channel: str, batch: list[int],
             requests: Sequence[JoinRequest]) -> list[int]:  # fmt: skip
        """The requests in `batch` from people the channel does not know, not seen before."""
        keys = [requests[index].update_key for index in batch]
        seen = {
            row[0]
            for row in cursor.all(
                self._sized(seen_statement, len(keys)),
                {"channel": channel} | {f"key_{i}": key for i, key in enumerate(keys)},
            )
        }
        known = {
            row[0]
            for row in cursor.all(
                self._sized(_known_statement, len(batch)),
                {"channel": channel}
                | {
                    f"external_id_{i}": requests[index].external_id for i, index in enumerate(batch)
                },
            )
        }
        return [
            index
            for index in batch
            if requests[index].update_key not in seen and requests[index].external_id not in known
        ]

    def _join(self, cursor: Cursor, request: JoinRequest, open_round: _Open,
              now: datetime) -> tuple[int, int, list[Message]] | None:  # fmt: skip
        """Write one new resident and their conversation; None to leave it to the full path."""
        script = self.script_of(open_round.script_hash)
        if script is None or not policy.batch_takes_round(status="open", kind=open_round.kind):
            return None  # to be parsed, or a deck of themes to deal: the full path
        language = request.language or "en"
        state = new_state(script, language)
        outcome = engine.step(
            script.for_round(open_round.kind), state, Begin(), channel=request.channel
        )
        if outcome.answers or outcome.events:
            return None  # a script that records something at once: the full path
        (resident_id,) = cursor.all(
            self._new_resident,
            {
                "pseudonym": secrets.token_hex(8),
                "language": outcome.state.language,
                "created_at": now,
                "invitations": True,
                "unreachable": False,
            },
        )[0]
        (conversation_id,) = cursor.all(
            self._new_conversation,
            {
                "resident_id": resident_id,
                "round_id": open_round.round_id,
                "state_json": stored_state(outcome.state),
                "source": request.source,
                "started_at": now,
                "updated_at": now,
            },
        )[0]
        return resident_id, conversation_id, replies(outcome)
