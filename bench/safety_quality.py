"""Precision and recall of the scrubber, safeguarding and abuse detectors on the labelled sets.

Run: ``python -m bench.safety_quality`` (or ``python bench/safety_quality.py``) from the repo root.
Splits: patterns are tuned on "dev" only. "test" is held out, but was written by the same author
as the patterns; "fresh" was written later by someone else, before any tuning, and is the honest
measure of how the detectors generalise. Never tune on "test" or "fresh".

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

from analysis.scrub import find_personal_details  # noqa: E402
from conversations.moderation import assess_abuse  # noqa: E402
from conversations.safeguarding import assess  # noqa: E402

Row = dict[str, Any]
SPLITS = ("dev", "test", "fresh", "blind")


def load(name: str) -> list[Row]:
    """Rows of one labelled JSONL file."""
    with (DATA / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


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
    """Print dev, test and fresh figures; ``--errors`` also lists dev-split misses for tuning."""
    args = argv if argv is not None else sys.argv[1:]
    pii, sg, ab = (
        load("pii_labelled.jsonl"),
        load("safeguarding_labelled.jsonl"),
        load("abuse_labelled.jsonl"),
    )
    for split in SPLITS:
        print(f"== {split} split ==")
        if any(r["split"] == split for r in pii):
            report("scrubber", pii_counts(r for r in pii if r["split"] == split))
        report(
            "safeguarding",
            label_counts((r for r in sg if r["split"] == split), safeguarding_labels),
        )
        report("abuse", label_counts((r for r in ab if r["split"] == split), abuse_labels))
    if "--errors" in args:
        _print_dev_errors(pii, sg, ab)
    return 0


def _print_dev_errors(pii: list[Row], sg: list[Row], ab: list[Row]) -> None:
    print("== dev errors ==")
    for row in (r for r in pii if r["split"] == "dev"):
        found = [(d.kind, row["text"][d.start : d.end]) for d in find_personal_details(row["text"])]
        gold = [(g["kind"], row["text"][g["start"] : g["end"]]) for g in row["details"]]
        if sorted(found) != sorted(gold):
            print(f"  PII  gold={gold} found={found}\n       {row['text']}")
    for rows, predict, name in ((sg, safeguarding_labels, "SG"), (ab, abuse_labels, "AB")):
        for row in (r for r in rows if r["split"] == "dev"):
            pred = predict(row["text"])
            if pred != set(row["categories"]):
                print(
                    f"  {name}  gold={sorted(row['categories'])} pred={sorted(pred)}: {row['text']}"
                )


if __name__ == "__main__":
    raise SystemExit(main())
