"""Theme model speed and memory at 10k, 100k and 1M answers (lexical, or with stored embeddings).

    python bench/themes_scale.py [--sizes 10000,100000,1000000] [--themes N]
                                 [--embeddings [projection|minilm]]

Answers are drawn from the shared labelled sets with light perturbation (a word
dropped, two words swapped, a filler word added) so they are not exact
duplicates, and streamed to ThemeModel.fit from a generator. Each size runs in
a fresh subprocess, which reports its wall time and peak resident memory
(resource.getrusage, so the figure includes the interpreter and the data pool).

`--embeddings` measures the path with stored embeddings: every answer comes with
a precomputed 384-dimensional vector, as the analysis reads them from the
database (the whole matrix in memory, float32, counted in the peak). The vector
of an answer is its pool text's vector plus a little noise (the perturbation).
Pool vectors are `projection` (default: a fixed random projection of each text's
hashed words, unit length; no extra needed) or `minilm` (all-MiniLM-L6-v2 from
the semantic extra, computed once and cached under bench/results/). Building the
vectors is not timed: they are stored before the weekly run.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = (
    "stackoverflow20/stackoverflow20.csv",
    "banking77/train.csv",
    "banking77/test.csv",
    "nhs_patient_feedback/feedback_9themes.csv",
)
FILLERS = ("please", "really", "honestly", "again", "today", "locally", "now")
RESULTS = Path(__file__).resolve().parent / "results"
DIMENSIONS = 384  # all-MiniLM-L6-v2's
NOISE = 0.05  # per-answer perturbation of its pool text's vector (relative length)


def pool(data: Path) -> list[str]:
    texts: list[str] = []
    for relative in FILES:
        with (data / relative).open(encoding="utf-8", newline="") as handle:
            texts.extend(row["text"] for row in csv.DictReader(handle))
    return texts


def perturbed(texts: list[str], n: int, seed: int = 0) -> Iterator[str]:
    for _, text in perturbed_rows(texts, n, seed):
        yield text


def perturbed_rows(texts: list[str], n: int, seed: int = 0) -> Iterator[tuple[int, str]]:
    """(pool row, perturbed text) for n answers."""
    rng = random.Random(seed)
    for _ in range(n):
        row = rng.randrange(len(texts))
        words = texts[row].split()
        if len(words) > 3 and rng.random() < 0.4:
            del words[rng.randrange(len(words))]
        if len(words) > 2 and rng.random() < 0.3:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        if rng.random() < 0.4:
            words.insert(rng.randrange(len(words) + 1), rng.choice(FILLERS))
        yield row, " ".join(words)


def pool_vectors(texts: list[str], kind: str) -> np.ndarray:
    """One unit vector of 384 dimensions per pool text."""
    if kind == "minilm":
        digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
        cache = RESULTS / f"minilm-pool-{digest}.npy"
        if cache.exists():
            return np.load(cache)
        from analysis.themes.embed import SentenceEmbedder

        vectors = SentenceEmbedder().embed(texts)
        RESULTS.mkdir(exist_ok=True)
        np.save(cache, vectors)
        return vectors
    from analysis.themes.normalise import Normaliser
    from analysis.themes.vectorise import SignatureVectoriser

    normaliser = Normaliser()
    hashed = SignatureVectoriser(4096).transform([normaliser.tokens(t) for t in texts])
    projection = np.random.default_rng(0).normal(size=(4096, DIMENSIONS)).astype(np.float32)
    vectors = np.asarray(hashed @ projection, dtype=np.float32)
    return _unit(vectors)


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


def stored_vectors(texts: list[str], size: int, kind: str) -> np.ndarray:
    """The (size, 384) float32 matrix of the answers' stored vectors, row for row."""
    base = pool_vectors(texts, kind)
    rows = np.fromiter((row for row, _ in perturbed_rows(texts, size)), dtype=np.int64, count=size)
    vectors = np.empty((size, base.shape[1]), dtype=np.float32)
    rng = np.random.default_rng(1)
    for start in range(0, size, 100_000):
        chunk = base[rows[start : start + 100_000]]
        noise = rng.normal(scale=NOISE / np.sqrt(base.shape[1]), size=chunk.shape)
        vectors[start : start + len(chunk)] = _unit(chunk + noise.astype(np.float32))
    return vectors


def child(size: int, themes: int | None, data: Path, embeddings: str | None) -> None:
    from analysis.themes.model import ThemeModel

    texts = pool(data)
    vectors = None if embeddings is None else stored_vectors(texts, size, embeddings)
    start = time.perf_counter()
    model = ThemeModel(n_themes=themes, random_state=0).fit(
        perturbed(texts, size), embeddings=vectors
    )
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "size": size,
                "seconds": seconds,
                "peak_mib": peak_mib,
                "themes": model.n_themes_,
                "vectors_mib": 0 if vectors is None else vectors.nbytes / 2**20,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--themes", type=int, default=None)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--embeddings",
        nargs="?",
        const="projection",
        choices=["projection", "minilm"],
        help="with stored 384-d embeddings (projection: no extra needed; minilm: the extra's)",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.themes, args.data, args.embeddings)
        return
    if args.embeddings:
        print(f"with stored embeddings ({args.embeddings}, {DIMENSIONS} dimensions)", flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        command = [sys.executable, __file__, "--child", str(size), "--data", str(args.data)]
        if args.themes:
            command += ["--themes", str(args.themes)]
        if args.embeddings:
            command += ["--embeddings", args.embeddings]
        result = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
        stored = (
            f"  (vectors {result['vectors_mib']:.0f} MiB of it)" if result["vectors_mib"] else ""
        )
        print(
            f"{size:>9,} answers: {result['seconds']:7.1f} s  peak {result['peak_mib']:7.0f} MiB  "
            f"{result['themes']} themes{stored}",
            flush=True,
        )


if __name__ == "__main__":
    main()
