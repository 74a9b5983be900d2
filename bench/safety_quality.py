"""Precision and recall of the scrubber, safeguarding and abuse detectors on the labelled sets.

Run: ``python -m bench.safety_quality`` (or ``python bench/safety_quality.py``) from the repo root.
Splits: patterns are tuned on "dev" only. "test" is held out, but was written by the same author
as the patterns; "fresh" was written later by the same authors. "blind" was written by someone
who never saw the detectors. The "independent-*" splits (:mod:`bench.safety_independent`) were
written for issue 16 by writers who never saw the detectors either, with their own categories,
and are reported apart: "independent-train" (trained on), "independent-dev" (tuned on) and
"independent-blind" (the held-out test). Never tune on "test", "fresh", "blind" or
"independent-blind"; while tuning, leave them out with ``--splits dev,independent-dev``.
The classifiers' own training texts (``training/*.jsonl``) are scored with ``--splits train2``;
three more writers' personal-details texts with ``--splits writers`` (or ``writers-a``, ``-b``,
``-c``: tune looking at two, score the third before reading its misses).

Scrubber: a labelled detail counts as found when a replaced span covers it entirely (whatever
kind the scrubber gave it); a replaced span is a true positive when it overlaps a labelled detail.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
if str(ROOT) not in sys.path:  # allow "python bench/safety_quality.py"
    sys.path.insert(0, str(ROOT))

from analysis.personal_details.scrub import find_personal_details  # noqa: E402
from bench import safety_independent  # noqa: E402
from conversations.screening.moderation import assess_abuse  # noqa: E402
from conversations.screening.safeguarding import assess  # noqa: E402

Row = dict[str, Any]
SPLITS = ("dev", "test", "fresh", "blind", *safety_independent.SPLITS)
TRAINING = ROOT / "training"


def load(name: str, folder: Path = DATA) -> list[Row]:
    """Rows of one labelled JSONL file."""
    with (folder / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _with_training(rows: list[Row], name: str) -> list[Row]:
    """``rows`` plus the classifier's training texts (split "train2"), when they exist."""
    path = TRAINING / name
    return rows + load(name, TRAINING) if path.exists() else rows


def _option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


class Counts:
    """True positives, false positives and false negatives for one label."""

    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)


def pii_counts(rows: Iterable[Row]) -> dict[str, Counts]:
    """Per-kind counts and an "overall" entry for the scrubber."""
    counts: dict[str, Counts] = defaultdict(Counts)
    for row in rows:
        found = find_personal_details(row["text"])
        gold = row["details"]
        for g in gold:
            covered = any(f.start <= g["start"] and g["end"] <= f.end for f in found)
            for key in (g["kind"], "overall"):
                if covered:
                    counts[key].tp += 1
                else:
                    counts[key].fn += 1
        for f in found:
            if not any(f.start < g["end"] and g["start"] < f.end for g in gold):
                counts[f.kind].fp += 1
                counts["overall"].fp += 1
    return counts


def label_counts(rows: Iterable[Row], predict: Callable[[str], set[str]]) -> dict[str, Counts]:
    """Counts per category plus "any" (the binary flag), for multi-label detectors."""
    counts: dict[str, Counts] = defaultdict(Counts)
    for row in rows:
        gold = set(row["categories"])
        pred = predict(row["text"])
        for cat in gold | pred:
            if cat in gold and cat in pred:
                counts[cat].tp += 1
            elif cat in pred:
                counts[cat].fp += 1
            else:
                counts[cat].fn += 1
        if gold and pred:
            counts["any"].tp += 1
        elif pred:
            counts["any"].fp += 1
        elif gold:
            counts["any"].fn += 1
    return counts


def safeguarding_labels(text: str) -> set[str]:
    return set(assess(text).categories)


def abuse_labels(text: str) -> set[str]:
    result = assess_abuse(text)
    return {k for k in ("abusive", "hateful", "threatening") if getattr(result, k)}


def report(title: str, counts: dict[str, Counts]) -> None:
    print(f"  {title}")
    for key in sorted(counts, key=lambda k: (k in ("overall", "any"), k)):
        c = counts[key]
        print(
            f"    {key:<18} P={c.precision:6.1%}  R={c.recall:6.1%}"
            f"  (tp={c.tp} fp={c.fp} fn={c.fn})"
        )


def main(argv: list[str] | None = None) -> int:
    """Print the figures of every split (or of ``--splits a,b``); ``--errors`` also lists the
    misses of the dev split (or of ``--errors-in train2``) for tuning. The blind split's misses
    are never listed: it must stay unseen by whoever tunes the detectors."""
    args = argv if argv is not None else sys.argv[1:]
    splits = tuple((_option(args, "--splits") or ",".join(SPLITS)).split(","))
    pii, sg, ab = (
        load("pii_labelled.jsonl"),
        _with_training(load("safeguarding_labelled.jsonl"), "safeguarding_train.jsonl"),
        _with_training(load("abuse_labelled.jsonl"), "abuse_train.jsonl"),
    )
    for split in splits:
        if split in safety_independent.SPLITS:
            safety_independent.report(split)
            continue
        print(f"== {split} split ==")
        if any(r["split"] == split for r in pii):
            report("scrubber", pii_counts(r for r in pii if r["split"] == split))
        report(
            "safeguarding",
            label_counts((r for r in sg if r["split"] == split), safeguarding_labels),
        )
        report("abuse", label_counts((r for r in ab if r["split"] == split), abuse_labels))
    errors_in = _option(args, "--errors-in") or ("dev" if "--errors" in args else None)
    if errors_in in ("blind", "independent-blind"):
        print("the blind split's misses are not listed", file=sys.stderr)
        return 2
    if errors_in in safety_independent.SPLITS:
        safety_independent.errors(errors_in)
    elif errors_in:
        _print_errors(errors_in, pii, sg, ab)
    return 0


def _print_errors(split: str, pii: list[Row], sg: list[Row], ab: list[Row]) -> None:
    print(f"== {split} errors ==")
    for row in (r for r in pii if r["split"] == split):
        found = [(d.kind, row["text"][d.start : d.end]) for d in find_personal_details(row["text"])]
        gold = [(g["kind"], row["text"][g["start"] : g["end"]]) for g in row["details"]]
        if sorted(found) != sorted(gold):
            print(f"  PII  gold={gold} found={found}\n       {row['text']}")
    for rows, predict, name in ((sg, safeguarding_labels, "SG"), (ab, abuse_labels, "AB")):
        for row in (r for r in rows if r["split"] == split):
            pred = predict(row["text"])
            if pred != set(row["categories"]):
                print(
                    f"  {name}  gold={sorted(row['categories'])} pred={sorted(pred)}: {row['text']}"
                )


if __name__ == "__main__":
    raise SystemExit(main())
