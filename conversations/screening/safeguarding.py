"""Safeguarding cues in free-text answers (pure: no I/O beyond reading the shipped resources).

Two detectors, and a disclosure counts when either sees it. First, curated English and Welsh
patterns (``resources/safeguarding_patterns.tsv``), which safeguarding leads can read and argue
about. Second, because people at risk rarely use the patterns' own words, a small linear
classifier (:mod:`conversations.screening.textmodel`, ``resources/safeguarding_model.json.gz``) trained on
varied phrasings and hard negatives written for it (``training/``); its evidence names the words
that weighed most. A missed disclosure costs more than a false alarm, but a false alarm shows
help lines and alerts a lead, so its threshold keeps its precision near 90% on held-out folds.

For the patterns, text is normalised first (lower case, apostrophes straightened, the texting
forms and misspellings of :mod:`conversations.screening.spellings` written out) so "im sucidal"
and "I'm suicidal" match alike. Policy talk ("fund suicide prevention") is not a disclosure and
does not match; negated ("I'm not suicidal") and past ("used to self-harm") clauses are skipped.
Hyperbole ("the buses make me want to die lol") is skipped for the loose ideation phrases only,
never for a plan, a method or an act, because a joke marker next to "I've got a rope" is no joke.
Neglect cues are read against the child's stated age: a 16-year-old home alone is not a referral.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from conversations.screening import textmodel
from conversations.screening.safeguarding_cues import classifier_applies
from conversations.screening.spellings import SAFEGUARDING_PATTERNS, spell_out

__all__ = [
    "CATEGORIES",
    "Assessment",
    "Evidence",
    "assess",
    "normalise",
    "own_words",
    "without_own_words",
]

CATEGORIES: tuple[str, ...] = (
    "suicide_self_harm",
    "abuse",
    "domestic_violence",
    "immediate_danger",
    "child_at_risk",
    "homeless_tonight",
)
# Categories that need help at once, whatever else is said.
_CRISES = frozenset({"immediate_danger", "homeless_tonight"})


@dataclass(frozen=True)
class Evidence:
    """The words (in normalised text) that made us raise ``category``."""

    category: str
    text: str


@dataclass(frozen=True)
class Assessment:
    """Result of :func:`assess`: ``risk`` is true when any category matched.

    ``severity`` grades the response: "crisis" (danger now: crisis help at once), "concern"
    (worrying signs: gentle signposting) or None (no risk seen)."""

    risk: bool
    categories: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    severity: str | None = None


@dataclass(frozen=True)
class _Rule:
    category: str
    pattern: re.Pattern[str]
    negatable: bool
    historical: bool
    hyperbole: bool  # loose phrase that jokes and exaggeration use too
    child_only: bool  # counts only when the text is about, or from, a child
    adult_only: bool  # a child's version of this cue is matched by a child_at_risk rule
    age_checked: bool  # neglect cue that depends on how old the child is
    service_talk: bool  # a word that talk about services uses too ("self-harm support group")
    machine: bool  # "took my money" said of a meter, a machine or the council is no abuse


_WORD = re.compile(r"[a-z0-9']+")
_NEGATION = re.compile(
    r"\b(not|never|no|n't|nothing to do with|ddim|nid|na fyddwn)\b|n't\b", re.IGNORECASE
)
_PAST = re.compile(
    r"\b(used to|years ago|as a (teenager|child|kid)|in the past|survivor|recovered|in recovery"
    r"|saved (me|my life)|(got|pulled) me through|turned my life around|in a better place"
    r"|(i'm|i am) (ok|okay|fine|better|well|safe) now)\b"
)
_CLAUSE_BREAK = re.compile(r"[.!?;,]|\b(but|and|because|so)\b")
# Any harm said to be happening now or tonight is a crisis, whatever its category.
_NOW = re.compile(r"\b(right now|tonight|heno|rŵan|this minute|as we speak)\b")
_URGENT = re.compile(r"\b(right now|tonight|now|just taken|heno|rŵan|nawr)\b")
# Laughter, "if I have to ... one more" and "<everyday nuisance> makes me want to": exaggeration.
_HYPERBOLE = re.compile(
    r"\b(lol+|lmf?ao+|rofl|ha(ha)+h?|he(he)+|jk|only joking|just joking|kidding)\b"
    r"|[\U0001F602\U0001F923\U0001F606\U0001F605\U0001F643\U0001F644\U0001F480]"
    r"|\bif i (have|had) to\b[^.!?]{0,60}\b(one more|another|again)\b"
    r"|\b(bus|buses|queue|traffic|meeting|roadworks|bins?|bin lorry|forms?|website|app|hold music"
    r"|survey|parking|commute|paperwork|weather|rain|road|trains?|printer)\b[^.!?]{0,20}"
    r"\b(makes?|made|making) me want to\b"
    r"|^\W*kill me now\b"
)
# Talk about services and issues rather than a person: "self-harm support group", "overdose
# figures", "people with suicidal thoughts", "county lines is a problem", "grooming gangs".
_SERVICE_AFTER = re.compile(
    r"^[- ]?\w*\s+(support|services?|figures|rates?|reports?|statistics|prevention|awareness"
    r"|training|funding|charit\w+|gangs?|problem|is a problem|are a problem|crisis|teams?|groups?"
    r"|workers?|numbers|cases|policy|strategy|in the news|was in the news|were in the news)\b"
)
_SERVICE_BEFORE = re.compile(
    r"\b(people|those|anyone|men|women|teenagers|young people|patients|residents|kids|children)"
    r" (with|who have|having|at risk of|affected by|suffering from|experiencing)\s+$"
    r"|\b(tackle|tackling|prevent|preventing|reduce|reducing|stop|stopping|fight|fighting"
    r"|about|on|of) (the )?$"
)
_MACHINE = re.compile(
    r"\b(machine|meter|council|parking|ticket|app|website|tax|bus|fine|shop|bank|cashpoint"
    r"|atm|vending|till|landlord|energy|bills?|government|rent)\b"
)
# Board games and sport: "my partner beat me at darts".
_GAME = re.compile(
    r"\b(at|in) (darts|pool|chess|cards|the quiz|the pub quiz|a quiz|quiz|tennis|football|golf"
    r"|scrabble|monopoly|bingo|a race|the race|squash|bowls|snooker|bridge|a game|the game|games?"
    r"|arm wrestling|the park run|parkrun)\b"
)
# Immediate danger is now: a date or "last year" beside it makes it history.
_NOT_NOW = re.compile(
    r"\b(last (year|month|summer|winter|spring|autumn|christmas)|(years?|months?) ago"
    r"|in (19|20)\d\d|when i was|used to|a while ago|back in)\b"
)
# A stated child's age: "8 year old", "aged 6", "he's 10", "my 13yo".
_AGE = re.compile(
    r"\b(\d{1,2}) ?(?:-| )?(?:years?|yrs?)[- ]?old\b|\b(\d{1,2}) ?yo\b"
    r"|\b(?:aged|age|he's|she's|he is|she is|they're|who is|who's)\s+(?:only |about |maybe )?(\d{1,2})\b"
)
_OVERNIGHT = re.compile(r"\b(all night|overnight|every night|for days|all weekend|every weekend)\b")
_CHILD_WORD = re.compile(
    r"\b(kids?|children|child|bab(y|ies)|toddlers?|little ones?|son|daughter|lad|boy|girl"
    r"|teenagers?|plant|plentyn|mhlentyn)\b"
)
_CHILD_SPEAKER = re.compile(
    r"\b(i'm|i am) (1[0-7]|[5-9])\b|\b(he's|she's) (only )?([1-9]|1[0-5])\b"
    r"|\b(\d|1[0-7]) year old\b|\b(my|his|her) little (brother|sister)\b"
)


def normalise(text: str) -> str:
    """Lower-case, straighten apostrophes and write out texting forms and misspellings."""
    low = text.lower().replace("’", "'").replace("‘", "'")
    low = re.sub(r"\bmy self\b(?![- ]?(harm|injur))", "myself", low)
    return spell_out(low, SAFEGUARDING_PATTERNS, _WORD)


@cache
def _rules() -> tuple[_Rule, ...]:
    source = resources.files("conversations.screening").joinpath(
        "resources", "safeguarding_patterns.tsv"
    )
    rules = []
    for line in source.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, flags, pattern = line.split("\t", 2)
        if category not in CATEGORIES:
            raise ValueError(f"unknown safeguarding category {category!r}")
        if unknown := set(flags) - set("nhjcxaps"):
            raise ValueError(f"unknown safeguarding flags {unknown!r}")
        rules.append(
            _Rule(
                category,
                re.compile(pattern),
                negatable="n" in flags,
                historical="h" in flags,
                hyperbole="j" in flags,
                child_only="c" in flags,
                adult_only="x" in flags,
                age_checked="a" in flags,
                service_talk="p" in flags,
                machine="s" in flags,
            )
        )
    return tuple(rules)


def _old_enough(sentence: str) -> bool:
    """True when every age stated is old enough to be left alone for a while (NSPCC: 12+),
    unless it is overnight or for days, which under-16s should not be."""
    ages = [int(a) for groups in _AGE.findall(sentence) for a in groups if a]
    if not ages:
        return False
    return min(ages) >= (16 if _OVERNIGHT.search(sentence) else 12)


def _clause_before(text: str, start: int) -> str:
    """The few words before ``start`` that belong to the same clause."""
    before = text[max(0, start - 40) : start]
    parts = _CLAUSE_BREAK.split(before)
    return parts[-1] if parts else before


def _sentence(text: str, start: int, end: int) -> str:
    left = max(text.rfind(c, 0, start) for c in ".!?\n")
    rights = [i for i in (text.find(c, end) for c in ".!?\n") if i != -1]
    return text[left + 1 : min(rights) if rights else len(text)]


def assess(text: str, language: str = "en", own_words: Iterable[str] = ()) -> Assessment:
    """Assess one answer for safeguarding risk: the curated patterns, backed by the classifier.

    Every curated language (English, Welsh) is checked whatever ``language`` says, because
    answers in Wales often mix the two; ``language`` is kept for callers and future rule sets.
    ``own_words`` are the consultation's own words (its area names and options, from its
    script): "I live in Marsh End" names a place the script offered, not a wish to die.
    """
    del language
    text = without_own_words(text, own_words)
    found = _pattern_assessment(text)
    model = textmodel.load("safeguarding_model")
    if not found.risk and not classifier_applies(text):
        return found
    probabilities = model.probabilities(text)
    if probabilities["any"] < model.thresholds["any"] and not found.risk:
        return found
    # The classifier's categories: those it is confident of, or else its most likely one.
    guessed = [c for c in CATEGORIES if probabilities[c] >= model.thresholds[c]]
    if not found.risk and not guessed:
        guessed = [max(CATEGORIES, key=probabilities.__getitem__)]
    evidence = list(found.evidence)
    for category in guessed:
        if category not in found.categories:
            words = ", ".join(model.reasons(text, category))
            evidence.append(
                Evidence(category, f"classifier ({probabilities[category]:.2f}): {words}")
            )
    if not found.risk and (urgent := _URGENT.search(normalise(text))):
        evidence.append(Evidence("immediate_danger", urgent.group()))
    categories = tuple(c for c in CATEGORIES if any(e.category == c for e in evidence))
    # Danger now, or a plan with a time, gets crisis help at once; the rest gentle signposting.
    crisis = (
        bool(_CRISES & set(categories))
        or probabilities["crisis"] >= model.thresholds["crisis"]
        or _NOW.search(normalise(text)) is not None
    )
    severity = ("crisis" if crisis else "concern") if categories else None
    return Assessment(bool(categories), categories, tuple(evidence), severity)


def own_words(labels: Iterable[str]) -> tuple[str, ...]:
    """A script's own words from its labels: each label ("South (Marsh End, Brookvale)") and
    the names listed inside it ("South", "Marsh End", "Brookvale")."""
    words: list[str] = []
    for label in labels:
        words.append(label)
        words += re.split(r"\s*[(),;/]\s*", label)
    return tuple(dict.fromkeys(w.strip() for w in words if len(w.strip()) >= 3))


def without_own_words(text: str, own_words: Iterable[str]) -> str:
    """``text`` with the consultation's own words blanked (whole words, any case)."""
    anyone, each = _own_patterns(tuple(own_words))
    if anyone is None or not anyone.search(text):
        return text  # most answers name none: one search instead of one per phrase
    for pattern in each:
        text = pattern.sub(" ", text)
    return text


@lru_cache(maxsize=64)
def _own_patterns(own_words: tuple[str, ...]) -> tuple[re.Pattern[str] | None,
                                                        tuple[re.Pattern[str], ...]]:  # fmt: skip
    """A script's own words compiled once (an import screens thousands of answers with
    them): one pattern that finds any, and each phrase's, the longest first."""
    phrases = sorted({w.strip() for w in own_words if len(w.strip()) >= 3}, key=len)[::-1]
    each = tuple(re.compile(rf"(?<!\w){re.escape(p)}(?!\w)", re.IGNORECASE) for p in phrases)
    anyone = re.compile("|".join(p.pattern for p in each), re.IGNORECASE) if each else None
    return anyone, each


def _pattern_risk(text: str) -> bool:
    """Whether the curated patterns alone see a risk (for training and measuring)."""
    return _pattern_assessment(text).risk


def _pattern_assessment(text: str) -> Assessment:
    norm = normalise(text)
    child_speaker = _CHILD_SPEAKER.search(norm)
    about_child = child_speaker or _CHILD_WORD.search(norm)
    evidence: list[Evidence] = []
    for rule in _rules():
        if (rule.child_only and not about_child) or (rule.adult_only and child_speaker):
            continue
        for m in rule.pattern.finditer(norm):
            if rule.negatable and _NEGATION.search(_clause_before(norm, m.start())):
                continue
            sentence = _sentence(norm, m.start(), m.end())
            if rule.historical and _PAST.search(sentence):
                continue
            if rule.hyperbole and _HYPERBOLE.search(sentence):
                continue
            if rule.age_checked and _old_enough(sentence):
                continue
            if rule.service_talk and (
                _SERVICE_AFTER.match(norm[m.end() : m.end() + 40])
                or _SERVICE_BEFORE.search(norm[max(0, m.start() - 40) : m.start()])
            ):
                continue
            if rule.machine and _MACHINE.search(sentence):
                continue
            if rule.category in ("domestic_violence", "child_at_risk") and _GAME.search(sentence):
                continue
            if rule.category == "immediate_danger" and _NOT_NOW.search(sentence):
                continue
            evidence.append(Evidence(rule.category, m.group()))
    found = {e.category for e in evidence}
    # A child speaking, or a child named by age, turns any harm into a child-protection matter.
    if found and child_speaker:
        evidence.append(Evidence("child_at_risk", child_speaker.group()))
    # Harm plus "right now"/"tonight" is an emergency, not a referral.
    if found - {"child_at_risk"} and (urgent := _URGENT.search(norm)):
        evidence.append(Evidence("immediate_danger", urgent.group()))
    categories = tuple(c for c in CATEGORIES if any(e.category == c for e in evidence))
    return Assessment(bool(categories), categories, tuple(evidence))
