"""Plain words: every English text a resident reads is at a reading age of 9 or below.

GOV.UK writes for a reading age of 9 (1 adult in 7 in England reads at or below Entry
Level 3). The measure is the Flesch-Kincaid grade (conversations.locale.readability),
a US school grade; a grade is read by children about five years older, so
reading age = grade + 5, and reading age 9 is grade 4 or below. Texts under 8 words
(buttons, labels, headings) are not measured: the formula means nothing there. The few
texts that cannot meet it are listed in ALLOWED, each with its reason.

Welsh is written to Cymraeg Clir's principles (short sentences, everyday words) and
reviewed by a native speaker (docs/translating.md); no formula here checks it.
"""

from __future__ import annotations

import pytest

from conversations.locale.readability import (
    READING_AGE_OFFSET,
    Counts,
    counts,
    grade,
    syllables,
)
from tests.plain_words import interface_texts, script_texts

MOST_GRADE = 9 - READING_AGE_OFFSET  # reading age 9
FEWEST_WORDS = 8

# Texts that cannot meet it, with why. Keep this short: rewrite first.
ALLOWED = {
    "For example 07911 123456 or name@example.com": (
        "an example of what to type, not a sentence: the number and the address are the point"
    ),
}


def _too_hard(texts: list[tuple[str, str]]) -> list[str]:
    found = []
    for where, text in texts:
        measured = counts(text)
        if measured.words < FEWEST_WORDS or text in ALLOWED:
            continue
        if measured.grade > MOST_GRADE:
            found.append(f"{where}: grade {measured.grade:.1f}: {text!r}")
    return found


def test_every_interface_message_reads_at_age_9_or_below() -> None:
    texts = list(interface_texts())
    assert len([t for _, t in texts if counts(t).words >= FEWEST_WORDS]) > 50
    assert _too_hard(texts) == []


def test_every_text_of_the_example_script_reads_at_age_9_or_below() -> None:
    texts = list(script_texts())
    assert len([t for _, t in texts if counts(t).words >= FEWEST_WORDS]) >= 15
    assert _too_hard(texts) == []


def test_every_allowed_text_is_still_used_and_still_needs_it() -> None:
    every = {text for _, text in [*interface_texts(), *script_texts()]}
    for text in ALLOWED:
        assert text in every, f"no longer used: {text!r}"
        assert grade(text) > MOST_GRADE, f"now plain enough, take it off the list: {text!r}"


def test_a_text_that_is_too_hard_is_found() -> None:
    hard = (
        "Notwithstanding the aforementioned considerations, the consultation's "
        "deliberative methodology necessitates comprehensive participation."
    )
    assert _too_hard([("here", hard)]) and not _too_hard([("here", "The cat sat on the mat.")])


# --- the measure, against published examples ------------------------------------------


def test_the_grade_of_published_examples() -> None:
    # Wikipedia, "Flesch-Kincaid readability tests": all one-syllable words, grade -1.45
    # (reading ease 116).
    assert counts("The cat sat on the mat.") == Counts(words=6, sentences=1, syllables=6)
    assert grade("The cat sat on the mat.") == pytest.approx(-1.45, abs=0.01)
    # The same article's harder sentence is grade 11.3 with its count of 24 syllables;
    # dictionaries give 26 (Aus-tra-li-an, rep-til-i-an), which is grade 13.1.
    platypus = "The Australian platypus is seemingly a hybrid of a mammal and reptilian creature."
    assert counts(platypus).words == 13 and counts(platypus).sentences == 1
    assert 24 <= counts(platypus).syllables <= 26
    assert grade(platypus) == pytest.approx(11.3, abs=2.0)


# Syllables as dictionaries divide the words (Merriam-Webster's syllabification).
DICTIONARY = {
    "the": 1, "cat": 1, "australian": 4, "platypus": 3, "seemingly": 3, "hybrid": 2,
    "mammal": 2, "reptilian": 4, "creature": 2, "every": 3, "area": 3, "idea": 3,
    "ready": 2, "people": 2, "council": 2, "consultation": 4, "information": 4, "you": 1,
    "answers": 2, "question": 2, "please": 1, "button": 2, "below": 2, "delete": 2,
    "about": 2, "listen": 2, "messages": 3, "voice": 1, "finished": 2, "already": 3,
    "telegram": 3, "decision": 3, "themes": 1, "residents": 3, "community": 4,
    "services": 3, "library": 3, "easy": 2, "happy": 2, "money": 2, "family": 3,
    "being": 2, "create": 2, "quiet": 2, "lives": 1, "made": 1, "minutes": 2,
    "reminder": 3, "anonymous": 4, "personal": 3, "details": 2, "removed": 2,
    "stored": 1, "consent": 2, "invitations": 4, "someone": 2, "danger": 2, "officers": 3,
    "priority": 4, "compared": 2, "chosen": 2, "agreed": 2, "abuse": 2, "little": 2,
    "wanted": 2, "asked": 1, "houses": 2, "whole": 1, "uses": 2, "phone": 1, "going": 2,
    "video": 3, "radio": 3, "period": 3, "serious": 3, "experience": 4, "different": 3,
}  # fmt: skip


def test_syllables_agree_with_the_dictionary_for_most_words() -> None:
    wrong = {
        word: syllables(word) for word, count in DICTIONARY.items() if syllables(word) != count
    }
    assert len(wrong) <= len(DICTIONARY) // 10, wrong  # nine in ten exactly
    assert all(abs(syllables(word) - DICTIONARY[word]) == 1 for word in wrong), wrong


def test_what_is_not_prose_counts_as_such() -> None:
    # a placeholder is one short word; a new line (a list item) ends a sentence
    assert counts("Change: {label}") == counts("Change: x")
    assert counts("one two\nthree four").sentences == 2
    assert counts("Send /mydata to see it.").words == 5
