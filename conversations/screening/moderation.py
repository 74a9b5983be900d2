"""Abuse, hate and threat detection for answers, from a shipped lexicon.

People are entitled to swear about a bad service ("the bloody buses are always late"), and such
answers must stay quotable. So swearing alone never counts: insults count only when aimed at
people in the same sentence, dehumanising words only when said of a protected group, and slurs
and threats count on their own. The lexicon is ``resources/abuse_lexicon.tsv``. Behind it, a small
linear classifier (:mod:`conversations.screening.textmodel`, ``resources/abuse_model.json.gz``, trained on
texts written for it in ``training/``) catches abuse in words the lexicon does not list; an
answer is flagged when either flags it.

People also report abuse they received ("a man called me a paki", "someone sprayed 'X out' on
the wall") and must be able to: quoted words and reported speech ("called me ...", "was told to
...") are blanked before matching, unless the speaker is the one saying it ("I'm calling you a
..."). Criticism of an act ("the councillor was an idiot to vote for this") is not name-calling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from conversations.screening import textmodel
from conversations.screening.spellings import ABUSE_LEXICON, spell_out

__all__ = ["KINDS_OF_ABUSE", "AbuseAssessment", "assess_abuse", "normalise", "unmask"]

# What an answer can be flagged as (the classifier's labels besides "any").
KINDS_OF_ABUSE = ("abusive", "hateful", "threatening")
_LEXICON_KINDS = ("insult", "target", "attack", "slur", "group", "dehumanise", "threat")
_SENTENCE = re.compile(r"[^.!?\n]+")
_WORD = re.compile(r"[a-z']+")
# Words in quotes after a space or bracket; apostrophes inside words ("i'll") stay part of them.
_QUOTED = re.compile(
    r"(?:^|(?<=[\s(:]))(?:\"[^\"\n]{1,120}\"|'(?:[^'\n]|(?<=[a-z])'(?=[a-z])){1,120}')"
    r"(?=[\s.,!?;:)]|$)"
)
# Someone else's words being reported, up to the end of the clause (a new subject ends it).
_REPORTED = re.compile(
    r"\b(?:call(?:ed|ing|s)?|shout(?:ed|ing|s)?|yell(?:ed|ing|s)?|scream(?:ed|ing|s)?|swore"
    r"|sprayed|painted|scrawled|wr(?:ote|itten|ites|iting)|graffiti|post(?:ed|ing|s)|messaged"
    r"|texted|branded|labelled|said|says|saying|told(?: me| us| him| her| them)? to|the words?"
    r"|words like)\b"
    r"(?:(?!\b(?:and|but|so|because|then|if) (?:i|i'm|i'll|we|we'll|you|you're|he|she|they|it)\b)"
    r"[^.!?,;\n])*"
)
# The speaker doing the saying ("i'm calling you a ...") is not a report.
_SPEAKER = re.compile(r"\b(i|i'm|i am|i'll|i will|we|we're|we'll)\s+$")
_AT_YOU = re.compile(r"^\w+(?: \w+)?\s+(you|u|yous|youse|yourselves)\b")
# "was an idiot to vote for this": judging an act, not calling names.
_CRITICISM = re.compile(
    r"(?:\b(?:was|is|were|are|be|being)|'s|'re) (?:an? )?(?:idiots?|stupid|daft|fools?) to\b"
)


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
    source = resources.files("conversations.screening").joinpath("resources", "abuse_lexicon.tsv")
    found: dict[str, list[re.Pattern[str]]] = {kind: [] for kind in _LEXICON_KINDS}
    for line in source.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, pattern = line.split("\t", 1)
            found[kind].append(re.compile(pattern))
    return {kind: tuple(patterns) for kind, patterns in found.items()}


# "not a bastard", "are not all criminals": a denial, not an insult.
_DENIAL = re.compile(r"\b(not|never|n't|aren't|isn't|no)\b(?: \w+)?\s*$")
_DENIABLE = frozenset({"insult", "dehumanise"})


def _matches(kind: str, text: str) -> list[str]:
    return [
        m.group()
        for p in _lexicon()[kind]
        for m in p.finditer(text)
        if kind not in _DENIABLE or not _DENIAL.search(text[max(0, m.start() - 16) : m.start()])
    ]


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


# Masked spelling: "d1ckhead", "tw@t", "p4ki" (digits or symbols between letters) and
# "c u n t" or "c.u.n.t" (letters spaced out). Abusers write so to dodge word lists.
_LEET = str.maketrans("134057@$!", "ieaostasi")
_LEET_WORD = re.compile(r"(?<![\w@.])[a-z]+[134057@$!]+[a-z][a-z134057@$!]*(?![\w@])")
_SPACED = re.compile(r"(?<![\w.])(?:[a-z][ .]){3,}[a-z](?![\w.])")


def unmask(text: str) -> str:
    """``text`` in lower case with masked spelling undone ("d1ckhead" -> "dickhead")."""
    low = text.lower()
    low = _LEET_WORD.sub(lambda m: m.group().translate(_LEET), low)
    return _SPACED.sub(_join_spaced, low)


def _join_spaced(m: re.Match[str]) -> str:
    letters = re.split(r"[ .]", m.group())
    if letters[0] in ("a", "i") and len(letters) > 4:  # "is a c u n t"
        return letters[0] + " " + "".join(letters[1:])
    return "".join(letters)


def normalise(text: str) -> str:
    """Lower-case, straighten quotes, undo masked spelling, fix texting forms, and blank quoted
    and reported words."""
    norm = unmask(text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"'))
    norm = spell_out(norm, ABUSE_LEXICON, _WORD)
    for m in reversed(list(_QUOTED.finditer(norm))):
        norm = _blank(norm, m.start(), m.end())
    for m in reversed(list(_REPORTED.finditer(norm))):
        if _SPEAKER.search(norm[max(0, m.start() - 12) : m.start()]) or _AT_YOU.match(m.group()):
            continue
        norm = _blank(norm, m.start(), m.end())
    for m in reversed(list(_CRITICISM.finditer(norm))):
        norm = _blank(norm, m.start(), m.end())
    return norm


def assess_abuse(text: str) -> AbuseAssessment:
    """Assess one answer: abusive (at people), hateful (about groups) or threatening."""
    found = _pattern_assessment(text)
    model = textmodel.load("abuse_model")
    probabilities = model.probabilities(unmask(text))
    if found.flagged or probabilities["any"] < model.thresholds["any"]:
        return found
    kinds = [k for k in KINDS_OF_ABUSE if probabilities[k] >= model.thresholds[k]]
    kinds = kinds or [max(KINDS_OF_ABUSE, key=probabilities.__getitem__)]
    words = tuple(w for k in kinds for w in model.reasons(unmask(text), k))
    return AbuseAssessment(
        "abusive" in kinds, "hateful" in kinds, "threatening" in kinds, tuple(dict.fromkeys(words))
    )


def _pattern_flags(text: str) -> bool:
    """Whether the lexicon alone flags ``text`` (for training and measuring)."""
    return _pattern_assessment(text).flagged


def _pattern_assessment(text: str) -> AbuseAssessment:
    norm = normalise(text)
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
