"""Tests for conversations.safeguarding: categories, negation, Welsh, hard negatives, recall floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.safeguarding import CATEGORIES, assess

DATA = Path(__file__).parent / "data" / "safeguarding_labelled.jsonl"

POSITIVE = [
    ("I don't want to live any more", "suicide_self_harm"),
    ("im thinking of killing my self", "suicide_self_harm"),
    ("i feel sucidal", "suicide_self_harm"),
    ("my daughter has been self harming", "suicide_self_harm"),
    ("My partner hits me when he drinks", "domestic_violence"),
    ("I'm scared of my ex, he keeps turning up", "domestic_violence"),
    ("my carer takes my pension", "abuse"),
    ("my neighbour hits his kids every night", "child_at_risk"),
    ("I'm in danger he's outside the door", "immediate_danger"),
    ("Dw i eisiau marw", "suicide_self_harm"),
    ("Mae fy ngŵr yn fy nharo i", "domestic_violence"),
    ("Dw i ddim yn ddiogel", "immediate_danger"),
]

NEGATIVE = [
    "I'm not suicidal, just fed up with the buses",
    "The bins are killing me",
    "I could kill for a Sunday bus",
    "I don't want to live next to the new incinerator",
    "The council should fund suicide prevention",
    "More money for domestic violence refuges please",
    "Child benefit should not be capped",
    "I used to self-harm as a teenager and want better services for young people",
    "Dw i ddim eisiau byw yn y dref yma ar ôl y toriadau",
    "the GP wait is murder and the potholes are a danger",
]


@pytest.mark.parametrize(("text", "category"), POSITIVE)
def test_flags_disclosures(text: str, category: str) -> None:
    result = assess(text)
    assert result.risk
    assert category in result.categories
    assert any(e.category == category for e in result.evidence)


@pytest.mark.parametrize("text", NEGATIVE)
def test_ignores_ordinary_and_negated_answers(text: str) -> None:
    assert assess(text) == assess(text, language="cy")
    assert not assess(text).risk


def test_urgency_escalates_to_immediate_danger() -> None:
    assert "immediate_danger" in assess("He says he'll kill me tonight").categories


def _rows() -> list[dict[str, object]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]


def test_recall_and_precision_on_labelled_set() -> None:
    # Measured 98% recall, 100% precision (risk yes/no, dev+test); floors sit just under.
    tp = fp = fn = 0
    for row in _rows():
        predicted, gold = assess(str(row["text"])).risk, bool(row["risk"])
        tp += predicted and gold
        fp += predicted and not gold
        fn += gold and not predicted
    assert tp / (tp + fn) >= 0.96
    assert tp / (tp + fp) >= 0.97


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_never_raises_and_categories_are_known(text: str) -> None:
    result = assess(text)
    assert set(result.categories) <= set(CATEGORIES)
    assert result.risk == bool(result.categories)
