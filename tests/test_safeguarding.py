"""Tests for conversations.screening.safeguarding: categories, negation, hyperbole, Welsh, quality floors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.screening import safeguarding
from conversations.screening.safeguarding import CATEGORIES, assess
from conversations.screening.safeguarding_cues import classifier_applies

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
    # indirect hopelessness, methods and acts (a colleague's spot-check missed these)
    ("whats the point of anything anymore", "suicide_self_harm"),
    ("everyone would be happier if i was gone", "suicide_self_harm"),
    ("I've got a rope ready", "suicide_self_harm"),
    ("been stockpiling my tablets", "suicide_self_harm"),
    ("the buses make me want to die lol but I've got a rope ready", "suicide_self_harm"),
    ("Does dim pwynt i ddim byd bellach", "suicide_self_harm"),
    # strangulation, threats and coercive control by a partner
    ("he grabbed me by the throat last night", "domestic_violence"),
    ("terrified to go home, he said he'd hurt me", "domestic_violence"),
    ("my husband keeps my bank card and won't let me see my family", "domestic_violence"),
    # neglect by age, elder abuse, immediate danger
    ("my 8 year old is left on his own every weekend", "child_at_risk"),
    ("my son takes her pension and leaves her in soiled sheets", "abuse"),
    ("someone is trying to break in, I'm hiding in the bathroom", "immediate_danger"),
    # phrasings no first-round pattern named: the compositional patterns catch these
    ("my fella batters me when he's had a few", "domestic_violence"),
    ("the carer slapped my nan across the face", "abuse"),
    ("i keep cutting my legs so nobody sees", "suicide_self_harm"),
    ("the lad next door gets locked out in the cold all night by his mum", "child_at_risk"),
    ("my ex put a tracker on my phone and turns up wherever I go", "domestic_violence"),
    ("I've saved up my sleeping pills for when I'm ready", "suicide_self_harm"),
    ("my stepdad hits my little sister and she's only 6", "child_at_risk"),
    ("nobody would notice if I died tomorrow", "suicide_self_harm"),
    ("the man upstairs keeps giving the girls from the school vodka", "child_at_risk"),
    ("My self-harm has got worse since we were moved to the hotel", "suicide_self_harm"),
    # issue 16: method research and leaving, with none of the words of suicide
    ("i googled how many co-codamol is too many", "suicide_self_harm"),
    ("been searching painless ways, nobody would know", "suicide_self_harm"),
    ("don't bother with the form, I won't be around to fill it in", "suicide_self_harm"),
    # issue 16: a lodger, a carer, a gang; Welsh control; homeless tonight
    ("my nan's lodger has her bank card and she's not eating", "abuse"),
    ("mae fy ngŵr yn rheoli'r arian i gyd a dydw i ddim yn cael gadael y tŷ", "domestic_violence"),
    ("I'm sleeping in my car tonight with the kids", "homeless_tonight"),
]

# No pattern matches these: only the classifier sees them.
CLASSIFIER_ONLY = [
    "been thinking bout ending things tbh",
    "someone has just smashed through the back door and I'm upstairs",
    "they've got my passport and I work in the kitchen for no pay",
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
    # hyperbole: a laugh or an everyday nuisance cancels the loose phrases
    "the buses make me want to die lol",
    "this queue is killing me",
    "I could murder a coffee",
    "if I have to fill in one more form I'll jump off a bridge haha",
    "I was killing myself laughing at the new signs",
    "I nearly killed myself tripping on the pavement",
    # old enough to be home alone; ordinary words that sit near the patterns
    "my 16 year old is home alone for an hour after school",
    "I'm not fed up, just tired",
    "I'll end it there, thanks",
    "the council asked for photos of the mould, my son took them",
    "my husband has the keys to the allotment",
    # talk about services, games, machines, history, and short feedback with no one at risk
    "The self-harm support group at the library needs funding",
    "County lines is a problem in the town, the police need more resources",
    "My partner beat me at pool in the pub",
    "The machine at the tip took my money",
    "My dad collapsed last year and the ambulance took two hours",
    "I tried to take my life at 19 and the crisis team saved me, please fund them",
    "I want to die in my own home when the time comes",
    "Cut myself on a broken bottle in the park, please clear up the glass",
    "Can't think of anything",
    "More leave for carers",
    "Faultless",
    "I want to end my garden waste subscription",
    "my kids are killing me with their noise lol",
    "I read about overdose figures in the paper",
    "years ago I was homeless but I'm settled now",
    "the hospice in Killay needs more volunteers",
    "this weather will be the death of me",
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


@pytest.mark.parametrize("text", CLASSIFIER_ONLY)
def test_classifier_catches_what_no_pattern_names(text: str) -> None:
    assert not safeguarding._pattern_risk(text)
    result = assess(text)
    assert result.risk
    assert any(e.text.startswith("classifier (") for e in result.evidence)


def test_classifier_is_not_asked_about_service_talk_or_cue_less_feedback() -> None:
    assert not classifier_applies("More money for domestic violence refuges please")
    assert not classifier_applies("Cannot think of anything to improve")
    assert classifier_applies("my partner is violent, I need a refuge")


def test_urgency_escalates_to_immediate_danger() -> None:
    assert "immediate_danger" in assess("He says he'll kill me tonight").categories


# Issue 16, item 4: the graded response. Danger now is a crisis; ongoing harm and passive
# thoughts are a concern (gentle signposting); hardship that is a need is no risk at all.
CRISIS = [
    "he's kicking the door in right now and I've locked myself in the loo",
    "I've got nowhere to sleep tonight, the shelter turned me away",
    "dw i'n cysgu ar y stryd heno, does gen i unman",
    "I've saved all my tablets and tonight is the night",
]
CONCERN = [
    "my husband checks my phone and won't let me see my sister",
    "sometimes I think everyone would be better off without me",
    "my mum's carer keeps taking money out of her purse",
    "I scratch my arms when the stress gets too much",
]
NEEDS = [
    "We live in a damp flat and my kids keep getting ill",
    "Since my husband died I'm so lonely, nobody visits for weeks",
    "We're behind on the rent and the gas is on the emergency credit",
    "The mould in the bedroom is making my asthma worse",
    "Dw i'n unig iawn ers i fy ngwraig farw",
]


@pytest.mark.parametrize("text", CRISIS)
def test_danger_now_is_a_crisis(text: str) -> None:
    result = assess(text)
    assert result.risk and result.severity == "crisis"


@pytest.mark.parametrize("text", CONCERN)
def test_worrying_signs_are_a_concern_not_a_crisis(text: str) -> None:
    result = assess(text)
    assert result.risk and result.severity == "concern"


@pytest.mark.parametrize("text", NEEDS)
def test_hardship_that_is_a_need_is_no_risk(text: str) -> None:
    result = assess(text)
    assert not result.risk and result.severity is None


def test_a_consultations_own_words_are_never_risk_words() -> None:
    words = safeguarding.own_words(["South (Marsh End, Brookvale)", "Killay", "Prefer not to say"])
    assert {"South", "Marsh End", "Brookvale", "Killay"} <= set(words)
    for text in ("I live in Marsh End", "Killay", "we're in Marsh End, near Brookvale"):
        assert not assess(text, own_words=words).risk
    # Naming a place never hides what else is said.
    assert assess("I live in Marsh End and my partner hits me", own_words=words).risk


def _rows() -> list[dict[str, object]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]


# Measured (risk yes/no), patterns and classifier together: test R=100% P=100%; fresh R=100%
# P=90.3% (patterns alone: test R=97.7% P=100%; fresh R=100% P=94.9%: the classifier costs a few
# false alarms here for far better recall on phrasings nobody wrote patterns for). Floors sit
# just under, so one more miss or false alarm fails. Issue 16 (training on the independent set,
# asking the classifier about every longer answer, a threshold that keeps 85% precision on
# out-of-fold scores) took independent-dev recall from 74% to 97% and cost precision here:
# now test R=100% P=89.6% (5 false alarms in 48 flagged), fresh R=100% P=88.9% (7 in 63).
# Training on three more writers, with thresholds chosen on scores from models that never saw
# the writer, left test as it was and cost fresh one false alarm (8 in 64, P=87.5%): the fresh
# floor is now issue 16's own precision floor, 0.85.
FLOORS = {"test": (0.99, 0.89), "fresh": (0.99, 0.85)}


@pytest.mark.parametrize("split", sorted(FLOORS))
def test_recall_and_precision_on_held_out_splits(split: str) -> None:
    tp = fp = fn = 0
    for row in (r for r in _rows() if r["split"] == split):
        predicted, gold = assess(str(row["text"])).risk, bool(row["risk"])
        tp += predicted and gold
        fp += predicted and not gold
        fn += gold and not predicted
    recall_floor, precision_floor = FLOORS[split]
    assert tp / (tp + fn) >= recall_floor
    assert tp / (tp + fp) >= precision_floor


def test_long_answers_stay_fast() -> None:
    # Runs on every message: a long rambling answer must not hit regex backtracking.
    text = "my kids and my partner said he is scared to go to the bus and " * 80
    start = time.perf_counter()
    assess(text)
    assert time.perf_counter() - start < 0.5


def test_answers_stay_cheap_on_average() -> None:
    texts = [str(r["text"]) for r in _rows() if r["split"] in ("dev", "test")]
    assess("warm up")  # the shipped model is read once, on first use
    start = time.perf_counter()
    for text in texts:
        assess(text)
    # about 0.5 ms an answer on a quiet machine; generous for a loaded one
    assert (time.perf_counter() - start) / len(texts) < 0.005


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_never_raises_and_categories_are_known(text: str) -> None:
    result = assess(text)
    assert set(result.categories) <= set(CATEGORIES)
    assert result.risk == bool(result.categories)
