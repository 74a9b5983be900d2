"""Public-service domains a theme touches, from a small shipped keyword lexicon.

analysis/themes/resources/domains.toml lists plain words per domain; they are stemmed
here with the same stemmer as the answers, and multi-word entries match as
consecutive stems. A theme touches a domain when at least `min_share` of its
answers mention one of the domain's words.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from functools import cache
from importlib import resources

from analysis.themes.normalise import stem, words


@cache
def domain_lexicon() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Domain name -> stemmed keyword sequences."""
    raw = resources.files("analysis.themes").joinpath("resources/domains.toml").read_text("utf-8")
    table = tomllib.loads(raw)["domains"]
    return {
        name: tuple(tuple(stem(w) for w in words(entry)) for entry in entries)
        for name, entries in table.items()
    }


def domains_in(text: str) -> set[str]:
    """Domains whose keywords occur in one text."""
    stems = [stem(w) for w in words(text)]
    unigrams = set(stems)
    found: set[str] = set()
    for name, entries in domain_lexicon().items():
        for entry in entries:
            if len(entry) == 1:
                hit = entry[0] in unigrams
            else:
                hit = any(
                    tuple(stems[i : i + len(entry)]) == entry
                    for i in range(len(stems) - len(entry) + 1)
                )
            if hit:
                found.add(name)
                break
    return found


def theme_domains(texts: Sequence[str], min_share: float = 0.15, limit: int = 3) -> list[str]:
    """Domains mentioned by at least `min_share` of a theme's texts, most-mentioned first."""
    if not texts:
        return []
    counts: dict[str, int] = {}
    for text in texts:
        for name in domains_in(text):
            counts[name] = counts.get(name, 0) + 1
    shares = {name: n / len(texts) for name, n in counts.items()}
    ranked = sorted(
        (name for name in shares if shares[name] >= min_share), key=lambda n: -shares[n]
    )
    return ranked[:limit]
