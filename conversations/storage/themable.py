"""Which answers the theme analysis reads: the one clause for every query that lists,
counts, embeds or codes them.

An answer is themable when it answers one of the consultation's theme questions (the
script's theme steps), was given (not skipped), and is not withheld (a safeguarding
disclosure or abuse: stored and counted, never themed or quoted).

Other rules on purpose, elsewhere: an answer already in a run's theme is read with
"not withheld" alone (it was themable when the run read it, and one withheld since
is never shown); a digest's "answers given" (bot.actions.digest_figures) counts every
answer residents gave to a question, withheld ones too; the dashboard's recent answers
are a round's quotable text answers to any question (conversations.storage.store).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select
from sqlmodel import col

from conversations.storage.models import Answer, Round

Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])  # any select, of any columns


def where_themable(query: Query, *, consultation_id: int, questions: Sequence[str]) -> Query:
    """`query` (a select from Answer) narrowed to the consultation's themable answers."""
    return query.join(Round, col(Round.id) == col(Answer.round_id)).where(
        col(Round.consultation_id) == consultation_id,
        col(Answer.step_id).in_(questions),
        col(Answer.skipped).is_(False),
        may_be_shown(),
    )


def may_be_shown() -> ColumnElement[bool]:
    """Answers that may be shown, quoted or themed: not withheld (a disclosure of harm or
    abuse is stored and counted, never shown)."""
    return col(Answer.withheld).is_(None)
