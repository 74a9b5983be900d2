"""Deliberation steps, pure: which themes a resident weighs, and what their presses mean.

A prioritise round shows residents the themes found in their needs and asks them
to weigh them: "which matters more?" on pairs of themes (as All Our Ideas' wiki
surveys do) and agree / disagree / pass on a statement per theme (as Polis does).
The themes come in as plain data (a "deck" kept in the conversation state), so
the engine never reads the database. Each resident's questions are planned once,
from a seed in the deck: least-shown pairs and themes first, so that every theme
and pair is seen about equally often across the round, ties broken at random.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

from conversations.flow.script import Step, Text

KINDS = ("pairwise", "agree")
MAX_LABEL = 60  # a button's theme label, shortened on screen only
MAX_QUOTE = 280

PairChoice = Literal["left", "right", "same", "unsure"]
Stance = Literal["agree", "disagree", "pass"]


@dataclass(frozen=True)
class DeckTheme:
    """A theme as residents see it: its stable id, its name and one scrubbed quote."""

    theme_id: int
    label: str
    quote: str = ""
    quote_answer: int | None = None  # the answer quoted, so that /forget can take it back


@dataclass(frozen=True)
class Shown:
    """How often the round has already asked about each pair and each statement."""

    pairs: Mapping[tuple[int, int], int] = field(default_factory=dict)  # (low id, high id)
    statements: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PairVoted:
    """An answer to "which matters more?": `left` was shown first."""

    step_id: str
    position: int
    left: int
    right: int
    choice: PairChoice


@dataclass(frozen=True)
class StatementVoted:
    step_id: str
    position: int
    theme_id: int
    stance: Stance


Vote = PairVoted | StatementVoted


def new_deck(steps: Sequence[Step], themes: Sequence[DeckTheme], *, seed: int,
             shown: Shown | None = None) -> dict[str, Any]:  # fmt: skip
    """The deck for one resident: the themes and each deliberation step's planned questions."""
    shown = shown or Shown()
    ids = [t.theme_id for t in themes]
    plans: dict[str, list[list[int]]] = {}
    for step in steps:
        rng = random.Random(f"{seed}:{step.id}")
        if step.kind == "pairwise":
            plans[step.id] = [list(p) for p in plan_pairs(ids, step.count, rng, shown.pairs)]
        elif step.kind == "agree":
            plans[step.id] = [[t] for t in plan_statements(ids, step.count, rng, shown.statements)]
    return {
        "themes": {str(t.theme_id): [t.label, t.quote] for t in themes},
        "seed": seed,
        "plans": plans,
        "done": {},
    }


def plan_pairs(ids: Sequence[int], count: int, rng: random.Random,
               shown: Mapping[tuple[int, int], int]) -> list[tuple[int, int]]:  # fmt: skip
    """`count` distinct pairs (shown left, right): spread over the themes for this resident,
    then the pairs and themes the round has shown least, then at random."""
    pairs = list(combinations(sorted(set(ids)), 2))
    tiebreak = {pair: rng.random() for pair in pairs}
    seen_theme: Counter[int] = Counter()
    for (low, high), n in shown.items():
        seen_theme[low] += n
        seen_theme[high] += n
    mine: Counter[int] = Counter()
    chosen: list[tuple[int, int]] = []
    for _ in range(min(count, len(pairs))):
        best = min(
            (p for p in pairs if p not in chosen),
            key=lambda p: (
                max(mine[p[0]], mine[p[1]]),
                mine[p[0]] + mine[p[1]],
                shown.get(p, 0),
                seen_theme[p[0]] + seen_theme[p[1]],
                tiebreak[p],
            ),
        )
        chosen.append(best)
        mine.update(best)
    # Which theme is on top is random too, so that position favours none.
    return [(a, b) if rng.random() < 0.5 else (b, a) for a, b in chosen]


def plan_statements(ids: Sequence[int], count: int, rng: random.Random,
                    shown: Mapping[int, int]) -> list[int]:  # fmt: skip
    """`count` themes for agree / disagree: the least asked about first, then at random."""
    unique = sorted(set(ids))
    tiebreak = {t: rng.random() for t in unique}
    return sorted(unique, key=lambda t: (shown.get(t, 0), tiebreak[t]))[:count]


def _plan(step: Step, deck: Mapping[str, Any]) -> list[list[int]]:
    plans = deck.get("plans", {})
    return list(plans.get(step.id, []))


def _done(step: Step, deck: Mapping[str, Any]) -> int:
    return int(deck.get("done", {}).get(step.id, 0))


def pending(step: Step, deck: Mapping[str, Any]) -> bool:
    """Whether the step still has a question for this resident."""
    return _done(step, deck) < len(_plan(step, deck))


def position(step: Step, deck: Mapping[str, Any]) -> int:
    """The number of the question the resident is on (1 for the first)."""
    return _done(step, deck) + 1


def _theme(deck: Mapping[str, Any], theme_id: int) -> tuple[str, str]:
    label, quote = deck["themes"].get(str(theme_id), [f"Theme {theme_id}", ""])
    return str(label), str(quote)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def question(step: Step, deck: Mapping[str, Any], text_of: Callable[[Text], str]
             ) -> tuple[str, list[list[tuple[str, str]]]]:  # fmt: skip
    """The current question's text and its buttons as rows of (label, option id)."""
    plan = _plan(step, deck)
    number = position(step, deck)
    current = plan[number - 1]
    text = text_of(step.text).replace("{number}", str(number)).replace("{count}", str(len(plan)))
    if step.kind == "pairwise":
        lines = [text]
        for theme_id in current:
            label, quote = _theme(deck, theme_id)
            lines += ["", f"• {label}"] + ([f"  “{_short(quote, MAX_QUOTE)}”"] if quote else [])
        rows = [[(_short(_theme(deck, t)[0], MAX_LABEL), f"t{t}")] for t in current]
        rows.append([(text_of(step.labels["same"]), "_same"),
                     (text_of(step.labels["unsure"]), "_unsure")])  # fmt: skip
        return "\n".join(lines), rows
    label, quote = _theme(deck, current[0])
    text = text.replace("{theme}", label) if "{theme}" in text else f"{text}\n\n{label}"
    if quote:
        text += f"\n\n“{_short(quote, MAX_QUOTE)}”"
    stances = ("agree", "disagree", "pass")
    return text, [[(text_of(step.labels[s]), f"_{s}") for s in stances]]


def answer(step: Step, deck: dict[str, Any], option_id: str) -> Vote | None:
    """Record a press on the current question in the deck; None if it is not one of its buttons."""
    if not pending(step, deck):
        return None
    number = position(step, deck)
    current = _plan(step, deck)[number - 1]
    vote: Vote
    if step.kind == "pairwise":
        left, right = current
        choices: dict[str, PairChoice] = {
            f"t{left}": "left", f"t{right}": "right", "_same": "same", "_unsure": "unsure",
        }  # fmt: skip
        if option_id not in choices:
            return None
        vote = PairVoted(step.id, number, left, right, choices[option_id])
    else:
        stances: dict[str, Stance] = {"_agree": "agree", "_disagree": "disagree", "_pass": "pass"}
        if option_id not in stances:
            return None
        vote = StatementVoted(step.id, number, current[0], stances[option_id])
    deck.setdefault("done", {})[step.id] = number
    return vote
