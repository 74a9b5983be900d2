"""Reading the PO files at start-up, and translating with them.

The PO files are read as they are (Babel's reader), with nothing compiled or generated
to commit, so a fresh checkout runs without a build step. Entries marked fuzzy (written,
not yet checked by a native speaker) are used: a Welsh speaker is better served by a
translation awaiting review than by English. Anything missing reads in English.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib import resources
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from conversations.locale import LANGUAGES, NP_, SOURCE

DOMAIN = "needsfirst"
# Each catalogue names its language in itself: the language menu's buttons, the pages' links.
LANGUAGE_NAME = NP_("this language's name", "English")


def po_path(language: str) -> resources.abc.Traversable:
    """Where `language`'s PO file is, inside this package."""
    return resources.files(__package__) / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """`language`'s catalogue (English, or a language we do not ship: the msgids as they are)."""
    if language == SOURCE or language not in LANGUAGES:
        return gettext.NullTranslations()
    with po_path(language).open("rb") as po:
        catalogue = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=True)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def translate(language: str, message: str, context: str | None = None) -> str:
    """`message` (its English) in `language`, in `context` if it has one."""
    found = translations(language)
    return found.pgettext(context, message) if context else found.gettext(message)


def translate_plural(language: str, forms: tuple[str, str], count: int,
                     context: str | None = None) -> str:  # fmt: skip
    """The form of `forms` (English singular, plural) that `count` takes in `language`."""
    found = translations(language)
    singular, plural = forms
    if context:
        return found.npgettext(context, singular, plural, count)
    return found.ngettext(singular, plural, count)


def language_name(language: str) -> str:
    """What a language is called in itself ("Cymraeg"): the catalogue's own word for it."""
    return translate(language, LANGUAGE_NAME, "this language's name")
