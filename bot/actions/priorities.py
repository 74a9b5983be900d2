"""Prioritise rounds, end to end: the themes a round shows, and what residents made of them.

Glue between the store (conversations/) and the scoring (analysis/priorities.py):
the themes come from the latest analysis run with one quote each, free of
personal details; votes are read back under pseudonyms, mapped through officers'
merges (a vote on a theme later merged counts for the theme it went into) and
scored. The command line, the Telegram staff commands, the digest and the web
dashboard all call `priorities_report` (or `digest_priorities`) from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from math import isfinite
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from analysis.digest import Priorities, Priority
from analysis.personal_details.scrub import find_personal_details
from analysis.priorities import (
    TOO_CLOSE,
    Comparison,
    Reaction,
    Standing,
    ThemePriority,
    score,
    standings,
)
from bot.actions.analysis_runs import shown_quote
from conversations.flow.deliberation import DeckTheme
from conversations.flow.script import Script
from conversations.staff import codebook, themes
from conversations.staff.rounds import Rounds
from conversations.storage import priority_votes, store
from conversations.storage.models import Consultation, Round, RunTheme
from conversations.storage.scripts import ScriptCache

# Resamples for the digest's and the public page's intervals: enough to say which
# themes are too close to call, cheap enough for a page anyone may load.
QUICK_BOOTSTRAP = 50
MAX_ROUND_THEMES = 20  # beyond this, pairs are too thinly spread to rank
OUTCOMES = {"low": 1.0, "high": 0.0, "same": 0.5}
STANCES = {"agree": 1, "disagree": -1, "pass": 0}
NOT_A_GROUP = frozenset({"prefer-not", "not-said"})


def themes_to_prioritise(session: Session, consultation: Consultation) -> list[DeckTheme]:
    """The codebook's themes (reviewed by officers), largest first, each with one safe
    quote: residents never weigh a proposed theme that the next run may change."""
    assert consultation.id is not None
    run = themes.latest_run(session=session, consultation_id=consultation.id)
    if run is None or run.id is None:
        return []
    book = codebook.reviewed(session=session, consultation_id=consultation.id)
    live = [
        t
        for t in themes.themes_of_run(session=session, run_id=run.id)
        if themes.is_current(t) and t.size > 0 and t.theme_id in book
    ][:MAX_ROUND_THEMES]
    # Only a quote with no personal detail left at all (as the digest does).
    chosen = [
        next(
            ((q, a) for a, q in _shown(session, t) if not find_personal_details(q)),
            ("", None),
        )
        for t in live
    ]
    return [DeckTheme(t.theme_id, t.label, q, a) for t, (q, a) in zip(live, chosen, strict=True)]


def _shown(session: Session, theme: RunTheme) -> list[tuple[int, str]]:
    """A theme's quotes as officers see them (`shown_quote`), with their answers' ids."""
    return [
        (a, shown_quote(text)) for a, text in themes.quoted_answers(session=session, theme=theme)
    ]


def open_round(db: Engine, slug: str, *, kind: str, actor: str) -> Round:
    """Open the next round; a prioritise round shows the latest analysis's themes."""
    shown: list[DeckTheme] = []
    if kind == "prioritise":
        with Session(db) as session:
            consultation = store.require_consultation(session=session, slug=slug)
            shown = themes_to_prioritise(session, consultation)
    return Rounds(db).open(slug, actor=actor, kind=kind, themes=shown)


@dataclass(frozen=True)
class RankedTheme:
    rank: int  # shared by themes too close to call (analysis.priorities.standings)
    label: str
    priority: ThemePriority
    joint: bool = False
    against_average: str = "about"

    @property
    def place(self) -> str:
        return Standing(self.rank, self.joint, self.against_average).place


@dataclass(frozen=True)
class PriorityReport:
    consultation: str
    round: int
    status: str
    participants: int  # residents with at least one vote
    pair_votes: int  # scored (both the same included)
    unsure: int  # "can't say"
    statement_votes: int
    themes: tuple[RankedTheme, ...]

    @property
    def too_close_to_call(self) -> bool:
        """The votes separate no theme from the rest."""
        return len(self.themes) > 1 and all(t.rank == 1 for t in self.themes)

    def bands(self) -> list[tuple[RankedTheme, ...]]:
        """Themes sharing a rank, where more than one does: each is too close to call."""
        by_rank: dict[int, list[RankedTheme]] = {}
        for t in self.themes:
            by_rank.setdefault(t.rank, []).append(t)
        return [tuple(band) for band in by_rank.values() if len(band) > 1]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["too_close_to_call"] = self.too_close_to_call
        data["themes"] = [
            {"rank": t.rank, "joint": t.joint, "place": t.place, "id": t.priority.theme,
             "label": t.label, "against_average": t.against_average} | _figures(t.priority)
            for t in self.themes
        ]  # fmt: skip
        return data


def _figures(p: ThemePriority) -> dict[str, Any]:
    def rounded(x: float | None) -> float | None:
        return None if x is None or not isfinite(x) else round(x, 4)

    return {
        "score": rounded(p.score),
        "interval": [rounded(p.low), rounded(p.high)],
        "win_share": rounded(p.win_share),
        "comparisons": p.comparisons,
        "wins": p.wins,
        "agree": p.agree,
        "disagree": p.disagree,
        "pass": p.passes,
        "agreement": rounded(p.agreement),
        "consensus": rounded(p.consensus),
        "common_ground": p.common_ground,
        "divisive": p.divisive,
        "divided_by": list(p.divided_by),
        "groups": {
            dimension: {
                g.group: {
                    "votes": g.votes,
                    "agree": g.agree,
                    "disagree": g.disagree,
                    "agreement": rounded(g.agreement),
                }
                for g in found
            }
            for dimension, found in p.groups.items()
        },
    }


def priorities(session: Session, consultation: Consultation, script: Script, *,
               bootstrap: int = 200) -> PriorityReport | None:  # fmt: skip
    """The latest prioritise round's scores, or None if there has been none."""
    assert consultation.id is not None
    round_ = priority_votes.latest_prioritise_round(
        session=session, consultation_id=consultation.id
    )
    if round_ is None or round_.id is None:
        return None
    renames, merges = themes.officer_edits(session=session, consultation_id=consultation.id)

    def surviving(theme_id: int) -> int:
        seen = {theme_id}
        while theme_id in merges and merges[theme_id] not in seen:
            theme_id = merges[theme_id]
            seen.add(theme_id)
        return theme_id

    shown = priority_votes.round_themes(session=session, round_id=round_.id)
    labels = _current_labels(session, consultation.id) | renames
    ids = list(dict.fromkeys(surviving(t.theme_id) for t in shown))
    for t in shown:
        labels.setdefault(surviving(t.theme_id), t.label)
    comparisons, unsure, voters = [], 0, set()
    for vote in priority_votes.pair_votes(session=session, round_id=round_.id):
        voters.add(vote.resident)
        low, high = surviving(vote.low), surviving(vote.high)
        if vote.outcome == "unsure":
            unsure += 1
        elif low != high:  # merged into one theme since: no preference left to read
            comparisons.append(Comparison(vote.resident, low, high, OUTCOMES[vote.outcome]))
    stances: dict[tuple[str, int], Reaction] = {}
    for stance in priority_votes.statement_votes(session=session, round_id=round_.id):
        voters.add(stance.resident)
        theme = surviving(stance.theme_id)
        # After a merge one resident may have two stances on a theme: the later one counts.
        stances[(stance.resident, theme)] = Reaction(stance.resident, theme, STANCES[stance.stance])
    scored = score(ids, comparisons, list(stances.values()), _groups(session, consultation, script),
                   bootstrap=bootstrap)  # fmt: skip
    return PriorityReport(
        consultation=consultation.slug,
        round=round_.number,
        status=round_.status,
        participants=len(voters),
        pair_votes=len(comparisons),
        unsure=unsure,
        statement_votes=len(stances),
        themes=tuple(
            RankedTheme(
                place.rank,
                labels.get(p.theme, f"Theme {p.theme}"),
                p,
                place.joint,
                place.against_average,
            )
            for p, place in zip(scored, standings(scored), strict=True)
        ),
    )


def _current_labels(session: Session, consultation_id: int) -> dict[int, str]:
    run = themes.latest_run(session=session, consultation_id=consultation_id)
    if run is None or run.id is None:
        return {}
    return {t.theme_id: t.label for t in themes.themes_of_run(session=session, run_id=run.id)}


def _groups(session: Session, consultation: Consultation, script: Script
            ) -> dict[str, dict[str, str]]:  # fmt: skip
    """pseudonym -> dimension -> group, keeping only groups the population counts."""
    assert consultation.id is not None
    result: dict[str, dict[str, str]] = {}
    for pseudonym, profile in store.profiles(
        session=session, consultation_id=consultation.id
    ).items():
        kept = {
            dimension: group
            for dimension, group in profile.items()
            if group not in NOT_A_GROUP
            and (dimension not in script.population or group in script.population[dimension])
        }
        if kept:
            result[pseudonym] = kept
    return result


def priorities_report(db: Engine, slug: str, *, bootstrap: int = 200) -> PriorityReport:
    """`needsfirst priorities SLUG` and the dashboard: the latest prioritise round, scored."""
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        report = priorities(session, consultation, ScriptCache().get(consultation),
                            bootstrap=bootstrap)  # fmt: skip
    if report is None:
        raise store.StoreError(
            f"'{slug}' has had no prioritise round (needsfirst round open {slug} --kind prioritise)"
        )
    return report


def digest_priorities(session: Session, consultation: Consultation, script: Script
                      ) -> Priorities | None:  # fmt: skip
    """The digest's priorities: support is the chance a theme is preferred to another."""
    report = priorities(session, consultation, script, bootstrap=QUICK_BOOTSTRAP)
    if report is None or not report.participants:
        return None
    return Priorities(
        round_number=report.round,
        participants=report.participants,
        items=tuple(
            Priority(
                t.priority.theme,
                t.label,
                t.priority.win_share,
                t.priority.consensus,
                place=t.place,
                joint=t.joint,
            )
            for t in report.themes
        ),
        too_close_to_call=report.too_close_to_call,
    )


def format_priorities(report: PriorityReport) -> str:
    """A plain-text table, for the command line and Telegram."""
    lines = [
        f"{report.consultation}, round {report.round} (prioritise, {report.status}): "
        f"{report.participants} residents voted: {report.pair_votes} pair votes "
        f"(+{report.unsure} can't say), {report.statement_votes} statement votes",
        "",
        "Rank  Score (95% interval)    Preferred  Pairs  Agree (votes)  Consensus  Theme",
    ]
    rank = {t.priority.theme: (f"={t.rank}" if t.joint else str(t.rank)) for t in report.themes}
    for t in report.themes:
        p = t.priority
        agree = f"{p.agreement:>4.0%} ({p.statement_votes})" if p.agreement is not None else "-"
        consensus = f"{p.consensus:.2f}" if p.consensus is not None else "-"
        flag = " common ground" if p.common_ground else (
            f" divided by {', '.join(p.divided_by)}" if p.divisive else "")  # fmt: skip
        lines.append(
            f"{rank[p.theme]:>4}  {p.score:+.2f} ({p.low:+.2f} to {p.high:+.2f})  {p.win_share:>8.0%}"
            f"  {p.comparisons:>5}  {agree:<13}  {consensus:>9}  {p.theme}. {t.label}{flag}"
        )
    lines += ["", *too_close_lines(report)]
    divided = [t for t in report.themes if t.priority.divisive]
    for t in divided:
        lines.append("")
        lines.append(f"{t.priority.theme}. {t.label}: groups disagree")
        for dimension in t.priority.divided_by:
            groups = ", ".join(
                f"{g.group} {g.agree}/{g.votes} agree" for g in t.priority.groups[dimension]
            )
            lines.append(f"  by {dimension.replace('_', ' ')}: {groups}")
    return "\n".join(lines)


def too_close_lines(report: PriorityReport) -> list[str]:
    """The ranking's uncertainty in words (the command line, Telegram and the digest)."""
    if report.too_close_to_call:
        return [f"The ranking is {TOO_CLOSE}: residents' votes do not separate any theme from "
                "the others (every theme's range overlaps the top one's)."]  # fmt: skip
    return [
        f"{TOO_CLOSE.capitalize()} (joint {band[0].place.removeprefix('joint ')}): "
        + ", ".join(f"{t.priority.theme}. {t.label}" for t in band)
        + ": their ranges overlap."
        for band in report.bands()
    ] or ["Each theme's rank is clear of the next: no ranges overlap."]
