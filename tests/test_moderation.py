"""Tests for conversations.screening.moderation: abuse at people, hate, threats, and quotable swearing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.screening.moderation import assess_abuse

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
        ("the councillors are a pack of lying rats", "abusive"),
        ("that woman from housing is a fat slag", "abusive"),
        ("asylum seekers are leeches", "hateful"),
        ("go back to your own country", "hateful"),
        ("keep ignoring me and see what happens to your car", "threatening"),
        ("it would be a shame if something happened to your car", "threatening"),
        ("Bydda i'n dy ladd di", "threatening"),
        ("I'm calling you a useless twat", "abusive"),
        # phrasings the first lexicon missed
        ("you're all spineless clowns", "abusive"),
        ("I hope the whole cabinet chokes", "abusive"),
        ("the blacks are ruining our street", "hateful"),
        ("migrants are a plague on this town", "hateful"),
        ("I'll be round your house with my mates", "threatening"),
        ("I'll cut the councillor's tyres", "threatening"),
        # only the classifier sees this one
        ("I hope the planning officer rots", "abusive"),
        # issue 16: masked spelling, people named without a pronoun, harassment, Welsh
        ("the woman on the phone is a total sh1thead", "abusive"),
        ("you absolute tw@t", "abusive"),
        ("the lad at the desk is a c u n t", "abusive"),
        ("no m0ngs in our school", "hateful"),
        ("your housing officer is fit, I want her number", "abusive"),
        ("I've been sat outside her office every morning this week", "abusive"),
        ("cau dy geg, ti'n llo", "abusive"),
        # threats with no stock words
        ("I know which car the planning officer drives, she parks it by the gym", "threatening"),
        ("your daughter walks home past the chip shop, doesn't she", "threatening"),
        ("keep fobbing me off and nobody in that office will sleep easy", "threatening"),
        ("dw i'n gwybod lle ti'n byw", "threatening"),
        ("be a pity if the depot's windows got smashed", "threatening"),
        ("wait till I catch him in the car park", "threatening"),
        ("she's got lovely legs, that one on the front desk", "abusive"),
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
        "ffs the lift is broken again and the landlord is a crook about deposits",
        "we'll be outside the civic centre on Saturday with our petition",
        "they call my lad a m0ng at school, please help",
        "it would be a shame if the library closed",
        "wait till I see the state of the park after the fair",
        "The rats are taking over the bins",
        "I'd kill for a decent bus service",
        "I'm going to complain to my MP",
        "Mae'r bysiau'n hwyr bob blydi dydd",
        # reporting or quoting abuse received is not abuse
        "a lad on the bus called me a paki and nobody did anything",
        "I was called a fat slag by a neighbour, is that harassment?",
        "someone wrote 'muslims out' on the wall, please remove it",
        "the film had a villain who kept saying I'll kill you",
        # criticism of an act, denials, literal animals, phrases that only look like abuse
        "The councillor was an idiot to vote for this, frankly.",
        "immigrants are not all criminals",
        "a gang of thieves broke into the allotments",
        "we need to send them back the form",
        "I'm going to kill the weeds this year",
        "this sh*t service, they're useless",
        # praise, denials, plans and everyday words the classifier must not take for abuse
        "You are doing a great job",
        "Thank you for all your help",
        "I'll be round the council offices on Monday",
        "Refugees are not criminals, they need help",
        "I'll shoot some photos of the potholes for you",
        "Drop dead gorgeous flowers in the park this year",
        "Faultless",
    ],
)
def test_swearing_about_services_stays_quotable(text: str) -> None:
    assert not assess_abuse(text).flagged


# Measured (flagged yes/no), lexicon and classifier together: test R=100% P=89.7%; fresh R=100%
# P=96.9% (lexicon alone: test P=92.9%, fresh P=100%). Floors sit just under, so one more miss or false alarm
# fails.
FLOORS = {"test": (0.99, 0.89), "fresh": (0.99, 0.96)}


@pytest.mark.parametrize("split", sorted(FLOORS))
def test_recall_and_precision_on_held_out_splits(split: str) -> None:
    tp = fp = fn = 0
    for line in DATA.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["split"] != split:
            continue
        predicted, gold = assess_abuse(row["text"]).flagged, bool(row["flagged"])
        tp += predicted and gold
        fp += predicted and not gold
        fn += gold and not predicted
    recall_floor, precision_floor = FLOORS[split]
    assert tp / (tp + fn) >= recall_floor
    assert tp / (tp + fp) >= precision_floor


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_never_raises(text: str) -> None:
    result = assess_abuse(text)
    assert result.flagged == (result.abusive or result.hateful or result.threatening)
