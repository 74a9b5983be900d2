"""What a consultation's public results page reads ("we asked, you said, we did").

Only what officers have stood behind leaves here: the codebook's reviewed themes
(never proposed ones), their quotes with withheld answers left out, and the
decisions recorded on themes. Quote texts are returned as stored; the caller
scrubs them of personal details before anyone sees them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from conversations.staff import codebook
from conversations.staff.themes import is_current, latest_run, quote_texts, themes_of_run
from conversations.storage.models import Decision, Round


@dataclass(frozen=True)
class ReviewedTheme:
    theme_id: int
    label: str
    size: int
    quotes: tuple[str, ...]  # as stored, withheld answers left out: scrub before showing


def reviewed_themes(*, session: Session, consultation_id: int) -> list[ReviewedTheme]:
    """The latest run's current themes that are in the codebook, largest first."""
    run = latest_run(session=session, consultation_id=consultation_id)
    if run is None or run.id is None:
        return []
    book = codebook.reviewed(session=session, consultation_id=consultation_id)
    return [
        ReviewedTheme(t.theme_id, t.label, t.size, tuple(quote_texts(session=session, theme=t)))
        for t in themes_of_run(session=session, run_id=run.id)
        if is_current(t) and t.theme_id in book
    ]


def decisions(*, session: Session, consultation_id: int) -> list[Decision]:
    """Every decision recorded in the consultation, oldest first."""
    return list(
        session.exec(
            select(Decision)
            .where(Decision.consultation_id == consultation_id)
            .order_by(col(Decision.decided_at), col(Decision.id))
        ).all()
    )


def heard_round(*, session: Session, consultation_id: int) -> Round | None:
    """The latest needs round that has opened: the one whose taking part is reported."""
    return session.exec(
        select(Round)
        .where(
            Round.consultation_id == consultation_id,
            Round.kind == "needs",
            col(Round.status).in_(("open", "closed")),
        )
        .order_by(col(Round.number).desc())
    ).first()
