"""Secondary themes on a small hand-labelled check: answers that state one need or two.

The answers below were written for this check (not drawn from the synthetic
generator); each is labelled with the needs it states, among the four needs of
tests/test_themes_data.py. A model fitted on the synthetic answers should give
a two-need answer both needs (primary plus a secondary) and give a one-need
answer no secondary. `threshold_sweep` is how the default secondary threshold
was checked; see docs/benchmarks.md (Themes).
"""

from __future__ import annotations

import pytest

from analysis.themes.model import UNTHEMED, ThemeModel
from tests.test_themes_data import synthetic_answers

ONE_NEED: list[tuple[str, set[str]]] = [
    ("the last bus leaves before my shift ends", {"transport"}),
    ("bus fares went up again and the timetable is a joke", {"transport"}),
    ("no buses to the hospital on a sunday", {"transport"}),
    ("the night bus was cut so I walk home from work", {"transport"}),
    ("bus routes to the estate were cancelled", {"transport"}),
    ("our rent is more than half of what we earn", {"housing"}),
    ("the landlord ignores repairs and there is mould in every room", {"housing"}),
    ("years on the council housing waiting list with two kids", {"housing"}),
    ("private rent is too high for young families", {"housing"}),
    ("the flat is damp and overcrowded", {"housing"}),
    ("the park is full of litter and broken glass", {"parks"}),
    ("dog fouling all over the green where children play", {"parks"}),
    ("bins in the park overflow every weekend", {"parks"}),
    ("the playground benches are broken and never fixed", {"parks"}),
    ("fly tipping by the green is never cleaned up", {"parks"}),
    ("teenagers have nowhere to go since the youth club shut", {"youth"}),
    ("there is nothing for young people to do in the evenings", {"youth"}),
    ("bring back youth club sessions for teenagers", {"youth"}),
    ("more sports for young people please", {"youth"}),
    ("kids hang around the shops because the youth centre closed", {"youth"}),
    ("the bus timetable changes every month and buses are always late", {"transport"}),
    ("rent keeps rising and landlords will not do repairs", {"housing"}),
]

TWO_NEEDS: list[tuple[str, set[str]]] = [
    ("rent is too high and the buses stop at 7", {"housing", "transport"}),
    (
        "the landlord never does repairs, also there is no bus service at night",
        {"housing", "transport"},
    ),
    ("bus fares are too expensive. Our flat has damp and mould", {"transport", "housing"}),
    ("the park is covered in litter and teenagers have nowhere to go", {"parks", "youth"}),
    ("nothing for young people to do and the buses stop early", {"youth", "transport"}),
    (
        "council housing waiting list takes years; the playground in the park is broken",
        {"housing", "parks"},
    ),
    ("dog fouling on the green, plus the youth club closed", {"parks", "youth"}),
    ("late buses for shift workers and litter in the park", {"transport", "parks"}),
    ("rent costs more than half our wages but the youth centre shut too", {"housing", "youth"}),
    ("the night bus was cut and private landlords charge too much rent", {"transport", "housing"}),
    ("overflowing bins in the park. No activities for teenagers", {"parks", "youth"}),
    (
        "families are overcrowded in damp flats and there are no sports for young people",
        {"housing", "youth"},
    ),
    (
        "buses to the hospital are always late, and fly tipping by the green is never cleaned",
        {"transport", "parks"},
    ),
    ("teenagers hang around the shops; bus routes were cancelled", {"youth", "transport"}),
    ("broken park benches and rent that keeps going up", {"parks", "housing"}),
    ("youth club sessions were stopped as well as the evening buses", {"youth", "transport"}),
    ("mould in the flat and dog fouling on the green outside", {"housing", "parks"}),
    (
        "no bus service after 7 in the evening. Nothing for young people either",
        {"transport", "youth"},
    ),
    (
        "the waiting list for council housing is years long and the bus timetable is useless",
        {"housing", "transport"},
    ),
    ("litter everywhere in the park, and landlords ignore repairs", {"parks", "housing"}),
    ("activities for teenagers closed down and park benches are broken", {"youth", "parks"}),
    ("bus fares went up and rent went up", {"transport", "housing"}),
]


@pytest.fixture(scope="module")
def model_and_names() -> tuple[ThemeModel, dict[int, str]]:
    texts, truth = synthetic_answers(per_theme=60, seed=1)
    model = ThemeModel(n_themes=4, random_state=0).fit(texts)
    names: dict[int, str] = {}
    for label, name in zip(model.labels_.tolist(), truth, strict=True):
        names.setdefault(label, name)
    return model, names


def found_needs(
    model: ThemeModel, names: dict[int, str], texts: list[str]
) -> list[tuple[str, set[str]]]:
    """(primary need, secondary needs) per answer, under the model's threshold."""
    primary = model.predict(texts)
    secondary = model.predict_secondary(texts)
    return [
        (names[int(p)], {names[int(s)] for s in extra if s != UNTHEMED})
        for p, extra in zip(primary, secondary, strict=True)
    ]


def threshold_sweep(
    model: ThemeModel, names: dict[int, str], thresholds: list[float]
) -> dict[float, tuple[float, float]]:
    """Threshold -> (share of two-need answers with both needs, share of one-need
    answers with no secondary)."""
    original = model.secondary_threshold
    result: dict[float, tuple[float, float]] = {}
    try:
        for threshold in thresholds:
            model.secondary_threshold = threshold
            two = found_needs(model, names, [t for t, _ in TWO_NEEDS])
            one = found_needs(model, names, [t for t, _ in ONE_NEED])
            both = sum({p} | s >= needs for (p, s), (_, needs) in zip(two, TWO_NEEDS, strict=True))
            clean = sum(not s for _, s in one)
            result[threshold] = (both / len(TWO_NEEDS), clean / len(ONE_NEED))
    finally:
        model.secondary_threshold = original
    return result


def test_the_check_is_big_enough_and_half_two_needs() -> None:
    assert len(ONE_NEED) + len(TWO_NEEDS) >= 40
    assert len(TWO_NEEDS) == len(ONE_NEED)
    assert all(len(needs) == 2 for _, needs in TWO_NEEDS)


def test_primary_need_is_right_on_one_need_answers(
    model_and_names: tuple[ThemeModel, dict[int, str]],
) -> None:
    model, names = model_and_names
    found = found_needs(model, names, [t for t, _ in ONE_NEED])
    right = sum(p in needs for (p, _), (_, needs) in zip(found, ONE_NEED, strict=True))
    assert right >= 0.9 * len(ONE_NEED)


def test_default_threshold_finds_both_needs_without_inventing_them(
    model_and_names: tuple[ThemeModel, dict[int, str]],
) -> None:
    model, names = model_and_names
    both, clean = threshold_sweep(model, names, [model.secondary_threshold])[
        model.secondary_threshold
    ]
    assert both >= 0.8, f"two-need answers with both needs: {both:.0%}"
    assert clean >= 0.9, f"one-need answers without a secondary: {clean:.0%}"


def test_threshold_trades_recall_for_precision(
    model_and_names: tuple[ThemeModel, dict[int, str]],
) -> None:
    model, names = model_and_names
    sweep = threshold_sweep(model, names, [0.0, 0.2, 0.6])
    assert sweep[0.0][0] >= sweep[0.2][0] >= sweep[0.6][0]
    assert sweep[0.0][1] <= sweep[0.2][1] <= sweep[0.6][1]
