"""Tests for conversations.moderation: abuse at people, hate, threats, and quotable swearing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.moderation import assess_abuse

DATA = Path(__file__).parent / "data" / "abuse_labelled.jsonl"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("The housing officer is a lazy bastard", "abusive"),
        ("you lot are complete morons", "abusive"),
        ("go fuck yourselves", "abusive"),
        ("Refugees are vermin", "hateful"),
        ("keep the pikeys out of the park", "hateful"),
        ("Someone should shoot the councillors", "threatening"),
        ("I know where the planning officer lives", "threatening"),
        ("I'll burn the depot down", "threatening"),
    ],
)
def test_flags_abuse(text: str, kind: str) -> None:
    result = assess_abuse(text)
    assert getattr(result, kind)
    assert result.flagged
    assert result.evidence


@pytest.mark.parametrize(
    "text",
    [
        "The bloody buses are always late",
        "The bins are shit and the roads are crap",
        "It's fucking ridiculous how long the GP takes",
        "Refugee families need school places",
        "The rats are taking over the bins",
        "I'd kill for a decent bus service",
        "I'm going to complain to my MP",
        "Mae'r bysiau'n hwyr bob blydi dydd",
    ],
)
def test_swearing_about_services_stays_quotable(text: str) -> None:
    assert not assess_abuse(text).flagged


def test_recall_and_precision_on_labelled_set() -> None:
    # Measured 100% recall and 95.3% precision (flagged yes/no, dev+test); floors just under.
    tp = fp = fn = 0
    for line in DATA.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        predicted, gold = assess_abuse(row["text"]).flagged, bool(row["flagged"])
        tp += predicted and gold
        fp += predicted and not gold
        fn += gold and not predicted
    assert tp / (tp + fn) >= 0.97
    assert tp / (tp + fp) >= 0.93


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_never_raises(text: str) -> None:
    result = assess_abuse(text)
    assert result.flagged == (result.abusive or result.hateful or result.threatening)
