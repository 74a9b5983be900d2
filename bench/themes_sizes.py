"""The automatic number of themes at every size: samples of 20 to 2,000 answers.

    python bench/themes_sizes.py [--data DIR] [--sizes 20,50,200,2000] [--seeds 0,1,2]
                                 [--paths lexical,semantic] [--sets NAME,...]

For each labelled set in shared/data and each sample size, a random sample
(seeded) is themed by `ThemeModel(n_themes=None, random_state=seed)`; it prints
the number of themes chosen beside the number of labels present in the sample,
and NMI against the labels, per seed and as medians over the seeds. Banking77's
train split is held out (never used to choose a setting): ask for it by name.
The semantic path embeds each sample with all-MiniLM-L6-v2 (extra `semantic`),
cached under bench/results/.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.themes.model import ThemeModel
from bench.themes_quality import RESULTS, SETS, embeddings, load

WHOLE_SET_LIMIT = 4000  # sets up to this size are embedded whole, once
TUNED_ON = ("stackoverflow20", "banking77-test", "nhs-9", "nhs-44")


def sample(n_rows: int, size: int, seed: int) -> np.ndarray:
    """Row numbers of a seeded random sample of `size` rows, in file order."""
    rng = np.random.default_rng(1000 + seed)
    return np.sort(rng.choice(n_rows, min(size, n_rows), replace=False))


def sample_vectors(
    name: str, texts: list[str], rows: np.ndarray, size: int, seed: int
) -> np.ndarray:
    """Embeddings of the sampled rows: sliced from the whole set's when it is cached or
    small (embedding is per text, so a slice equals embedding the sample), else embedded."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    if len(texts) <= WHOLE_SET_LIMIT or (RESULTS / f"minilm-{name}-{digest}.npy").exists():
        return embeddings(name, texts)[rows]
    picked = [texts[int(i)] for i in rows]
    return embeddings(f"{name.split('-')[0]}-{size}-{seed}", picked)


def run(data: Path, sizes: list[int], seeds: list[int], paths: list[str], sets: list[str]) -> None:
    print("set size path: k chosen / labels present (per seed) -> medians; NMI per seed -> median")
    for name in sets:
        texts, truth = load(data / SETS[name][0])
        held = "" if name in TUNED_ON else "  [held out]"
        for size in sizes:
            for path in paths:
                chosen, present, nmis = [], [], []
                for seed in seeds:
                    rows = sample(len(texts), size, seed)
                    picked = [texts[int(i)] for i in rows]
                    vectors = None
                    if path == "semantic":
                        vectors = sample_vectors(name, texts, rows, size, seed)
                    model = ThemeModel(random_state=seed).fit(picked, embeddings=vectors)
                    chosen.append(model.n_themes_)
                    present.append(len(np.unique(truth[rows])))
                    nmis.append(100 * normalized_mutual_info_score(truth[rows], model.labels_))
                pairs = " ".join(f"{k}/{p}" for k, p in zip(chosen, present, strict=True))
                print(
                    f"{name:16s} {size:5d} {path:8s} k {pairs} -> {np.median(chosen):g}/"
                    f"{np.median(present):g}  NMI {' '.join(f'{v:5.1f}' for v in nmis)} -> "
                    f"{np.median(nmis):5.1f}{held}",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--sizes", default="20,50,200,2000")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--paths", default="lexical,semantic")
    parser.add_argument("--sets", default="stackoverflow20,banking77-test,nhs-9,nhs-44")
    args = parser.parse_args()
    run(
        args.data,
        [int(s) for s in args.sizes.split(",")],
        [int(s) for s in args.seeds.split(",")],
        args.paths.split(","),
        args.sets.split(","),
    )


if __name__ == "__main__":
    main()
