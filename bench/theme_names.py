"""How well themes are named: the old key phrase against whole-clause names, same themes.

    python bench/theme_names.py [--data DIR] [--size 2000] [--seeds 0,1,2] [--sets NAME,...]

Each set is sampled (2,000 answers per seed), themed by the lexical ThemeModel
with k = the labels present, and every theme is named twice: by
analysis.themes.describe.key_phrase (before) and analysis.themes.naming.theme_name (after),
both scrubbed. A name is judged by:

* clause: it is 2-9 words and one whole clause of one of the theme's answers
  (analysis.themes.naming.is_whole_clause), so it reads as a phrase, not a fragment;
* cover: the share of the theme's answers that share a content word with it;
* reference (with the semantic extra): the share of themes whose name is
  nearest (all-MiniLM-L6-v2 cosine) to the reference label that most of the
  theme's answers carry, among all the set's reference labels; the NHS sets'
  labels are theme names staff wrote ("Staff", "Communication", ...).

Medians over seeds. Banking77's train split is held out: ask for it by name.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.personal_details.scrub import scrub
from analysis.themes.describe import key_phrase, keyword_weights
from analysis.themes.embed import semantic_extra_installed
from analysis.themes.model import ThemeModel
from analysis.themes.naming import is_whole_clause, theme_name
from analysis.themes.normalise import Normaliser
from bench.themes_quality import SETS
from bench.themes_sizes import sample

NAMERS = ("before", "after")


def load_named(path: Path) -> tuple[list[str], list[str]]:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def reference_name(label: str) -> str:
    return label.replace("_", " ").replace("-", " ").replace("/", " ")


def judge(name: str, texts: list[str], normaliser: Normaliser) -> tuple[bool, float]:
    stems = set(normaliser.content_stems(name))
    covered = sum(1 for t in texts if stems & set(normaliser.content_stems(t)))
    return is_whole_clause(name, texts), covered / max(1, len(texts))


def run(data: Path, size: int, seeds: list[int], sets: list[str]) -> None:
    embedder = None
    if semantic_extra_installed():
        from analysis.themes.embed import SentenceEmbedder

        embedder = SentenceEmbedder()
    normaliser = Normaliser()
    for name in sets:
        texts, labels = load_named(data / SETS[name][0])
        results: dict[str, dict[str, list[float]]] = {
            n: {"clause": [], "cover": [], "reference": [], "words": []} for n in NAMERS
        }
        examples: dict[str, list[str]] = {n: [] for n in NAMERS}
        for seed in seeds:
            rows = sample(len(texts), size, seed)
            picked = [texts[int(i)] for i in rows]
            truth = [labels[int(i)] for i in rows]
            model = ThemeModel(n_themes=len(set(truth)), random_state=seed).fit(picked)
            similarity = model.transform(picked)
            groups = [np.flatnonzero(model.labels_ == c) for c in range(model.n_themes_)]
            groups = [g for g in groups if len(g)]
            member_texts = [[picked[int(i)] for i in g] for g in groups]
            weights = keyword_weights(
                [[normaliser.content_stems(t) for t in g] for g in member_texts]
            )
            majority = [Counter(truth[int(i)] for i in g).most_common(1)[0][0] for g in groups]
            reference = sorted(set(labels))
            ref_vectors = None
            if embedder is not None:
                ref_vectors = embedder.embed([reference_name(r) for r in reference])
            for namer in NAMERS:
                names = []
                for c, (g, members) in enumerate(zip(groups, member_texts, strict=True)):
                    column = similarity[g, model.labels_[g[0]]]
                    if namer == "before":
                        found = key_phrase(weights[c], members)
                    else:
                        found = theme_name(weights[c], members, column) or key_phrase(
                            weights[c], members
                        )
                    names.append(scrub(found))
                judged = [judge(n, m, normaliser) for n, m in zip(names, member_texts, strict=True)]
                results[namer]["clause"].append(100 * np.mean([j[0] for j in judged]))
                results[namer]["cover"].append(100 * np.mean([j[1] for j in judged]))
                results[namer]["words"].append(float(np.median([len(n.split()) for n in names])))
                if embedder is not None and ref_vectors is not None:
                    nearest = (embedder.embed(names) @ ref_vectors.T).argmax(axis=1)
                    hits = [reference[int(j)] == m for j, m in zip(nearest, majority, strict=True)]
                    results[namer]["reference"].append(100 * np.mean(hits))
                if seed == seeds[0]:
                    examples[namer] = names[:4]
        held = "" if name != "banking77-train" else "  [held out]"
        print(f"{name} ({size} answers a seed, seeds {seeds}){held}")
        for namer in NAMERS:
            r = results[namer]
            ref = f"{np.median(r['reference']):5.1f}" if r["reference"] else "  n/a"
            print(
                f"  {namer:6s} whole clause {np.median(r['clause']):5.1f}%  "
                f"cover {np.median(r['cover']):5.1f}%  reference {ref}%  "
                f"words {np.median(r['words']):g}"
            )
            print(f"         e.g. {examples[namer]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--sets", default="stackoverflow20,banking77-test,nhs-9,nhs-44")
    args = parser.parse_args()
    run(args.data, args.size, [int(s) for s in args.seeds.split(",")], args.sets.split(","))


if __name__ == "__main__":
    main()
