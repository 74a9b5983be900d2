"""Synthetic consultation answers with known themes, for the theme tests."""

from __future__ import annotations

import random

THEMES: dict[str, tuple[list[str], list[str], list[str]]] = {
    # theme: (openings, subjects, endings) combined into answers.
    "transport": (
        ["late buses for shift workers", "the buses stop at 7", "no bus service", "bus fares"],
        ["the night bus", "buses to the hospital", "the bus timetable", "bus routes"],
        ["so shift workers cannot get home", "after 7 in the evening", "are always late"],
    ),
    "housing": (
        ["rent is too high", "private landlords", "damp and mould in flats", "council housing"],
        ["rent for young families", "the waiting list for council housing", "landlord repairs"],
        ["and families are overcrowded", "costs more than half our wages", "takes years"],
    ),
    "parks": (
        ["litter in the park", "dog fouling on the green", "park benches are broken"],
        ["the playground in the park", "overflowing bins in the park", "fly tipping by the green"],
        ["is never cleaned", "makes the park dirty", "needs more litter bins"],
    ),
    "youth": (
        ["nothing for young people", "the youth club closed", "teenagers have nowhere to go"],
        ["youth club sessions", "activities for teenagers", "sports for young people"],
        ["in the evenings", "so they hang around the shops", "since the youth centre shut"],
    ),
}


def synthetic_answers(per_theme: int = 40, seed: int = 0) -> tuple[list[str], list[str]]:
    """Answers and their true themes, shuffled."""
    rng = random.Random(seed)
    rows: list[tuple[str, str]] = []
    for theme, (openings, subjects, endings) in THEMES.items():
        for _ in range(per_theme):
            start = rng.choice(openings + subjects)
            rows.append((f"{start} {rng.choice(endings)}", theme))
    rng.shuffle(rows)
    return [text for text, _ in rows], [theme for _, theme in rows]
