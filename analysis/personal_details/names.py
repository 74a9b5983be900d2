"""People's names in free text, for :mod:`analysis.personal_details.scrub`.

No name list knows every name, and many names are words ("Hope Green", "Will Bishop"), so a
name is believed for a reason: a title ("Dr Patel", "mr o'brien"); a cue ("my name is", "ask
for", "her name was", "a woman called", "diolch,", "cofion,", "my client", "Gareth here"); a
known given name with a surname ("Osian Bowen", "Zbigniew Kowal"); for given names that are
also words and for names written in lower case, a listed surname ("rose bell", "shauna
tudur"); or where a name stands alone: two to four name words that open the text, a line or
a sentence and are followed by an address, a number or the end ("Hodan Ali, 17 ...",
"... the bins. Elen Gwilym."). Surnames may be hyphenated, have an apostrophe, start "Mc", or
be Welsh patronymics ("ap Dafydd"). A name followed by "estate", "road", "school", "report" or
"health board", or after "Ysgol", "Syr" or "Heol", is a place or an organisation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from analysis.personal_details.addresses import STREET_SUFFIX
from analysis.personal_details.name_words import (
    common,
    given,
    stop,
    surname,
    surname_shaped,
    word_list,
    world_given,
)

__all__ = ["names"]

_TITLE = r"(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Cllr|Councillor|Sir|Dame|Fr|Father|Rev|Revd)\.?"
_NAME_WORD = r"[A-Z][a-z]*(?:[A-Z][a-z]+)?(?:['’-][A-Z]?[a-z]+)*"  # "MacInnes", "O'Neill"
_TITLED = re.compile(rf"\b{_TITLE}\s+(?:{_NAME_WORD}\s+){{0,2}}{_NAME_WORD}\b")
_TITLED_LOWER = re.compile(r"\b(?:dr|mr|mrs|ms|miss|cllr)\.? (?P<name>[a-z]+(?:['’-][a-z]+)*)\b")
_TOKEN = re.compile(r"[^\W\d_][^\W\d_]*(?:['’-][^\W\d_]+)*")
_RELATIONS = (
    r"neighbour|neighbor|son|sons|daughter|carer|husband|wife|partner|brother|sister|mum|mom|dad|"
    r"nan|nana|gran|grandson|granddaughter|grandad|friend|mate|boyfriend|girlfriend|advocate|"
    r"solicitor|social worker|support worker|caretaker|brother-in-law|sister-in-law|nephew|niece|"
    r"uncle|aunt|auntie|cousin|landlord|landlady|child|baby|GP|client|tenant|mab|merch|ffrind"
)
# Strong cues accept any word; weak cues ("I'm ...") need a known given name ("I'm fed up").
_STRONG_CUE = re.compile(
    r"(?i:\bmy name(?:'s| is|s)|\bfy enw i yw|\bfy enw yw|\bcall me|\bregards,?|\bthanks,"
    r"|\bthank you,|\bcheers,?|\bdiolch,|\bcofion,?|\bput it under|\bask for|\bspeak to"
    r"|\bta,|\blove,|\blove from|\bsigned,?|\bbest wishes,?|\bmany thanks,?|\bsincerely,?"
    r"|\byours,|\byours (?:faithfully|sincerely|truly),?|\bname:|\benw:|\bfull name(?: is)?,?"
    r"|\b(?:his|her|their|your|'s) names?(?:'s| is| was| are)|\bnames? as)\s+"
)
# Cues that are also everyday words ("I called the council"): the name must be capitalised.
_CAPITAL_CUE = re.compile(
    r"(?i:\bcalled|\bnamed|\bnominate|\btell|\bcontact:?|\bapplicant:|\bdetails:|\bpatient,"
    r"|\bneges gan|\bname|\bwrite to|\bpost to)\s+"
)
_WEAK_CUE = re.compile(r"(?i:\bi'?m|\bi am|\bthis is|\bit'?s)\s+")
# Where a sign-off may stand: a known given name only ("- Mark Baker" is, "Hope the..." is not).
_SIGN_OFF = re.compile(r"(?i:\bfrom|\bgan|\bdiolch|\bthanks|(?:^|\s)[-–]|^)\s*")
_RELATION_CUE = re.compile(rf"(?i:\bmy (?:{_RELATIONS}),?(?: is)?)\s+")
# A nickname inside a name: Dai "Bach" Hopkins, Robert (Bobby) Pugh.
_NICKNAME = re.compile(r"[ \t]+[\"“'(][A-Z][a-z]+[\"”')](?=[ \t]+[A-Z])")
_HERE = re.compile(r"\s+here\b")
# Words that make a name before them a place or an organisation ("Joseph Rowntree report").
_PLACE_AFTER = re.compile(
    rf"(?:'s)?\s+(?:{'|'.join(sorted(word_list('org_words.txt')))}|&|{STREET_SUFFIX})\b",
    re.IGNORECASE,
)
# Small words inside a surname: "ap Dafydd", "Ó Súilleabháin", "da Silva", "de Souza".
_PARTICLES = frozenset(["ap", "ab", "ó", "ní", "nic", "mac", "de", "da", "van", "von", "bin"])
_PLACE_BEFORE = re.compile(r"\b(?:on|in|at|near|to|by|off|round|from|the)\s+$", re.IGNORECASE)
# Welsh and English words naming a school, street or building after a person ("Ysgol Syr Hugh
# Owen", "Heol Dewi Sant", "the Joseph Rowntree report").
_ORG_BEFORE = re.compile(
    r"(?i:\b(?:ysgol|syr|sir|canolfan|llyfrgell|heol|ffordd|stryd|lôn|lon|sarn|capel|neuadd"
    r"|theatr|ysbyty|parc|plas|saint|st|y|yr|the|lle|ward|caffi|cafe|café|siop)\s+$)"
)
# Where a name may stand alone: the start of the text, a line, a sentence or a list item.
_ALONE_START = re.compile(r"(?:^|[:;(|\n]|[.!?]\s|\s[-–—]\s)\s*")
# ...and what follows it: an address, a number, a contact, a birth date, or the end.
_ALONE_END = re.compile(
    r"\s*(?:[,(]|\s[-–—])\s*(?:\d|(?:flat|fflat|unit|dob|d\.o\.b|born|ganwyd|nhs|tel|mob|phone"
    r"|ffon|ffôn|email|e-bost|no\.)\b|[\w.+-]+@)|[.!]?\s*$",
    re.IGNORECASE,
)


_GAP = re.compile(r"[ \t]+")
_SUFFIX = re.compile(STREET_SUFFIX)
_SENTENCE_END = re.compile(r"\s*(?:[.,;!?\n]|$)")
_SHAPED = re.compile(r"(?i)(?<![\w'’-])(?:[\w'’]+-)?(?:mc|mac|o['’]|fitz|d['’]|el-|al-)[\w'’-]{3,}")
_WORD_BEFORE = re.compile(r"(?<![\w'’-])([^\W\d_][\w'’-]*)[ \t]+$")


def _read_name(text: str, start: int, *, loose: bool) -> int | None:
    """End of the name starting at ``start`` (a first word and up to three more), or None.
    ``loose`` (after a strong cue) accepts a lower-case surname not in the list when the
    name ends a sentence ("my name is declan haworth.")."""
    first = _TOKEN.match(text, start)
    if first is None or stop(first.group()):
        return None
    end = first.end()
    for _ in range(3):
        if nick := _NICKNAME.match(text, end):
            end = nick.end()
            continue
        gap = _GAP.match(text, end)
        if gap is None:
            break
        token = _TOKEN.match(text, gap.end())
        if token is None:
            break
        word = token.group()
        if word.lower() in _PARTICLES and (after := _TOKEN.match(text, token.end() + 1)):
            end = after.end()
            continue
        middle = word[0].isupper() and given(word, ambiguous=True)  # "Olive May Thornber"
        if (_SUFFIX.fullmatch(word) and not surname(word)) or (common(word) and not middle):
            break
        ends_sentence = _SENTENCE_END.match(text, token.end()) is not None
        if (
            word[0].isupper()
            or surname(word)
            or world_given(word)
            or (loose and ("-" in word or "'" in word or ends_sentence))
            or (  # an all lower-case name after a cue: "my name is tia-rose kenworthy"
                loose
                and end == first.end()
                and first.group().islower()
                and world_given(first.group())
            )
        ):
            end = token.end()
            continue
        break
    return end


def _a_place(text: str, start: int, end: int, *, cued: bool = False) -> bool:
    """Whether the words at ``text[start:end]`` name a place or an organisation (after a
    strong cue, "Cofion, Heather Field", only the words around it can say so)."""
    words = text[start:end].lower().split()
    return (
        _PLACE_AFTER.match(text, end) is not None
        or _ORG_BEFORE.search(text[max(0, start - 12) : start]) is not None
        or (not cued and any(w in word_list("org_words.txt") for w in words))
    )


def names(text: str) -> Iterator[tuple[int, int]]:
    """Spans of people's names (a title, when written, is part of the span)."""
    for m in _TITLED.finditer(text):
        if not _PLACE_AFTER.match(text, m.end()):
            yield m.start(), m.end()
    for m in _TITLED_LOWER.finditer(text):
        if not common(m.group("name")):
            yield m.start(), m.end()
    yield from _cued(text)
    yield from _uncued(text)
    yield from _alone(text)


def _cued(text: str) -> Iterator[tuple[int, int]]:
    cues = (
        (_STRONG_CUE, True),
        (_CAPITAL_CUE, True),
        (_RELATION_CUE, True),
        (_WEAK_CUE, False),
        (_SIGN_OFF, False),
    )
    for cue, loose in cues:
        for m in cue.finditer(text):
            word = _TOKEN.match(text, m.end())
            if word is None or stop(word.group()):
                continue
            # "I'm Grace" is a name, "Hope the council reads this" is not.
            capital = word.group()[0].isupper()
            known = given(word.group(), ambiguous=cue is not _SIGN_OFF and capital)
            if cue in (_WEAK_CUE, _SIGN_OFF) and not known:
                continue
            if cue is _CAPITAL_CUE and not capital:
                continue
            end = _read_name(text, m.end(), loose=loose)
            strong = cue in (_STRONG_CUE, _RELATION_CUE)
            if end is None or _a_place(text, m.end(), end, cued=strong):
                continue
            # A cue that is also an everyday phrase ("tell", "ask for"): one word that no list
            # knows is not enough ("Tell Marks and Spencer", "ask for better lighting").
            one_word = " " not in text[m.end() : end]
            listed = world_given(word.group()) or surname(word.group())
            if one_word and not listed and (cue is _CAPITAL_CUE or not capital):
                continue
            if cue is _RELATION_CUE and not (capital or known or world_given(word.group())):
                continue
            yield m.end(), end


def _uncued(text: str) -> Iterator[tuple[int, int]]:
    """Names with no cue: a known given name and a surname, or "<name> here"."""
    resume = 0
    for m in _TOKEN.finditer(text):
        word = m.group()
        if m.start() < resume or not (given(word, ambiguous=True) or world_given(word)):
            continue
        end = _read_name(text, m.start(), loose=False)
        if end is None:
            continue
        resume = end  # "Syr Hugh Owen": once "Hugh Owen" is a place, so is "Owen"
        after_here = _HERE.match(text, end)
        parts = text[m.start() : end].split()
        if _a_place(text, m.start(), end) and not after_here:
            continue  # "Rose Hill estate", "Iolo Morganwg Street", "Ysgol Syr Thomas Jones"
        if (
            after_here
            or (word[0].isupper() and given(word, ambiguous=False))
            or (len(parts) > 1 and all(p[0].isupper() for p in parts) and world_given(word))
            or (
                len(parts) > 1
                and surname(parts[-1])
                and (
                    given(word, ambiguous=False)
                    or not _PLACE_BEFORE.search(text[max(0, m.start() - 8) : m.start()])
                )
            )
        ):
            yield m.start(), end
    yield from _shaped(text)


def _shaped(text: str) -> Iterator[tuple[int, int]]:
    """A word before a surname shaped like one, in any case ("ray o'hara", "kerry-ann mcbride")."""
    for m in _SHAPED.finditer(text):
        before = _WORD_BEFORE.search(text, max(0, m.start() - 40), m.start())
        if (
            before
            and surname_shaped(m.group())
            and not (common(before.group(1)) or common(m.group()))
            and not _a_place(text, before.start(1), m.end())
        ):
            yield before.start(1), m.end()


def _alone(text: str) -> Iterator[tuple[int, int]]:
    """Two to four name words standing alone, then an address, a number or the end."""
    for m in _ALONE_START.finditer(text):
        end = _read_name(text, m.end(), loose=True)
        if end is None or not _ALONE_END.match(text, end):
            continue
        parts = text[m.end() : end].split()
        if not 2 <= len(parts) <= 4 or _a_place(text, m.end(), end):
            continue
        listed = world_given(parts[0]) or surname(parts[-1])
        if listed or all(p[0].isupper() for p in parts):
            yield m.end(), end
