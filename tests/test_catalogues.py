"""The catalogues (conversations/locale): every message in every language we ship, with
the same placeholders, every plural form, channel contexts, and review kept honest.

A language is checked as soon as it is in conversations.locale.LANGUAGES; adding its PO
file without listing it (or the reverse) fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from conversations.flow.phrases import CHANNEL_PHRASES, PHRASES
from conversations.locale import CHANNELS, LANGUAGES, SOURCE, language_of
from conversations.locale.catalogues import language_name, translate, translate_plural
from conversations.residents.texts import CHANNEL_TEXTS, TEXTS
from tests.catalogues import LOCALE, catalogue, messages, template

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [language for language in LANGUAGES if language != SOURCE]
# {label}, %(name)s, and bare %s / %d
PLACEHOLDER = re.compile(r"\{\w*\}|%\(\w+\)[sd]|%[sd]")
# Contexts that say what the words are, where one English word has two senses.
SENSES = {"consent given", "decision status", "this language's name"}


def key(message: Message) -> tuple[str | None, str]:
    return message.context, message.id if isinstance(message.id, str) else message.id[0]


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_every_shipped_language_has_a_catalogue_and_every_catalogue_is_listed() -> None:
    shipped = {path.parent.parent.name for path in LOCALE.glob("*/LC_MESSAGES/needsfirst.po")}
    assert shipped == set(TRANSLATED)


def test_the_template_holds_every_message_the_code_and_pages_use(tmp_path: Path) -> None:
    """`make messages` has been run since the English last changed."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    keywords = re.search(r"^BABEL_KEYWORDS := (.+)$", makefile, re.MULTILINE)
    assert keywords is not None
    fresh = tmp_path / "fresh.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "--no-default-keywords",
         *keywords[1].split(), "-o", str(fresh), "."],
        cwd=ROOT, check=True,
    )  # fmt: skip
    with fresh.open("rb") as pot:
        extracted = {key(m) for m in messages(read_po(pot))}
    committed = {key(m) for m in messages(template())}
    assert extracted - committed == set(), "new English: run `make messages`"
    assert committed - extracted == set(), "English no longer used: run `make messages`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str) -> None:
    translated = catalogue(language)
    wanted = {key(m) for m in messages(template())}
    have = {key(m): m for m in messages(translated)}
    assert wanted - set(have) == set(), f"{language}: run `make messages`, then translate"
    assert set(have) - wanted == set(), f"{language}: obsolete entries (run `make messages`)"
    untranslated = [k for k, m in have.items() if not all(_forms(m))]
    assert untranslated == [], f"{language}: not translated yet"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_are_the_same_in_every_translation(language: str) -> None:
    for message in messages(catalogue(language)):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        expected = placeholders(ids[-1])
        assert all(placeholders(i) == expected for i in ids), f"English forms differ: {ids}"
        for form in _forms(message):
            assert placeholders(form) == expected, f"{language}: {message.id!r} -> {form!r}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_plural_forms_are_complete_and_the_languages_own(language: str) -> None:
    translated = catalogue(language)
    # The rule is CLDR's for the language (as `pybabel init` writes it), not a guess.
    assert translated.plural_forms == Catalog(locale=language).plural_forms
    plurals = [m for m in messages(translated) if m.pluralizable]
    assert plurals, "the interface has counted messages"
    for message in plurals:
        assert len(_forms(message)) == translated.num_plurals, message.id


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_language_marked_reviewed_has_nothing_awaiting_review(language: str) -> None:
    """Review is the fuzzy flag: an entry a native speaker has not checked is fuzzy, and
    so is the header until every entry has been checked (docs/translating.md)."""
    translated = catalogue(language)
    awaiting = [m.id for m in messages(translated) if m.fuzzy]
    if not translated.fuzzy:
        assert awaiting == [], f"{language} is marked reviewed, but these await review"


def test_every_channel_wording_is_in_the_catalogues_under_its_channel() -> None:
    contexts = {m.context for m in messages(template())} - {None}
    assert contexts <= set(CHANNELS) | SENSES, contexts - set(CHANNELS) - SENSES
    english = {key(m) for m in messages(template())}
    for table in (CHANNEL_TEXTS, CHANNEL_PHRASES):
        assert set(table) <= set(CHANNELS)
        for channel, variants in table.items():
            for said in variants.values():
                first = said if isinstance(said, str) else said[0]
                assert (channel, first) in english, f"{channel}: {first!r}"
    for said in (*TEXTS.values(), *PHRASES.values()):
        first = said if isinstance(said, str) else said[0]
        assert (None, first) in english, first
    assert {"web", "whatsapp", "telegram"} <= contexts


def test_the_service_reads_the_catalogues_as_translators_leave_them() -> None:
    assert translate("cy", "Skip") == "Hepgor"
    assert translate("cy", "Yes") == "Ie" and translate("cy", "Yes", "consent given") == "Do"
    # a fuzzy entry (awaiting review) is still better than English for a Welsh speaker
    assert translate("cy", "Choose your language", "telegram") == "Dewis eich iaith"
    # plural forms follow the language's rule
    forms = ("%(num)d answer", "%(num)d answers")
    assert translate_plural("cy", forms, 1) == "%(num)d ateb"
    assert translate_plural("cy", forms, 2) == "%(num)d o atebion"
    assert translate_plural("en", forms, 1) == "%(num)d answer"
    # what a catalogue lacks, or a language we do not ship, reads in English
    assert translate("cy", "Not a message we have") == "Not a message we have"
    assert translate("fr", "Skip") == "Skip"
    assert [language_name(code) for code in ("en", "cy")] == ["English", "Cymraeg"]
    assert language_of("cy-GB") == "cy" and language_of("fr-FR") is None


def _forms(message: Message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)
