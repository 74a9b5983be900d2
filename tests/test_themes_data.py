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


# Needs as residents wrote them in a trial (issue 15): 22 answers about six subjects.
SIX_SUBJECTS: dict[str, list[str]] = {
    "buses": [
        "The buses stop running at 7pm so I can't get home after my evening shift",
        "No bus after 7 in the evening, shift workers have to pay for taxis",
        "Buses to the hospital are every two hours and always late",
        "The bus route to town was cut and I can't get to work without a car",
    ],
    "gp": [
        "I can never get a GP appointment, you ring at 8am and they're all gone",
        "Waiting three weeks to see a doctor at the surgery",
        "The GP surgery phone line is engaged all morning",
        "Can't book an appointment online, have to queue at the surgery",
    ],
    "damp": [
        "Damp flat with black mould everywhere and the landlord won't fix it",
        "Mould in the children's bedroom making my son's asthma worse",
        "The housing association ignores our reports of damp and condensation",
        "Our walls are wet and the mould keeps coming back",
    ],
    "lights": [
        "Broken street lights on our road make walking home at night unsafe",
        "The street lamps have been out for months and it's pitch dark",
        "Dark alley by the station with no lighting, I feel unsafe at night",
    ],
    "loneliness": [
        "I live alone since my wife died and go days without speaking to anyone",
        "Older people are lonely and isolated at home with nobody to talk to",
        "The day centre closed and now I feel very isolated",
        "I'm housebound and lonely, a befriending visit would help",
    ],
    "youth": [
        "Nothing for teenagers to do in the evenings so they hang around the shops",
        "The youth club closed and young people have nowhere to go",
        "We need more activities and sports for young people after school",
    ],
}


def six_subject_answers() -> tuple[list[str], list[str]]:
    """The 22 answers and their subjects, in subject order."""
    rows = [(text, subject) for subject, texts in SIX_SUBJECTS.items() for text in texts]
    return [text for text, _ in rows], [subject for _, subject in rows]
