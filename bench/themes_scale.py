"""Theme model speed and memory at 10k, 100k and 1M answers (default install, lexical).

    python bench/themes_scale.py [--sizes 10000,100000,1000000] [--themes N]

Answers are drawn from the shared labelled sets with light perturbation (a word
dropped, two words swapped, a filler word added) so they are not exact
duplicates, and streamed to ThemeModel.fit from a generator. Each size runs in
a fresh subprocess, which reports its wall time and peak resident memory
(resource.getrusage, so the figure includes the interpreter and the data pool).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = (
    "stackoverflow20/stackoverflow20.csv",
    "banking77/train.csv",
    "banking77/test.csv",
    "nhs_patient_feedback/feedback_9themes.csv",
)
FILLERS = ("please", "really", "honestly", "again", "today", "locally", "now")


def pool(data: Path) -> list[str]:
    texts: list[str] = []
    for relative in FILES:
        with (data / relative).open(encoding="utf-8", newline="") as handle:
            texts.extend(row["text"] for row in csv.DictReader(handle))
    return texts


def perturbed(texts: list[str], n: int, seed: int = 0) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(n):
        words = rng.choice(texts).split()
        if len(words) > 3 and rng.random() < 0.4:
            del words[rng.randrange(len(words))]
        if len(words) > 2 and rng.random() < 0.3:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        if rng.random() < 0.4:
            words.insert(rng.randrange(len(words) + 1), rng.choice(FILLERS))
        yield " ".join(words)


def child(size: int, themes: int | None, data: Path) -> None:
    from analysis.model import ThemeModel

    texts = pool(data)
    start = time.perf_counter()
    model = ThemeModel(n_themes=themes, random_state=0).fit(perturbed(texts, size))
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        json.dumps(
            {"size": size, "seconds": seconds, "peak_mib": peak_mib, "themes": model.n_themes_}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--themes", type=int, default=None)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.themes, args.data)
        return
    for size in (int(s) for s in args.sizes.split(",")):
        command = [sys.executable, __file__, "--child", str(size), "--data", str(args.data)]
        if args.themes:
            command += ["--themes", str(args.themes)]
        result = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
        print(
            f"{size:>9,} answers: {result['seconds']:7.1f} s  peak {result['peak_mib']:7.0f} MiB  "
            f"{result['themes']} themes",
            flush=True,
        )


if __name__ == "__main__":
    main()
