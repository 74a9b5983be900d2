"""The one wording lookup: a text by key, in a language, as a channel words it.

The engine's phrases (:mod:`conversations.flow.phrases`) and the resident service's texts
(``conversations.residents.texts``) are both tables of key -> English text (the message id
in the catalogues, conversations/locale), with a channel's own wording of a few keys
beside them (the web chat has buttons where Telegram has /commands): that wording is the
channel's context (msgctxt) in the catalogues. Both are read the same way, here.
"""

from __future__ import annotations

from collections.abc import Mapping

from conversations.locale.catalogues import translate, translate_plural

Plural = tuple[str, str]  # English singular and plural; {count} says how many
Wording = Mapping[str, str | Plural]  # key -> English


def worded(key: str, language: str, channel: str | None, texts: Wording,
           by_channel: Mapping[str, Wording], count: int | None = None) -> str:  # fmt: skip
    """`key` in `language`, in `channel`'s own wording if it has one; what a language's
    catalogue lacks reads in English. `count` chooses a plural form."""
    variant = by_channel.get(channel or "", {}).get(key)
    context = channel if variant is not None else None
    english = variant if variant is not None else texts[key]
    if isinstance(english, tuple):
        return translate_plural(language, english, 1 if count is None else count, context)
    return translate(language, english, context)
