"""Scores on the sets written independently of the detectors (issue 16), per category.

Three splits, each from writers who never saw the patterns, word lists or training texts:
``independent-train`` and ``independent-dev`` (``training/*_{train,dev}_independent.jsonl``, one
writer; the classifiers train on the first, tuning may look at the second) and
``independent-blind`` (``tests/data/independent/*_blind.jsonl``, another writer: the held-out
test, never tuned on, never listed). The personal-details scrubber is also scored on
``training/pii_train_writers.jsonl``, 750 texts from three more writers: split ``writers`` (all)
or ``writers-a``, ``writers-b``, ``writers-c`` (one writer each, for leave-one-writer-out
tuning: tune looking at two, score the third before looking at its misses). Their labels use the writers' own taxonomy, so the figures
are recall per gold category (was the text flagged at all: that decides whether help is shown
and a lead alerted) and the false-alarm rate per kind of hard negative. ``tags`` are read here,
for reporting only; the detectors never see them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from time import perf_counter
from typing import Any

from analysis.personal_details.scrub import find_personal_details
from conversations.screening.moderation import assess_abuse
from conversations.screening.safeguarding import assess

Row = dict[str, Any]
ROOT = Path(__file__).resolve().parent.parent
WRITER_SPLITS = ("writers", "writers-a", "writers-b", "writers-c")
SPLITS = ("independent-train", "independent-dev", "independent-blind", *WRITER_SPLITS)
_WRITERS = ROOT / "training" / "pii_train_writers.jsonl"
_FILES = {
    "independent-train": (ROOT / "training", "{}_train_independent.jsonl"),
    "independent-dev": (ROOT / "training", "{}_dev_independent.jsonl"),
    "independent-blind": (ROOT / "tests" / "data" / "independent", "{}_blind.jsonl"),
}


def load(split: str, detector: str) -> list[Row]:
    """The rows of one independent split for ``detector`` ("safeguarding", "pii", "abuse");
    the writers' splits hold personal details only."""
    if split in WRITER_SPLITS:
        with _WRITERS.open(encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        writer = split.removeprefix("writers").removeprefix("-")
        return [r for r in rows if r["writer"] == writer or not writer]
    folder, pattern = _FILES[split]
    with (folder / pattern.format(detector)).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Tally:
    """Hits out of a number of texts."""

    def __init__(self) -> None:
        self.hits = self.total = 0

    def add(self, hit: bool) -> None:
        self.hits += hit
        self.total += 1

    def __str__(self) -> str:
        rate = self.hits / self.total if self.total else 0.0
        return f"{rate:6.1%} ({self.hits}/{self.total})"


def _binary(
    rows: Iterable[Row], flagged: Callable[[str], bool], gold: Callable[[Row], bool],
    groups: Callable[[Row], list[str]],
) -> tuple[dict[str, Tally], dict[str, Tally], tuple[int, int, int]]:  # fmt: skip
    """Recall per positive group, false alarms per negative group, and overall tp, fp, fn."""
    found: dict[str, Tally] = defaultdict(Tally)
    alarms: dict[str, Tally] = defaultdict(Tally)
    tp = fp = fn = 0
    for row in rows:
        hit = flagged(row["text"])
        positive = gold(row)
        for group in groups(row):
            (found if positive else alarms)[group].add(hit)
        tp += hit and positive
        fp += hit and not positive
        fn += positive and not hit
    return found, alarms, (tp, fp, fn)


def _print(title: str, found: dict[str, Tally], alarms: dict[str, Tally],
           totals: tuple[int, int, int]) -> None:  # fmt: skip
    tp, fp, fn = totals
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"  {title}: P={precision:6.1%}  R={recall:6.1%}  (tp={tp} fp={fp} fn={fn})")
    for key in sorted(found):
        print(f"    found   {key:<28} {found[key]}")
    for key in sorted(alarms):
        print(f"    alarms  {key:<28} {alarms[key]}")


def _negative_tag(row: Row) -> list[str]:
    tags = row.get("tags") or []
    return [f"negative {tags[0]}"] if tags else []


def safeguarding(rows: list[Row]) -> None:
    def groups(row: Row) -> list[str]:
        out = [f"language {row['language']}"]
        if not row["risk"]:
            return ["negative (all)", *out, *_negative_tag(row)]
        out += list(row["categories"])
        if row.get("subkind"):
            out.append(f"suicide_self_harm/{row['subkind']}")
        if row.get("severity"):
            out.append(f"severity {row['severity']}")
        if row.get("third_party"):
            out.append("third party")
        return out

    _print("safeguarding", *_binary(rows, lambda t: assess(t).risk, lambda r: r["risk"], groups))
    crisis = [r for r in rows if r.get("severity")]
    if crisis:  # the graded response: does a crisis get the crisis message, and only a crisis?
        graded: dict[str, Tally] = defaultdict(Tally)
        for row in crisis:
            given = assess(row["text"]).severity
            graded[f"{row['severity']} -> {given or 'none'}"].add(True)
        print("    severity given (gold -> detector): " + ", ".join(
            f"{k} {v.total}" for k, v in sorted(graded.items())))  # fmt: skip


def abuse(rows: list[Row]) -> None:
    def groups(row: Row) -> list[str]:
        out = [f"language {row['language']}"]
        tags = row.get("tags") or []
        if not row["abusive"]:
            return ["negative (all)", *out, *_negative_tag(row)]
        return [row["kind"], *out, *(f"tag {t}" for t in tags)]

    _print("abuse", *_binary(rows, lambda t: assess_abuse(t).flagged, lambda r: r["abusive"],
                             groups))  # fmt: skip


def _span(row: Row, detail: Row) -> tuple[int, int]:
    start = row["text"].find(detail["text"])
    return start, start + len(detail["text"])


def pii(rows: list[Row]) -> None:
    """A detail is found when a replaced span covers it; a span is a false alarm when it
    overlaps no detail (any span in a lookalike text is one)."""
    found: dict[str, Tally] = defaultdict(Tally)
    alarms: dict[str, Tally] = defaultdict(Tally)
    tp = fp = fn = 0
    seconds = 0.0
    for row in rows:
        began = perf_counter()
        spans = find_personal_details(row["text"])
        seconds += perf_counter() - began
        gold = [_span(row, d) for d in row["details"]]
        hard = "hard_name" in (row.get("tags") or [])
        for detail, (start, end) in zip(row["details"], gold, strict=True):
            hit = any(f.start <= start and end <= f.end for f in spans)
            found[detail["kind"]].add(hit)
            found[f"language {row['language']}"].add(hit)
            if hard and detail["kind"] == "name":
                found["name (hard cases)"].add(hit)
            tp += hit
            fn += not hit
        wrong = [f for f in spans if not any(f.start < e and s < f.end for s, e in gold)]
        fp += len(wrong)
        for f in wrong:
            alarms[f"spurious {f.kind}"].add(True)
        if not row["details"]:
            alarms["lookalike texts flagged"].add(bool(spans))
    _print("personal details", found, alarms, (tp, fp, fn))
    print(f"    time per text {seconds / max(len(rows), 1) * 1000:.3f} ms")


def report(split: str) -> None:
    """Print one independent split's figures."""
    print(f"== {split} (written independently of the detectors) ==")
    pii(load(split, "pii"))
    if split in WRITER_SPLITS:
        return
    safeguarding(load(split, "safeguarding"))
    abuse(load(split, "abuse"))


def errors(split: str) -> None:
    """List one split's misses (refused for the blind split by the caller)."""
    print(f"== {split} errors ==")
    for row in load(split, "pii"):
        spans = [(d.kind, row["text"][d.start : d.end]) for d in find_personal_details(row["text"])]
        gold = [(d["kind"], d["text"]) for d in row["details"]]
        if sorted(spans) != sorted(gold):
            print(f"  PII  gold={gold} found={spans}\n       {row['text']}")
    if split in WRITER_SPLITS:
        return
    for row in load(split, "safeguarding"):
        result = assess(row["text"])
        if result.risk != row["risk"] or (row["risk"] and result.severity != row["severity"]):
            print(f"  SG  gold={row['categories']}/{row['severity']} "
                  f"got={list(result.categories)}/{result.severity}: {row['text']}")  # fmt: skip
    for row in load(split, "abuse"):
        if assess_abuse(row["text"]).flagged != row["abusive"]:
            print(f"  AB  gold={row['kind']}: {row['text']}")
