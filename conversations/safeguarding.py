"""Safeguarding cues in free-text answers (pure: no I/O beyond reading the shipped patterns).

Curated English and Welsh patterns (``resources/safeguarding_patterns.tsv``) rather than a
trained classifier: a few hundred labelled sentences cannot train a model we would trust with
a missed disclosure, and patterns can be read and argued about by safeguarding leads. Text is
normalised first (lower case, common misspellings, missing apostrophes) so "im sucidal" and
"I'm suicidal" match alike. Policy talk ("fund suicide prevention") is not a disclosure and
does not match; negated ("I'm not suicidal") and past ("used to self-harm") clauses are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["CATEGORIES", "Assessment", "Evidence", "assess", "normalise"]

CATEGORIES: tuple[str, ...] = (
    "suicide_self_harm",
    "abuse",
    "domestic_violence",
    "immediate_danger",
    "child_at_risk",
)


@dataclass(frozen=True)
class Evidence:
    """The words (in normalised text) that made us raise ``category``."""

    category: str
    text: str


@dataclass(frozen=True)
class Assessment:
    """Result of :func:`assess`: ``risk`` is true when any category matched."""

    risk: bool
    categories: tuple[str, ...]
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class _Rule:
    category: str
    pattern: re.Pattern[str]
    negatable: bool
    historical: bool


# Misspellings and texting forms seen in real answers, mapped to the spelling the patterns use.
_SPELLINGS: dict[str, str] = {
    "sucidal": "suicidal",
    "suicidle": "suicidal",
    "suisidal": "suicidal",
    "suicidel": "suicidal",
    "suacidal": "suicidal",
    "suicdal": "suicidal",
    "sucide": "suicide",
    "suiside": "suicide",
    "suicde": "suicide",
    "myslef": "myself",
    "kil": "kill",
    "dont": "don't",
    "cant": "can't",
    "im": "i'm",
    "ive": "i've",
    "wont": "won't",
    "isnt": "isn't",
    "doesnt": "doesn't",
    "wanna": "want to",
    "gonna": "going to",
    "didnt": "didn't",
    "theres": "there's",
    "hes": "he's",
    "shes": "she's",
    "mums": "mum's",
    "u": "you",
    "ur": "your",
    "wen": "when",
    "selfharm": "self harm",
    "selfharming": "self harming",
    "anymore": "any more",
}
_NEGATION = re.compile(
    r"\b(not|never|no|n't|nothing to do with|ddim|nid|na fyddwn)\b|n't\b", re.IGNORECASE
)
_PAST = re.compile(
    r"\b(used to|years ago|as a (teenager|child|kid)|in the past|survivor|recovered)\b"
)
_CLAUSE_BREAK = re.compile(r"[.!?;,]|\b(but|and|because|so)\b")
_URGENT = re.compile(r"\b(right now|tonight|now|just taken|please help|help me|at the moment)\b")
_CHILD_SPEAKER = re.compile(
    r"\b(i'm|i am) (1[0-7]|[5-9])\b|\b(he's|she's) (only )?([1-9]|1[0-5])\b"
    r"|\b(\d|1[0-7]) year old\b|\b(my|his|her) little (brother|sister)\b"
)


def normalise(text: str) -> str:
    """Lower-case, straighten apostrophes and fix the misspellings in ``_SPELLINGS``."""
    low = text.lower().replace("’", "'").replace("‘", "'")
    low = re.sub(r"\bmy self\b", "myself", low)
    return re.sub(r"[a-z']+", lambda m: _SPELLINGS.get(m.group(), m.group()), low)


@cache
def _rules() -> tuple[_Rule, ...]:
    source = resources.files("conversations").joinpath("resources", "safeguarding_patterns.tsv")
    rules = []
    for line in source.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, flags, pattern = line.split("\t", 2)
        if category not in CATEGORIES:
            raise ValueError(f"unknown safeguarding category {category!r}")
        rules.append(_Rule(category, re.compile(pattern), "n" in flags, "h" in flags))
    return tuple(rules)


def _clause_before(text: str, start: int) -> str:
    """The few words before ``start`` that belong to the same clause."""
    before = text[max(0, start - 40) : start]
    parts = _CLAUSE_BREAK.split(before)
    return parts[-1] if parts else before


def _sentence(text: str, start: int, end: int) -> str:
    left = max(text.rfind(c, 0, start) for c in ".!?\n")
    rights = [i for i in (text.find(c, end) for c in ".!?\n") if i != -1]
    return text[left + 1 : min(rights) if rights else len(text)]


def assess(text: str, language: str = "en") -> Assessment:
    """Assess one answer for safeguarding risk.

    Every curated language (English, Welsh) is checked whatever ``language`` says, because
    answers in Wales often mix the two; ``language`` is kept for callers and future rule sets.
    """
    del language
    norm = normalise(text)
    evidence: list[Evidence] = []
    for rule in _rules():
        for m in rule.pattern.finditer(norm):
            if rule.negatable and _NEGATION.search(_clause_before(norm, m.start())):
                continue
            if rule.historical and _PAST.search(_sentence(norm, m.start(), m.end())):
                continue
            evidence.append(Evidence(rule.category, m.group()))
    found = {e.category for e in evidence}
    # A child speaking, or a child named by age, turns any harm into a child-protection matter.
    if found and (child := _CHILD_SPEAKER.search(norm)):
        evidence.append(Evidence("child_at_risk", child.group()))
    # Harm plus "right now"/"tonight" is an emergency, not a referral.
    if found - {"child_at_risk"} and (urgent := _URGENT.search(norm)):
        evidence.append(Evidence("immediate_danger", urgent.group()))
    categories = tuple(c for c in CATEGORIES if any(e.category == c for e in evidence))
    return Assessment(bool(categories), categories, tuple(evidence))
