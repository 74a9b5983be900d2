"""Describe stage: a readable label, keywords and scrubbed quotes for each theme.

Keywords are class-based TF-IDF (as in BERTopic): a stem weighs more the more
of the theme's answers use it and the fewer answers overall do. The label is a
key phrase that residents actually wrote: the contiguous run of 2-5 words
(starting and ending on content words) that best combines how many of the
theme's answers contain it with the keyword weight of its words. When no
phrase is shared by enough answers, the top keyword stands alone.
Quotes are the answers nearest the theme centroid, passed through
analysis.personal_details.scrub.scrub so no personal details reach officers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.themes.domains import theme_domains
from analysis.themes.naming import theme_name
from analysis.themes.normalise import Normaliser, cased_words, stem, stop_words


@dataclass
class Theme:
    """What officers read about one theme; `id` is the theme's label in `labels_`."""

    id: int
    label: str
    keywords: list[str]
    size: int
    quotes: list[str]
    domains: list[str] = field(default_factory=list)


def keyword_weights(members: Sequence[Sequence[Sequence[str]]]) -> list[dict[str, float]]:
    """Class-based TF-IDF of unigram stems for each theme's answers (stems per answer)."""
    theme_df = [Counter(s for stems in answers for s in set(stems)) for answers in members]
    overall: Counter[str] = Counter()
    for counts in theme_df:
        overall.update(counts)
    mean_size = max(1.0, sum(len(a) for a in members) / max(1, len(members)))
    weights = []
    for answers, counts in zip(members, theme_df, strict=True):
        size = max(1, len(answers))
        weights.append(
            {s: (n / size) * math.log(1.0 + mean_size / overall[s]) for s, n in counts.items()}
        )
    return weights


def top_keywords(weights: dict[str, float], texts: Sequence[str], n: int = 8) -> list[str]:
    """The `n` heaviest stems, each shown as its most common written form."""
    forms: dict[str, Counter[str]] = {}
    stops = stop_words()
    for text in texts:
        for word in cased_words(text):
            lower = word.lower()
            if lower not in stops and not lower.isdigit():
                forms.setdefault(stem(lower), Counter())[lower] += 1
    ranked = sorted(weights, key=lambda s: (-weights[s], s))
    return [forms[s].most_common(1)[0][0] for s in ranked[:n] if s in forms]


def key_phrase(
    weights: dict[str, float], texts: Sequence[str], min_words: int = 2, max_words: int = 5
) -> str:
    """Best contiguous phrase from the texts; falls back to the top keyword."""
    stops = stop_words()
    phrase_docs: Counter[str] = Counter()
    written: dict[str, Counter[str]] = {}
    for text in texts:
        tokens = cased_words(text)
        lower = [t.lower() for t in tokens]
        content = [w not in stops and not w.isdigit() for w in lower]
        seen: set[str] = set()
        for i in range(len(tokens)):
            if not content[i]:
                continue
            for j in range(i + min_words - 1, min(len(tokens), i + max_words)):
                if not content[j]:
                    continue
                key = " ".join(lower[i : j + 1])
                if key not in seen:
                    seen.add(key)
                    phrase_docs[key] += 1
                    written.setdefault(key, Counter())[" ".join(tokens[i : j + 1])] += 1
    min_docs = 2 if len(texts) >= 4 else 1
    best, best_score = "", 0.0
    for phrase, docs in phrase_docs.items():
        if docs < min_docs:
            continue
        stems = [stem(w) for w in phrase.split() if w not in stops]
        score = docs * sum(weights.get(s, 0.0) for s in stems) / math.sqrt(len(stems))
        if score > best_score or (score == best_score and phrase < best):
            best, best_score = phrase, score
    top = max(weights, key=lambda s: (weights[s], s), default="")
    top_score = len(texts) * weights.get(top, 0.0)
    if best and best_score >= 0.3 * top_score:
        return _tidy(written[best].most_common(1)[0][0])
    keywords = top_keywords(weights, texts, 1)
    return _tidy(keywords[0]) if keywords else "(no label)"


def _tidy(phrase: str) -> str:
    """Lower-case unless a word is an acronym (GP, NHS), so labels read as phrases."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in phrase.split())


def representative_quotes(
    texts: Sequence[str],
    similarities: np.ndarray,
    scrub: Callable[[str], str],
    n: int = 3,
    max_chars: int = 280,
) -> list[str]:
    """Up to `n` distinct answers closest to the centroid, scrubbed and shortened."""
    quotes: list[str] = []
    seen: set[str] = set()
    for index in np.argsort(-similarities, kind="stable"):
        text = " ".join(texts[int(index)].split())
        key = text.lower()
        if not text or key in seen:
            continue
        seen.add(key)
        quote = scrub(text)
        if len(quote) > max_chars:
            quote = quote[: max_chars - 1].rsplit(" ", 1)[0] + "…"
        quotes.append(quote)
        if len(quotes) == n:
            break
    return quotes


def describe_groups(
    groups: Sequence[Sequence[str]], similarities: Sequence[np.ndarray]
) -> list[Theme]:
    """Label, keywords, scrubbed quotes and domains for each group of answers.

    Keywords weigh each group against the others (class-based TF-IDF), so groups
    described together get labels that tell them apart. `similarities[i][j]` is
    how central answer j is to group i (quotes are the most central answers).
    Theme ids are the groups' positions; sizes are left at 0 for the caller to count.
    """
    from analysis.personal_details.scrub import scrub

    normaliser = Normaliser()
    weights = keyword_weights([[normaliser.content_stems(t) for t in g] for g in groups])
    described = []
    for theme_id, (member_texts, similarity) in enumerate(zip(groups, similarities, strict=True)):
        described.append(
            Theme(
                id=theme_id,
                label=scrub(
                    theme_name(weights[theme_id], member_texts, np.asarray(similarity))
                    or key_phrase(weights[theme_id], member_texts)
                ),
                keywords=top_keywords(weights[theme_id], member_texts),
                size=0,
                quotes=representative_quotes(member_texts, np.asarray(similarity), scrub),
                domains=theme_domains(member_texts),
            )
        )
    return described
