"""Coding against a codebook, on the labelled sets in shared/data.

    python -m bench.themes_coding [--paths lexical,semantic] [--seeds 0,1,2] [--sets NAME,...]
    python -m bench.themes_coding --speed [--answers 100000 --themes 50]

Per set and seed: the answers are shuffled; discovery (ThemeModel, k chosen
automatically, as a new user gets it) runs on the first 20%. A simulated officer
reviews each proposed theme by naming it after its majority label, merging those
that share one; the reviewed themes and the answers they held are the codebook.
The other 80% arrive in four weekly batches; after each, every answer so far is
coded (analysis.themes.coding.ThemeCoder). Reported on the 80%: accuracy and macro-F1 of
the codes against the labels, where an answer whose label is not in the codebook
should be left uncoded (it is discovery's job, next); and how many answers coded in
one run changed theme in the next without an officer's edit (target: none).
Then the officer recodes 5% of the 80% to their labels, and the gain on the rest
is reported. `--speed` times coding 100,000 answers against a 50-theme codebook
with stored embeddings (random unit vectors stand in for them: the time does not
depend on their values).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from analysis.themes.codebook_run import Example, code_answers
from analysis.themes.coding import NOT_CODED, ThemeCoder
from analysis.themes.model import ThemeModel
from analysis.themes.stable_space import stable_vectors
from bench.themes_quality import SETS, embeddings, load

BATCHES = 4
DISCOVERY_SHARE = 0.2
CORRECTED_SHARE = 0.05
HELD_OUT = {"banking77-train"}


def codebook(labels: np.ndarray, found: np.ndarray) -> tuple[np.ndarray, dict[int, int]]:
    """The simulated officer's review: each proposed theme named after its majority label.

    Returns each discovery answer's reviewed theme (the label id, or -1 when its
    proposed theme was unthemed) and proposed theme -> label."""
    named = {}
    for theme in np.unique(found[found >= 0]).tolist():
        named[theme] = Counter(labels[found == theme].tolist()).most_common(1)[0][0]
    reviewed = np.array([named.get(int(t), -1) for t in found], dtype=np.int64)
    return reviewed, named


def expected(labels: np.ndarray, known: set[int]) -> np.ndarray:
    return np.array([x if x in known else NOT_CODED for x in labels.tolist()], dtype=np.int64)


def score(truth: np.ndarray, codes: np.ndarray) -> tuple[float, float]:
    accuracy = float((truth == codes).mean())
    macro = float(f1_score(truth, codes, average="macro", zero_division=0))
    return 100 * accuracy, 100 * macro


def run_set(name: str, texts: list[str], labels: np.ndarray, semantic: np.ndarray | None,
            seed: int) -> dict[str, float]:  # fmt: skip
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))
    texts = [texts[i] for i in order]
    labels = labels[order]
    semantic = None if semantic is None else semantic[order]
    vectors = stable_vectors(texts, semantic)
    head = int(len(texts) * DISCOVERY_SHARE)
    model = ThemeModel(random_state=seed).fit(
        texts[:head], embeddings=None if semantic is None else semantic[:head]
    )
    reviewed, named = codebook(labels[:head], model.labels_)
    known = set(named.values())
    examples = reviewed >= 0
    coder = ThemeCoder(random_state=seed).fit(vectors[:head][examples], reviewed[examples])
    rest = np.arange(head, len(texts))
    edges = np.linspace(head, len(texts), BATCHES + 1).astype(int)
    previous: np.ndarray | None = None
    changed = 0
    for end in edges[1:]:
        codes = coder.predict(vectors[:end])
        if previous is not None:
            before = previous[previous != NOT_CODED]
            changed += int((codes[: len(previous)][previous != NOT_CODED] != before).sum())
        previous = codes
    assert previous is not None
    truth = expected(labels[rest], known)
    accuracy, macro = score(truth, previous[rest])
    # The officer recodes 5% of the new answers (to their label, or "not a need"
    # when the label is not in the codebook); the coder learns from them.
    corrected = rng.choice(rest, int(len(rest) * CORRECTED_SHARE), replace=False)
    taught = np.concatenate([np.flatnonzero(examples), corrected])
    taught_labels = np.concatenate([reviewed[examples], truth[corrected - head]])
    taught_labels[taught_labels == NOT_CODED] = -2
    anchors = np.concatenate([np.zeros(int(examples.sum()), bool), np.ones(len(corrected), bool)])
    after = ThemeCoder(random_state=seed).fit(vectors[taught], taught_labels, anchors)
    others = np.setdiff1d(rest, corrected)
    before_gain = score(expected(labels[others], known), previous[others])
    after_gain = score(expected(labels[others], known), after.predict(vectors[others]))
    return {
        "themes": len(known),
        "labels": len(np.unique(labels)),
        "accuracy": accuracy,
        "macro_f1": macro,
        "changed": changed,
        "uncoded": 100 * float((previous[rest] == NOT_CODED).mean()),
        "gain_accuracy": after_gain[0] - before_gain[0],
        "gain_macro_f1": after_gain[1] - before_gain[1],
    }


def quality(data: Path, paths: list[str], seeds: list[int], sets: list[str]) -> None:
    for name in sets:
        relative, _ = SETS[name]
        texts, labels = load(data / relative)
        held = " (held out: never tuned on)" if name in HELD_OUT else ""
        print(f"{name}: {len(texts)} answers, {len(np.unique(labels))} labels{held}", flush=True)
        for path in paths:
            semantic = embeddings(name, texts) if path == "semantic" else None
            results = []
            for seed in seeds:
                start = time.perf_counter()
                found = run_set(name, texts, labels, semantic, seed)
                results.append(found)
                print(
                    f"  {path:8s} seed {seed}: codebook {found['themes']:3.0f} themes, "
                    f"accuracy {found['accuracy']:5.1f}  macro-F1 {found['macro_f1']:5.1f}  "
                    f"uncoded {found['uncoded']:4.1f}%  changed between runs {found['changed']:.0f}  "
                    f"5% recoded: accuracy {found['gain_accuracy']:+.1f}, "
                    f"macro-F1 {found['gain_macro_f1']:+.1f}  ({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
            medians = {k: float(np.median([r[k] for r in results])) for k in results[0]}
            print(
                f"  {path:8s} median: accuracy {medians['accuracy']:5.1f}  macro-F1 "
                f"{medians['macro_f1']:5.1f}  changed {medians['changed']:.0f}  gain "
                f"{medians['gain_accuracy']:+.1f} / {medians['gain_macro_f1']:+.1f}",
                flush=True,
            )


def speed(data: Path, answers: int, n_themes: int, repeats: int) -> None:
    """A whole coding pass (analysis.themes.codebook_run.code_answers: vectors, codes and clause
    codes) over `answers` answers against an `n_themes` codebook with stored embeddings."""
    texts, _ = load(data / SETS["stackoverflow20"][0])
    texts = [texts[i % len(texts)] for i in range(answers)]
    rng = np.random.default_rng(0)
    semantic = rng.standard_normal((answers, 384)).astype(np.float32)
    rows = rng.choice(answers, 100 * n_themes, replace=False)
    examples = [Example(int(r), int(i % n_themes), False) for i, r in enumerate(rows)]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        coding = code_answers(texts, semantic, examples, {})
        times.append(time.perf_counter() - start)
    coded = sum(1 for t in coding.themes if t)
    print(
        f"coded {answers} answers against {n_themes} themes ({coded} coded): median "
        f"{np.median(times):.2f} s over {repeats} runs ({', '.join(f'{t:.2f}' for t in times)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--paths", default="lexical,semantic")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--sets", default=",".join(n for n in SETS if n not in HELD_OUT))
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--themes", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.speed:
        speed(args.data, args.answers, args.themes, args.repeats)
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    quality(args.data, args.paths.split(","), seeds, args.sets.split(","))


if __name__ == "__main__":
    main()
