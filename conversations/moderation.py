"""Abuse, hate and threat detection for answers, from a shipped lexicon.

People are entitled to swear about a bad service ("the bloody buses are always late"), and such
answers must stay quotable. So swearing alone never counts: insults count only when aimed at
people in the same sentence, dehumanising words only when said of a protected group, and slurs
and threats count on their own. The lexicon is ``resources/abuse_lexicon.tsv``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["AbuseAssessment", "assess_abuse"]

_KINDS = ("insult", "target", "attack", "slur", "group", "dehumanise", "threat")
_SENTENCE = re.compile(r"[^.!?\n]+")


@dataclass(frozen=True)
class AbuseAssessment:
    """Result of :func:`assess_abuse`; ``evidence`` holds the matched words."""

    abusive: bool
    hateful: bool
    threatening: bool
    evidence: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        """True when any of the three applies."""
        return self.abusive or self.hateful or self.threatening


@cache
def _lexicon() -> dict[str, tuple[re.Pattern[str], ...]]:
    source = resources.files("conversations").joinpath("resources", "abuse_lexicon.tsv")
    found: dict[str, list[re.Pattern[str]]] = {kind: [] for kind in _KINDS}
    for line in source.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, pattern = line.split("\t", 1)
            found[kind].append(re.compile(pattern))
    return {kind: tuple(patterns) for kind, patterns in found.items()}


def _matches(kind: str, text: str) -> list[str]:
    return [m.group() for p in _lexicon()[kind] for m in p.finditer(text)]


def assess_abuse(text: str) -> AbuseAssessment:
    """Assess one answer: abusive (at people), hateful (about groups) or threatening."""
    norm = text.lower().replace("’", "'").replace("‘", "'")
    evidence: list[str] = []
    abusive = hateful = threatening = False
    for sentence in _SENTENCE.findall(norm):
        insults = _matches("insult", sentence)
        attacks = _matches("attack", sentence)
        if attacks or (insults and _matches("target", sentence)):
            abusive = True
            evidence += attacks + insults
        slurs = _matches("slur", sentence)
        dehumanising = _matches("dehumanise", sentence)
        groups = _matches("group", sentence)
        if slurs or (dehumanising and groups):
            hateful = True
            evidence += slurs + (dehumanising if groups else [])
        if threats := _matches("threat", sentence):
            threatening = True
            evidence += threats
    return AbuseAssessment(abusive, hateful, threatening, tuple(dict.fromkeys(evidence)))
