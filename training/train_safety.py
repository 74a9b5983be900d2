"""Train the safeguarding and abuse classifiers that back up the curated patterns.

    python -m training.train_safety            # train both, write conversations/screening/resources/*.json.gz
    python -m training.train_safety --cv       # leave-one-writer-out figures only, no writing

Training texts: ``training/safeguarding_train.jsonl`` and ``training/abuse_train.jsonl``
(split "train2", written for this: varied phrasings of every category and hard negatives such as
idioms, service talk, past and resolved events, abuse that was received and is being reported),
the "dev" split of ``tests/data``, ``training/*_train_independent.jsonl`` (written for issue
16 by someone who never saw the detectors, in their own categories, mapped by ``_INDEPENDENT``)
and ``training/*_train_writers.jsonl`` (three more writers, a, b and c, who never saw the
detectors either, hand-written in the same categories; ``README_writers.md``).
The "test", "fresh", "blind", independent dev and independent blind splits are never read.
Each detector's texts also serve as negatives for the other: a threat made *to* a resident is a
safeguarding matter, not abuse by them, and "I'll kill you" is abuse, not a disclosure.

Every step is deterministic (fixed folds and seeds, liblinear), so the same texts always give
byte-identical model files. The folds are the writers: each text is scored by a model trained
on the other writers' texts only, because folds that share a writer share their phrasings and
overstate the model's confidence (one writer's templates scored 0.97 in shared folds and 0.87
on a second writer's texts). Thresholds are chosen on those probabilities: the lowest that
keeps the precision of patterns and classifier together at or above ``--precision`` on those
folds (for safeguarding 0.85, issue 16's floor: a missed disclosure costs more than a false
alarm; for abuse 0.9); a label's own threshold (which category to name) keeps 0.9.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from conversations.screening.moderation import KINDS_OF_ABUSE  # noqa: E402
from conversations.screening.safeguarding import CATEGORIES  # noqa: E402
from conversations.screening.textmodel import features, from_json  # noqa: E402

HERE = ROOT / "training"
DATA = ROOT / "tests" / "data"
RESOURCES = ROOT / "conversations" / "screening" / "resources"
Row = dict[str, Any]

# Ordinary answers put before or after a training text, so that a disclosure (or abuse) inside
# a longer answer about services reads the same as one on its own.
_CONTEXT = (
    "The buses are always late.",
    "Please fix the potholes on our road.",
    "We need more council housing.",
    "The library should open longer.",
    "Council tax is too high.",
    "The GP is impossible to get an appointment with.",
    "Our flat is damp and nobody fixes it.",
    "The bins were missed again this week.",
    "More for young people to do please.",
    "The park needs better lighting.",
)

# The independent writers' categories, as the detectors name them. The independent sets also
# grade each disclosure ("crisis" or "concern"), which trains the "crisis" label; in the
# project's own sets, immediate danger and nowhere to sleep tonight are the crises.
_INDEPENDENT: dict[str, dict[str, str]] = {
    "safeguarding": {
        "immediate_danger": "immediate_danger",
        "suicide_self_harm": "suicide_self_harm",
        "domestic_abuse": "domestic_violence",
        "coercive_control": "domestic_violence",
        "child_safeguarding": "child_at_risk",
        "exploitation": "abuse",
        "elder_abuse": "abuse",
        "homeless_tonight": "homeless_tonight",
    },
    "abuse": {
        "insult": "abusive",
        "harassment": "abusive",
        "slur": "hateful",
        "threat": "threatening",
    },
}
_CRISES = frozenset({"immediate_danger", "homeless_tonight"})

# No floors now that folds are writers (a floor of 0.9 on abuse made up for folds that shared
# one writer's templates; on a second writer it kept recall under 50%).
_FLOORS: dict[str, dict[str, float]] = {}
# The precision the flag keeps on out-of-fold scores, patterns and classifier together.
_PRECISION = {"safeguarding": 0.85, "abuse": 0.9}
# A label's own threshold keeps 0.9 (which category to name), but "crisis" keeps less: crisis
# help given to a worrying answer costs a resident a longer message; gentle signposting given
# to someone in danger now could cost far more.
_LABEL_PRECISION = {"crisis": 0.75}

DETECTORS = {
    # name: (own texts, other detector's texts used as negatives, label field names)
    "safeguarding": ("safeguarding_train.jsonl", "safeguarding_labelled.jsonl", "abuse"),
    "abuse": ("abuse_train.jsonl", "abuse_labelled.jsonl", "safeguarding"),
}
LABELS = {
    "safeguarding": ("any", *CATEGORIES, "crisis"),
    "abuse": ("any", *KINDS_OF_ABUSE),
}


def _read(path: Path) -> list[Row]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# Where each training file's texts come from: its writer is its fold.
_WRITERS_FILE = "{name}_train_writers.jsonl"
_INDEPENDENT_FILE = "{name}_train_independent.jsonl"


def independent_rows(name: str) -> list[tuple[str, frozenset[str], str]]:
    """(text, labels, writer) of ``name``'s independently written training texts, in the
    detector's labels: the first independent writer's ("independent") and writers a, b, c."""
    mapping = _INDEPENDENT[name]
    rows = []
    sources = [(row, "independent") for row in _read(HERE / _INDEPENDENT_FILE.format(name=name))]
    sources += [(row, row["writer"]) for row in _read(HERE / _WRITERS_FILE.format(name=name))]
    for row, writer in sources:
        gold = row["categories"] if name == "safeguarding" else [row["kind"]] * row["abusive"]
        labels = {mapping[c] for c in gold}
        if row.get("severity") == "crisis":
            labels.add("crisis")
        rows.append((row["text"], frozenset(labels | {"any"} if labels else labels), writer))
    return rows


def training_rows(name: str) -> tuple[list[tuple[str, frozenset[str]]], list[str]]:
    """(text, labels) for one detector, and each text's writer: its own train2 and dev texts
    (writer "project"), the independent writers' texts, and the other detector's as negatives."""
    own_train, own_labelled, other = DETECTORS[name]
    other_train, other_labelled, _ = DETECTORS[other]
    rows: list[tuple[str, frozenset[str]]] = []
    writers: list[str] = []
    own = _read(HERE / own_train) + [r for r in _read(DATA / own_labelled) if r["split"] == "dev"]
    for row in own:
        cats = frozenset(row["categories"])
        if name == "safeguarding" and cats & _CRISES:
            cats |= {"crisis"}
        rows.append((row["text"], cats | {"any"} if cats else cats))
        writers.append("project")
    for text, labels, writer in independent_rows(name):
        rows.append((text, labels))
        writers.append(writer)
    texts = {text for text, _ in rows}
    others = _read(HERE / other_train) + [
        r for r in _read(DATA / other_labelled) if r["split"] == "dev"
    ]
    for r in others:
        if r["text"] not in texts:
            rows.append((r["text"], frozenset()))
            writers.append("project")
    for text, labels, writer in independent_rows(other):
        if labels and text not in texts:
            rows.append((text, frozenset()))
            writers.append(writer)
    if name == "abuse":  # scored unmasked ("d1ckhead" as "dickhead"), so trained so too
        from conversations.screening.moderation import unmask

        rows = [(unmask(t), ls) for t, ls in rows]
    return rows, writers


def augment(
    rows: Sequence[tuple[str, frozenset[str]]], seed: int
) -> list[tuple[str, frozenset[str]]]:
    """Each text, plus one copy inside an ordinary answer and one in lower case without stops."""
    rng = random.Random(seed)
    out = []
    for text, labels in rows:
        out.append((text, labels))
        context = rng.choice(_CONTEXT)
        out.append((f"{context} {text}" if rng.random() < 0.5 else f"{text} {context}", labels))
        out.append((text.lower().replace(".", "").replace(",", ""), labels))
    return out


def fit(
    rows: Sequence[tuple[str, frozenset[str]]], labels: Sequence[str], c: float, seed: int = 0
) -> tuple[TfidfVectorizer, list[LogisticRegression]]:
    """A TF-IDF vectoriser and one logistic regression per label."""
    data = augment(rows, seed)
    vectoriser = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=2, dtype=np.float64)
    x = vectoriser.fit_transform([t for t, _ in data])
    models = []
    for label in labels:
        y = np.array([label in ls for _, ls in data], dtype=int)
        model = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=1000)
        models.append(model.fit(x, y))
    return vectoriser, models


def out_of_fold(
    rows: Sequence[tuple[str, frozenset[str]]],
    writers: Sequence[str],
    labels: Sequence[str],
    c: float,
) -> np.ndarray:
    """Probabilities for every row from a model trained on the other writers' texts only."""
    probabilities = np.zeros((len(rows), len(labels)))
    groups = np.array(writers)
    for fold, writer in enumerate(sorted(set(writers))):
        held = np.flatnonzero(groups == writer)
        train = np.flatnonzero(groups != writer)
        vectoriser, models = fit([rows[i] for i in train], labels, c, seed=fold)
        x = vectoriser.transform([rows[i][0] for i in held])
        for j, model in enumerate(models):
            probabilities[held, j] = model.predict_proba(x)[:, 1]
    return probabilities


def threshold_for(
    scores: np.ndarray, gold: np.ndarray, precision: float, already: np.ndarray | None = None
) -> float:
    """The lowest threshold at which (``already`` flagged or score above it) keeps a precision
    of at least ``precision``: with ``already`` the patterns' flags, that is the precision of
    the two together, which is what a resident and a safeguarding lead see."""
    best = 0.95
    base = np.zeros_like(gold, dtype=bool) if already is None else already
    for t in sorted(set(np.round(scores, 3)), reverse=True):
        flagged = base | (scores >= t)
        if flagged.sum() >= 5 and gold[flagged].mean() >= precision:
            best = float(t)
    return max(best, 0.5)


def export(
    vectoriser: TfidfVectorizer,
    models: Sequence[LogisticRegression],
    labels: Sequence[str],
    thresholds: dict[str, float],
) -> dict[str, Any]:
    """The JSON document :func:`conversations.screening.textmodel.from_json` reads."""
    coef = np.vstack([m.coef_[0] for m in models])
    weights = {
        feature: [round(float(vectoriser.idf_[i]), 4)] + [round(float(w), 4) for w in coef[:, i]]
        for feature, i in sorted(vectoriser.vocabulary_.items())
    }
    return {
        "format": "needsfirst linear text model 1",
        "labels": list(labels),
        "intercepts": [round(float(m.intercept_[0]), 4) for m in models],
        "thresholds": thresholds,
        "weights": weights,
    }


def _report(name: str, rows: Sequence[tuple[str, frozenset[str]]], oof: np.ndarray,
            labels: Sequence[str], thresholds: dict[str, float],
            patterns: Callable[[str], bool]) -> None:  # fmt: skip
    gold = np.array(["any" in ls for _, ls in rows])
    model = oof[:, 0] >= thresholds["any"]
    pattern = np.array([patterns(t) for t, _ in rows])
    for title, pred in (("patterns", pattern), ("model", model), ("either", pattern | model)):
        tp = int((pred & gold).sum())
        fp = int((pred & ~gold).sum())
        fn = int((~pred & gold).sum())
        print(
            f"  {name} {title:<9} P={tp / max(1, tp + fp):6.1%} R={tp / max(1, tp + fn):6.1%}"
            f" (tp={tp} fp={fp} fn={fn})"
        )
    for j, label in enumerate(labels[1:], start=1):
        g = np.array([label in ls for _, ls in rows])
        p = oof[:, j] >= thresholds.get(label, 0.5)
        tp = int((p & g).sum())
        print(
            f"    {label:<18} P={tp / max(1, int(p.sum())):6.1%} R={tp / max(1, int(g.sum())):6.1%}"
        )


def _report_by_writer(name: str, rows: Sequence[tuple[str, frozenset[str]]],
                      writers: Sequence[str], oof: np.ndarray, thresholds: dict[str, float],
                      patterns: Callable[[str], bool]) -> None:  # fmt: skip
    """Patterns and model together on each writer's texts, scored by models that never saw
    that writer: how the detector does on a new writer's phrasings."""
    for writer in sorted(set(writers)):
        mine = [i for i, w in enumerate(writers) if w == writer]
        gold = np.array(["any" in rows[i][1] for i in mine])
        pred = np.array([patterns(rows[i][0]) for i in mine]) | (oof[mine, 0] >= thresholds["any"])
        tp, fp = int((pred & gold).sum()), int((pred & ~gold).sum())
        print(f"    writer {writer:<12} P={tp / max(1, tp + fp):6.1%}"
              f" R={tp / max(1, int(gold.sum())):6.1%} ({int(gold.sum())} of {len(mine)})")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cv", action="store_true", help="score by writer only; write nothing")
    parser.add_argument("--precision", type=float, help="override the detectors' own")
    parser.add_argument("--c", type=float, default=10.0, help="inverse regularisation strength")
    parser.add_argument("--only", choices=sorted(DETECTORS))
    args = parser.parse_args(argv)
    from conversations.screening.moderation import _pattern_flags as abuse_patterns
    from conversations.screening.safeguarding import _pattern_risk as safeguarding_patterns
    from conversations.screening.safeguarding_cues import classifier_applies

    gates: dict[str, Callable[[str], bool]] = {
        "safeguarding": classifier_applies,
        "abuse": lambda text: True,
    }

    patterns: dict[str, Callable[[str], bool]] = {
        "safeguarding": safeguarding_patterns,
        "abuse": abuse_patterns,
    }
    for name in DETECTORS:
        if args.only and name != args.only:
            continue
        rows, writers = training_rows(name)
        labels = LABELS[name]
        oof = out_of_fold(rows, writers, labels, args.c)
        oof[~np.array([gates[name](t) for t, _ in rows]), 0] = 0.0
        flagged_by_patterns = np.array([patterns[name](t) for t, _ in rows])
        thresholds = {}
        for j, label in enumerate(labels):
            gold = np.array([label in ls for _, ls in rows])
            already = flagged_by_patterns if label == "any" else None
            target = args.precision or (
                _PRECISION[name] if label == "any" else _LABEL_PRECISION.get(label, 0.9)
            )
            chosen = threshold_for(oof[:, j], gold, target, already)
            thresholds[label] = round(max(chosen, _FLOORS.get(name, {}).get(label, 0.0)), 3)
        print(f"{name}: {len(rows)} texts, thresholds {thresholds}")
        _report(name, rows, oof, labels, thresholds, patterns[name])
        _report_by_writer(name, rows, writers, oof, thresholds, patterns[name])
        if args.cv:
            continue
        vectoriser, models = fit(rows, labels, args.c)
        document = export(vectoriser, models, labels, thresholds)
        model = from_json(document)
        for text, _ in rows[:50]:  # the shipped scorer must agree with scikit-learn
            ours = model.probabilities(text)["any"]
            theirs = models[0].predict_proba(vectoriser.transform([text]))[0, 1]
            assert abs(ours - theirs) < 1e-3, (text, ours, theirs)
        payload = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        path = RESOURCES / f"{name}_model.json.gz"
        path.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
        print(f"  wrote {path.relative_to(ROOT)}: {len(document['weights'])} features, "
              f"{path.stat().st_size // 1024} KiB")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
