"""Deliberation steps, pure: the [prioritise] script part and each resident's fair plan."""

from __future__ import annotations

import json
import random
from collections import Counter
from itertools import combinations

import pytest

from conversations.flow import engine
from conversations.flow.deliberation import DeckTheme, new_deck, plan_pairs, plan_statements
from conversations.flow.inputs import ChoiceInput
from conversations.flow.script import Script, ScriptError
from conversations.flow.script_toml import parse_script
from conversations.flow.state import ConversationState, new_state
from conversations.locale import LANGUAGES

BASE = """
slug = "weigh"
area = "Town"
languages = ["en", "cy"]
title = { en = "T", cy = "T" }
[consent]
version = "1"
text = { en = "OK?", cy = "Iawn?" }
agree = { en = "Yes", cy = "Ie" }
decline = { en = "No", cy = "Na" }
declined = { en = "Bye", cy = "Hwyl" }
[[steps]]
id = "need"
kind = "text"
text = { en = "Need?", cy = "Angen?" }
"""
PAIRS = """
[[prioritise.steps]]
id = "pairs"
kind = "pairwise"
count = 4
text = { en = "Which? ({number}/{count})", cy = "Pa un? ({number}/{count})" }
same = { en = "Same", cy = "Yr un" }
unsure = { en = "Unsure", cy = "Ansicr" }
"""


def test_the_example_has_a_prioritise_part_in_every_language(example_script: Script) -> None:
    part = example_script.for_round("prioritise")
    assert [s.kind for s in part.steps] == ["message", "pairwise", "agree", "text", "end"]
    assert part.step("pairs").count == 8 and part.step("statements").count == 3
    assert set(part.step("pairs").labels["same"].by_language) == set(LANGUAGES)
    assert example_script.for_round("needs") is example_script
    assert example_script.theme_steps() == ["need", "missed"]


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        (BASE.replace('kind = "text"', 'kind = "pairwise"'), "belongs in [[prioritise.steps]]"),
        (
            BASE + PAIRS.replace("count = 4", "count = 31"),
            "'count' must be a whole number from 1 to 30",
        ),
        (
            BASE + PAIRS.replace('unsure = { en = "Unsure", cy = "Ansicr" }', ""),
            "'unsure' is missing",
        ),
        (BASE + PAIRS.replace('cy = "Yr un"', 'fr = "Pareil"'), "key 'fr': not a language"),
        (BASE + PAIRS.replace('id = "pairs"', 'id = "need"'), "used by a step of the needs round"),
        (BASE + PAIRS + PAIRS.replace('id = "pairs"', 'id = "more"'), "more than one pairwise"),
        (BASE + PAIRS.replace("count = 4", 'agree = "x"'), "'agree' does not apply"),
        (BASE + "[prioritise]\nsteps = 3\n", "at least one [[steps]]"),
        (BASE + "[prioritise]\nother = 1\n", "[[prioritise.steps]] only"),
        (
            BASE + PAIRS + '[[prioritise.steps]]\nid = "again"\nkind = "loop"\nback_to = "pairs"\n'
            'text = { en = "Again?", cy = "Eto?" }\n',
            "cannot be inside a loop",
        ),
    ],
)
def test_the_validator_names_what_is_wrong_with_a_prioritise_part(toml: str, problem: str) -> None:
    with pytest.raises(ScriptError) as raised:
        parse_script(toml, "weigh.toml")
    assert problem in str(raised.value)


def test_each_resident_sees_a_spread_and_the_round_a_balance() -> None:
    ids = list(range(1, 11))
    shown: Counter[tuple[int, int]] = Counter()
    for resident in range(90):
        pairs = plan_pairs(ids, 8, random.Random(resident), dict(shown))
        assert len({tuple(sorted(p)) for p in pairs}) == 8  # never the same pair twice
        mine = Counter(t for p in pairs for t in p)
        assert set(mine) == set(ids) and max(mine.values()) <= 2
        shown.update(tuple(sorted(p)) for p in pairs)
    # 90 residents x 8 pairs over 45 pairs: each pair shown about 16 times.
    assert max(shown.values()) - min(shown.values()) <= 2
    assert len(plan_pairs([1, 2, 3], 8, random.Random(0), {})) == 3
    assert plan_statements([1, 2, 3, 4], 2, random.Random(0), {1: 5, 2: 5}) in ([3, 4], [4, 3])


def test_the_deck_survives_a_json_round_trip_and_a_new_seed_gives_new_pairs() -> None:
    script = parse_script(BASE + PAIRS).for_round("prioritise")
    themes = [DeckTheme(n, f"Theme {n}", "") for n in range(1, 7)]
    state = new_state(script, "en")
    state.deck = new_deck(script.steps, themes, seed=1)
    again = ConversationState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again.deck == state.deck and again.deck is not state.deck
    assert new_deck(script.steps, themes, seed=1) == state.deck
    assert new_deck(script.steps, themes, seed=2)["plans"] != state.deck["plans"]
    assert all(set(p) < set(range(1, 7)) for p in combinations(range(1, 7), 2))


def test_without_themes_the_deliberation_steps_are_passed_over() -> None:
    script = parse_script(BASE + PAIRS).for_round("prioritise")
    state = new_state(script, "en")
    outcome = engine.step(script, state, ChoiceInput("_consent", 1, "_agree"))
    assert outcome.state.phase == "done"
