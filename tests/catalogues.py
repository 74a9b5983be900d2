"""The catalogues as the tests read them: the template (every English message) and each
language's PO file, through Babel's reader, as the service reads them."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from conversations.locale.catalogues import DOMAIN, translate

LOCALE = Path(__file__).resolve().parent.parent / "conversations" / "locale"


def template() -> Catalog:
    with (LOCALE / f"{DOMAIN}.pot").open("rb") as pot:
        return read_po(pot)


def catalogue(language: str) -> Catalog:
    with (LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        return read_po(po, locale=language)


def messages(catalog: Catalog) -> list[Message]:
    """The catalogue's messages, without its header."""
    return [message for message in catalog if message.id]


def every_message(language: str) -> set[str]:
    """Everything the interface says in `language` (singular messages)."""
    return {
        translate(language, message.id, message.context)
        for message in messages(template())
        if isinstance(message.id, str)
    }
