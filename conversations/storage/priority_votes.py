"""Storage for prioritise rounds: the themes a round shows, and residents' votes.

The themes are fixed when the round opens (so a re-analysis mid-round changes
nothing residents see); votes are kept under the theme ids of that moment and
mapped through officers' merges when they are scored. A resident votes once on
a pair and once on a statement per round: the engine never asks twice, and the
tables' unique constraints hold even against a forged or replayed press.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from conversations.flow.deliberation import (
    DeckTheme,
    PairVoted,
    Shown,
    StatementVoted,
    Vote,
    new_deck,
)
from conversations.flow.script import Script
from conversations.storage.models import (
    Conversation,
    PairVote,
    Resident,
    Round,
    RoundTheme,
    StatementVote,
)
from conversations.storage.store import ExportRow


def save_round_themes(*, session: Session, round_id: int, themes: Sequence[DeckTheme]) -> None:
    session.exec(delete(RoundTheme).where(col(RoundTheme.round_id) == round_id))
    session.add_all(
        RoundTheme(
            round_id=round_id,
            theme_id=t.theme_id,
            label=t.label[:200],
            quote=t.quote,
            quote_answer_id=t.quote_answer if t.quote else None,
            position=number,
        )
        for number, t in enumerate(themes)
    )
    session.flush()


def round_themes(*, session: Session, round_id: int) -> list[DeckTheme]:
    rows = session.exec(
        select(RoundTheme)
        .where(RoundTheme.round_id == round_id)
        .order_by(col(RoundTheme.position), col(RoundTheme.id))
    ).all()
    return [DeckTheme(r.theme_id, r.label, r.quote) for r in rows]


def shown_so_far(*, session: Session, round_id: int) -> Shown:
    """How many votes each pair and statement has had in the round, for a fair spread."""
    pairs = session.exec(
        select(PairVote.low_theme_id, PairVote.high_theme_id, func.count())
        .where(PairVote.round_id == round_id)
        .group_by(col(PairVote.low_theme_id), col(PairVote.high_theme_id))
    ).all()
    statements = session.exec(
        select(StatementVote.theme_id, func.count())
        .where(StatementVote.round_id == round_id)
        .group_by(col(StatementVote.theme_id))
    ).all()
    return Shown(
        pairs={(low, high): int(n) for low, high, n in pairs},
        statements={theme: int(n) for theme, n in statements},
    )


def deck_for(*, session: Session, script: Script, round_id: int, seed: int) -> dict[str, object]:
    """A new resident's deck for a prioritise round (`script` is the round's own)."""
    themes = round_themes(session=session, round_id=round_id)
    shown = shown_so_far(session=session, round_id=round_id)
    return new_deck(script.steps, themes, seed=seed, shown=shown)


def save_vote(*, session: Session, conversation: Conversation, vote: Vote) -> bool:
    """Store a vote unless the resident already voted on that pair or statement."""
    assert conversation.id is not None
    if isinstance(vote, PairVoted):
        low, high = sorted((vote.left, vote.right))
        if vote.choice in ("left", "right"):
            chosen = vote.left if vote.choice == "left" else vote.right
            outcome = "low" if chosen == low else "high"
        else:
            outcome = vote.choice
        exists = session.exec(
            select(PairVote.id).where(
                PairVote.round_id == conversation.round_id,
                PairVote.resident_id == conversation.resident_id,
                PairVote.low_theme_id == low,
                PairVote.high_theme_id == high,
            )
        ).first()
        if exists is not None:
            return False
        session.add(
            PairVote(
                round_id=conversation.round_id,
                resident_id=conversation.resident_id,
                conversation_id=conversation.id,
                step_id=vote.step_id,
                position=vote.position,
                low_theme_id=low,
                high_theme_id=high,
                left_theme_id=vote.left,
                outcome=outcome,
            )
        )
        return True
    assert isinstance(vote, StatementVoted)
    exists = session.exec(
        select(StatementVote.id).where(
            StatementVote.round_id == conversation.round_id,
            StatementVote.resident_id == conversation.resident_id,
            StatementVote.theme_id == vote.theme_id,
        )
    ).first()
    if exists is not None:
        return False
    session.add(
        StatementVote(
            round_id=conversation.round_id,
            resident_id=conversation.resident_id,
            conversation_id=conversation.id,
            step_id=vote.step_id,
            position=vote.position,
            theme_id=vote.theme_id,
            stance=vote.stance,
        )
    )
    return True


def latest_prioritise_round(*, session: Session, consultation_id: int) -> Round | None:
    return session.exec(
        select(Round)
        .where(Round.consultation_id == consultation_id, Round.kind == "prioritise")
        .order_by(col(Round.number).desc())
    ).first()


@dataclass(frozen=True)
class PairRecord:
    resident: str  # pseudonym
    low: int
    high: int
    outcome: str


@dataclass(frozen=True)
class StatementRecord:
    resident: str
    theme_id: int
    stance: str


def pair_votes(*, session: Session, round_id: int) -> list[PairRecord]:
    rows = session.exec(
        select(Resident.pseudonym, PairVote.low_theme_id, PairVote.high_theme_id, PairVote.outcome)
        .join(Resident, col(Resident.id) == col(PairVote.resident_id))
        .where(PairVote.round_id == round_id)
        .order_by(col(PairVote.id))
    ).all()
    return [PairRecord(*row) for row in rows]


def statement_votes(*, session: Session, round_id: int) -> list[StatementRecord]:
    rows = session.exec(
        select(Resident.pseudonym, StatementVote.theme_id, StatementVote.stance)
        .join(Resident, col(Resident.id) == col(StatementVote.resident_id))
        .where(StatementVote.round_id == round_id)
        .order_by(col(StatementVote.id))
    ).all()
    return [StatementRecord(*row) for row in rows]


def votes_of_resident(*, session: Session, resident_id: int) -> list[dict[str, object]]:
    """A resident's votes, for /mydata."""
    pairs = session.exec(
        select(PairVote).where(PairVote.resident_id == resident_id).order_by(col(PairVote.id))
    ).all()
    statements = session.exec(
        select(StatementVote)
        .where(StatementVote.resident_id == resident_id)
        .order_by(col(StatementVote.id))
    ).all()
    return [
        {"round_id": p.round_id, "pair": [p.low_theme_id, p.high_theme_id],
         "answer": p.outcome, "at": p.voted_at.isoformat()}
        for p in pairs
    ] + [
        {"round_id": s.round_id, "theme": s.theme_id, "answer": s.stance,
         "at": s.voted_at.isoformat()}
        for s in statements
    ]  # fmt: skip


def export_rows(*, session: Session, consultation_id: int) -> Iterator[ExportRow]:
    """Every vote of a consultation as export rows, under pseudonymous ids only.

    A pair's answer reads `7>3` (7 matters more than 3), `3=7` (the same) or `3?7`
    (can't say); a statement's reads `7:agree`, `7:disagree` or `7:pass`."""
    labels = _labels(session, consultation_id)
    pairs = session.exec(
        select(PairVote, Resident.pseudonym, Round.number, Conversation.source)
        .join(Resident, col(Resident.id) == col(PairVote.resident_id))
        .join(Round, col(Round.id) == col(PairVote.round_id))
        .join(Conversation, col(Conversation.id) == col(PairVote.conversation_id))
        .where(Round.consultation_id == consultation_id)
        .order_by(col(Round.number), col(Resident.pseudonym), col(PairVote.position))
    ).all()
    for vote, pseudonym, number, source in pairs:
        low, high = vote.low_theme_id, vote.high_theme_id
        name = (
            labels.get((vote.round_id, low), str(low)),
            labels.get((vote.round_id, high), str(high)),
        )
        if vote.outcome in ("low", "high"):
            first, second = (low, high) if vote.outcome == "low" else (high, low)
            answer = f"{first}>{second}"
            shown = (f"{name[0]} > {name[1]}" if vote.outcome == "low"
                     else f"{name[1]} > {name[0]}")  # fmt: skip
        else:
            mark = "=" if vote.outcome == "same" else "?"
            answer, shown = f"{low}{mark}{high}", f"{name[0]} {mark} {name[1]}"
        yield _row(pseudonym, number, vote.step_id, vote.position, answer, shown,
                   vote.voted_at, source)  # fmt: skip
    statements = session.exec(
        select(StatementVote, Resident.pseudonym, Round.number, Conversation.source)
        .join(Resident, col(Resident.id) == col(StatementVote.resident_id))
        .join(Round, col(Round.id) == col(StatementVote.round_id))
        .join(Conversation, col(Conversation.id) == col(StatementVote.conversation_id))
        .where(Round.consultation_id == consultation_id)
        .order_by(col(Round.number), col(Resident.pseudonym), col(StatementVote.position))
    ).all()
    for stance, pseudonym, number, source in statements:
        label = labels.get((stance.round_id, stance.theme_id), str(stance.theme_id))
        yield _row(pseudonym, number, stance.step_id, stance.position,
                   f"{stance.theme_id}:{stance.stance}", f"{label}: {stance.stance}",
                   stance.voted_at, source)  # fmt: skip


def _labels(session: Session, consultation_id: int) -> dict[tuple[int, int], str]:
    rows = session.exec(
        select(RoundTheme.round_id, RoundTheme.theme_id, RoundTheme.label)
        .join(Round, col(Round.id) == col(RoundTheme.round_id))
        .where(Round.consultation_id == consultation_id)
    ).all()
    return {(round_id, theme_id): label for round_id, theme_id, label in rows}


def _row(resident: str, round_number: int, step_id: str, position: int, answer: str,
         label: str, at: datetime, source: str | None) -> ExportRow:  # fmt: skip
    return ExportRow(
        resident=resident,
        round=round_number,
        question=step_id,
        iteration=position,
        answer=answer,
        answer_label=label,
        skipped=False,
        confirmed=True,
        answered_at=at,
        source=source,
    )
