"""What residents prioritised, and what was decided, for an evidence pack.

The priority figures are the latest prioritise round's (bot/actions/priorities.py),
with two honest readings made here: two themes are "too close to call" when their
95% intervals overlap, and a round with fewer than FEW residents is "too few to
say" (analysis.evidence.data.Priority.verdict words both).
"""

from __future__ import annotations

from collections.abc import Mapping

from analysis.evidence.data import FEW, DecisionRow, GroupAgreement, Priority
from bot.actions.decision_status import STATUS_NAMES
from bot.actions.digest_figures import dimension_name
from bot.actions.priorities import PriorityReport, RankedTheme
from conversations.storage.models import Decision


def overlaps(a: RankedTheme, b: RankedTheme) -> bool:
    """Whether two themes' 95% intervals overlap: their order is too close to call."""
    return a.priority.low <= b.priority.high and b.priority.low <= a.priority.high


def priority_of(
    report: PriorityReport | None, theme_id: int, labels: Mapping[tuple[str, str], str]
) -> Priority | None:
    """A theme's place in the latest prioritise round (None: not in one, or nobody voted)."""
    if report is None or not report.participants:
        return None
    found = next((t for t in report.themes if t.priority.theme == theme_id), None)
    if found is None:
        return None
    p = found.priority
    close = tuple(
        t.label for t in report.themes if t.priority.theme != theme_id and overlaps(found, t)
    )
    groups = tuple(
        GroupAgreement(
            dimension_name(dimension),
            labels.get((dimension, g.group), g.group),
            g.votes,
            g.agree,
            g.votes < FEW,
        )
        for dimension, found_groups in p.groups.items()
        for g in found_groups
    )
    return Priority(
        round_number=report.round,
        participants=report.participants,
        rank=found.rank,
        ranked=len(report.themes),
        win_share=p.win_share,
        score=p.score,
        low=p.low,
        high=p.high,
        comparisons=p.comparisons,
        close_to=close,
        agreement=p.agreement,
        statement_votes=p.statement_votes,
        consensus=p.consensus,
        common_ground=p.common_ground,
        divided_by=tuple(dimension_name(d) for d in p.divided_by),
        groups=groups,
    )


def decisions_on(decisions: list[Decision], theme_id: int) -> tuple[DecisionRow, ...]:
    """The decisions recorded on a theme, oldest first, with where each stands."""
    return tuple(
        DecisionRow(
            d.text,
            d.decided_at,
            d.residents_told,
            STATUS_NAMES.get(d.status, d.status),
            d.status_note or "",
        )
        for d in decisions
        if d.theme_id == theme_id
    )
