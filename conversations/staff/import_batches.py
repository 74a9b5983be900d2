"""Imported batches stored and taken back: one transaction writes a whole file, and
a batch is removed as one.

Each imported row is a resident like any other (a pseudonym; no contact details;
known on the channel "import", so coverage counts them by channel, and by source
through their conversation's `source`), who agreed (the partner's form asked) and
is invited to nothing (no channel reaches them). Their conversation in the chosen
round is complete, and their answers are stored as the chat stores answers. Rows go
in bulk, each table in one statement, so that 10,000 rows take seconds.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, col, delete, select

from conversations.flow.script import Script
from conversations.flow.state import ConversationState
from conversations.staff.imports import Plan
from conversations.storage.erasure import delete_answers, keep_open_flags_of
from conversations.storage.models import (
    Answer,
    ChannelIdentity,
    ConsentRecord,
    Conversation,
    ImportBatch,
    Resident,
    Round,
    SafeguardingFlag,
    utcnow,
)
from conversations.storage.store import StoreError, audit

CHANNEL = "import"  # the channel imported residents are known on (coverage: "Imported")


def _table(model: Any) -> Any:
    return model.__table__


@dataclass(frozen=True)
class BatchSummary:
    batch: ImportBatch
    round: int
    flags: int  # safeguarding flags raised on its answers


def write_batch(*, session: Session, script: Script, round_: Round, plan: Plan,
                source: str, file_name: str, actor: str) -> ImportBatch:  # fmt: skip
    """Store a checked plan's rows as one batch (the caller's transaction holds it all)."""
    if plan.errors:
        raise StoreError(f"{len(plan.errors)} row(s) cannot be read: nothing was imported")
    if not plan.rows:
        raise StoreError("the file has no answers to import")
    assert round_.id is not None
    now = utcnow()
    batch = ImportBatch(consultation_id=round_.consultation_id, round_id=round_.id,
                        source=source, file_name=file_name[:200], rows=len(plan.rows),
                        answers=plan.answers, imported_by=actor, created_at=now)  # fmt: skip
    session.add(batch)
    session.flush()
    assert batch.id is not None
    connection = session.connection()
    pseudonyms = [secrets.token_hex(8) for _ in plan.rows]
    connection.execute(insert(_table(Resident)), [
        {"pseudonym": p, "language": script.default_language, "created_at": now,
         "invitations": False, "unreachable": False, "import_batch_id": batch.id}
        for p in pseudonyms
    ])  # fmt: skip
    ids: dict[str, int] = dict(
        connection.execute(
            select(Resident.pseudonym, Resident.id).where(Resident.import_batch_id == batch.id)
        ).all()
    )
    residents = [ids[p] for p in pseudonyms]
    connection.execute(insert(_table(ChannelIdentity)), [
        {"resident_id": r, "channel": CHANNEL, "external_id": f"{batch.id}:{row.number}",
         "chat_id": "", "created_at": now}
        for r, row in zip(residents, plan.rows, strict=True)
    ])  # fmt: skip
    connection.execute(insert(_table(ConsentRecord)), [
        {"resident_id": r, "consultation_id": round_.consultation_id,
         "version": script.consent.version, "given": True, "channel": CHANNEL,
         "recorded_at": now}
        for r in residents
    ])  # fmt: skip
    state = ConversationState(script.default_language, phase="done",
                              consent_version=script.consent.version)  # fmt: skip
    state_json = json.dumps(state.to_dict())
    connection.execute(insert(_table(Conversation)), [
        {"resident_id": r, "round_id": round_.id, "state_json": state_json, "source": source,
         "started_at": now, "updated_at": now, "completed_at": now, "import_batch_id": batch.id}
        for r in residents
    ])  # fmt: skip
    conversations: dict[int, int] = dict(
        connection.execute(
            select(Conversation.resident_id, Conversation.id).where(
                Conversation.import_batch_id == batch.id
            )
        ).all()
    )
    answers = [
        {"conversation_id": conversations[r], "resident_id": r, "round_id": round_.id,
         "step_id": a.step_id, "iteration": 1, "kind": a.kind, "value": a.value,
         "display": a.display, "profile": a.profile, "skipped": False, "confirmed": True,
         "withheld": a.withheld, "message_ref": None, "answered_at": now, "updated_at": now,
         "import_batch_id": batch.id}
        for r, row in zip(residents, plan.rows, strict=True)
        for a in row.answers
    ]  # fmt: skip
    connection.execute(insert(_table(Answer)), answers)
    flags = [
        {"resident_id": r, "consultation_id": round_.consultation_id,
         "categories": f.categories, "excerpt": f.excerpt, "channel": CHANNEL, "help_shown": "",
         "raised_at": now, "status": "open", "resident_forgotten": False,
         "import_batch_id": batch.id}
        for r, row in zip(residents, plan.rows, strict=True)
        for f in row.flags
    ]  # fmt: skip
    if flags:
        connection.execute(insert(_table(SafeguardingFlag)), flags)
    audit(session=session, actor=actor, action="import.batch", target=f"import:{batch.id}",
          detail=f"{source}: {len(plan.rows)} row(s), {plan.answers} answer(s), "
                 f"{len(flags)} flag(s) from {file_name[:100]}")  # fmt: skip
    return batch


def batches(*, session: Session, consultation_id: int) -> list[BatchSummary]:
    """A consultation's batches, the latest first (removed ones too, marked)."""
    flags = (
        select(SafeguardingFlag.import_batch_id, func.count())
        .where(col(SafeguardingFlag.import_batch_id).is_not(None))
        .group_by(col(SafeguardingFlag.import_batch_id))
    )
    flag_counts = dict(session.exec(flags).all())
    rows = session.exec(
        select(ImportBatch, Round.number)
        .join(Round, col(Round.id) == col(ImportBatch.round_id))
        .where(ImportBatch.consultation_id == consultation_id)
        .order_by(col(ImportBatch.id).desc())
    ).all()
    return [
        BatchSummary(batch, number, int(flag_counts.get(batch.id, 0))) for batch, number in rows
    ]


def require_batch(*, session: Session, batch_id: int) -> ImportBatch:
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise StoreError(f"there is no import batch #{batch_id}")
    return batch


@dataclass(frozen=True)
class Removed:
    residents: int
    answers: int
    flags_kept: int  # flags no lead has closed: they stay until one does


def remove_batch(*, session: Session, batch_id: int, actor: str) -> Removed:
    """Take a batch back: its residents, their answers with what was derived from them
    (themes, codes, vectors, quotes), consent and conversations. As on /forget, a
    safeguarding flag no lead has closed stays (without its resident) until one does."""
    batch = require_batch(session=session, batch_id=batch_id)
    if batch.removed_at is not None:
        raise StoreError(f"import batch #{batch_id} was removed already")
    theirs = select(Resident.id).where(Resident.import_batch_id == batch_id)
    residents = session.exec(select(func.count()).select_from(theirs.subquery())).one()
    answers = select(Answer.id).where(col(Answer.resident_id).in_(theirs))
    answer_count = session.exec(select(func.count()).select_from(answers.subquery())).one()
    delete_answers(session=session, answers=answers)
    kept = keep_open_flags_of(session=session, residents=theirs)
    session.exec(delete(ConsentRecord).where(col(ConsentRecord.resident_id).in_(theirs)))
    session.exec(delete(ChannelIdentity).where(col(ChannelIdentity.resident_id).in_(theirs)))
    session.exec(delete(Conversation).where(col(Conversation.resident_id).in_(theirs)))
    session.exec(delete(Resident).where(col(Resident.import_batch_id) == batch_id))
    batch.removed_at, batch.removed_by = utcnow(), actor
    session.add(batch)
    audit(session=session, actor=actor, action="import.remove", target=f"import:{batch_id}",
          detail=f"{residents} resident(s), {answer_count} answer(s); "
                 f"{kept} open flag(s) kept for the leads")  # fmt: skip
    return Removed(int(residents), int(answer_count), kept)


def batch_of_flags(*, session: Session, flag_ids: Sequence[int]) -> dict[int, ImportBatch]:
    """flag id -> the batch whose imported answer raised it, for the leads' pages."""
    rows = session.exec(
        select(SafeguardingFlag.id, ImportBatch)
        .join(ImportBatch, col(ImportBatch.id) == col(SafeguardingFlag.import_batch_id))
        .where(col(SafeguardingFlag.id).in_(list(flag_ids)))
    ).all()
    return {flag_id: batch for flag_id, batch in rows if flag_id is not None}
