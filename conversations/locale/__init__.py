"""The interface's words in every language we ship, as gettext catalogues.

English is the source language: the English text is the message id, written where the
code or a template uses it, and `make messages` gathers it into ``needsfirst.pot``. Each
other language is a PO file, ``<code>/LC_MESSAGES/needsfirst.po``, that a translator edits
(docs/translating.md). Adding a language is adding its PO file and its code to
`LANGUAGES`. A script's own texts stay in the script (docs/script-reference.md).
"""

from __future__ import annotations

# Every language the interface speaks; the first is the source language (the msgids).
LANGUAGES: tuple[str, ...] = ("en", "cy", "pl", "ur")
SOURCE = LANGUAGES[0]

# Channels whose wording of a message may differ: each is a gettext context (msgctxt).
CHANNELS = ("telegram", "whatsapp", "web")


def N_(message: str) -> str:
    """Mark `message` for the catalogues where it is defined; translate it where it is used."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark `message`, in `context` (a channel, or what the words are), for the catalogues."""
    return message


def NN_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a message that has plural forms; `{count}` says how many."""
    return singular, plural


def language_of(tag: str | None) -> str | None:
    """The shipped language a language tag names ("cy-GB" -> "cy"), or None."""
    primary = (tag or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None
