"""Tests for conversations.screening.textmodel: the shipped scorer, its features, and its training data."""

from __future__ import annotations

import json
from pathlib import Path

from conversations.screening import textmodel
from training import train_safety

ROOT = Path(__file__).resolve().parent.parent

TINY = [
    ("my partner hits me", frozenset({"any", "domestic_violence"})),
    ("he hits me and I am scared", frozenset({"any", "domestic_violence"})),
    ("I want to kill myself", frozenset({"any", "suicide_self_harm"})),
    ("thinking of ending it all", frozenset({"any", "suicide_self_harm"})),
    ("the buses are late", frozenset()),
    ("fix the potholes please", frozenset()),
    ("the library should open on Sundays", frozenset()),
    ("more bins in the park", frozenset()),
]


def test_scorer_agrees_with_scikit_learn() -> None:
    labels = ("any", "domestic_violence", "suicide_self_harm")
    vectoriser, models = train_safety.fit(TINY, labels, c=10.0)
    model = textmodel.from_json(train_safety.export(vectoriser, models, labels, {"any": 0.5}))
    for text in ("my husband hits me", "the buses are never on time", "kill myself", "", "!!"):
        ours = model.probabilities(text)
        x = vectoriser.transform([text])
        for label, fitted in zip(labels, models, strict=True):
            assert abs(ours[label] - fitted.predict_proba(x)[0, 1]) < 1e-3


def test_features_read_texting_and_negation() -> None:
    assert "b:kill_myself" in textmodel.features("kms")
    assert "n:suicid" in textmodel.features("I'm not suicidal")
    # function words only count in pairs, never alone
    assert "w:i" not in textmodel.features("I think of it")
    assert textmodel.features("") == []


def test_shipped_models_load_once_and_name_their_reasons() -> None:
    model = textmodel.load("safeguarding_model")
    assert textmodel.load("safeguarding_model") is model
    assert model.labels[0] == "any"
    assert "batter" in model.reasons("my fella batters me", "domestic_violence")
    assert textmodel.load("abuse_model").labels == ("any", "abusive", "hateful", "threatening")


def test_training_texts_are_not_evaluation_texts() -> None:
    for train, labelled in (
        ("safeguarding_train.jsonl", "safeguarding_labelled.jsonl"),
        ("abuse_train.jsonl", "abuse_labelled.jsonl"),
    ):
        lines = (ROOT / "training" / train).read_text(encoding="utf-8").splitlines()
        training = {json.loads(line)["text"].lower() for line in lines}
        assert all(json.loads(line)["split"] == "train2" for line in lines)
        rows = (ROOT / "tests" / "data" / labelled).read_text(encoding="utf-8").splitlines()
        held_out = {
            json.loads(line)["text"].lower()
            for line in rows
            if json.loads(line)["split"] in ("test", "fresh")
        }
        assert not training & held_out


def test_each_detector_reads_texting_forms_from_its_column_of_the_one_table() -> None:
    """The classifiers drop apostrophes and were trained on "i am"; the safeguarding
    patterns read "i'm" and restore a dropped g; the abuse lexicon reads "ur" as "you're"."""
    from conversations.screening import moderation, safeguarding

    typed = "Im ill, ur tryin"
    assert textmodel.normalise(typed) == "i am i will, your tryin"
    assert safeguarding.normalise(typed) == "i'm ill, your trying"
    assert moderation.normalise(typed) == "im ill, you're tryin"


_REASONS_IN_A_PROCESS = """
import json, sys
from conversations.screening import textmodel
model = textmodel.load("safeguarding_model")
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")][:400]
print(json.dumps([model.reasons(t, label) for t in texts for label in model.labels]))
"""


def test_the_evidence_words_are_the_same_in_every_process() -> None:
    """What a lead reads as the flag's evidence does not depend on the hash seed."""
    import os
    import subprocess
    import sys

    data = ROOT / "tests" / "data" / "safeguarding_labelled.jsonl"
    found = []
    for seed in ("1", "2", "3"):
        environment = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", _REASONS_IN_A_PROCESS, str(data)],
            capture_output=True, text=True, check=True, env=environment, timeout=120,
        )  # fmt: skip
        found.append(result.stdout)
    assert found[0] == found[1] == found[2]
