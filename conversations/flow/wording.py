"""The one wording lookup: a text by key, in a language, as a channel words it.

The engine's phrases (:mod:`conversations.flow.phrases`) and the resident service's texts
(``conversations.residents.texts``) are both tables of language -> key -> text, with a
channel's own wording of a few keys beside them (the web chat has buttons where Telegram
has /commands). Both are read the same way, here.
"""

from __future__ import annotations

from collections.abc import Mapping

Wording = Mapping[str, Mapping[str, str]]  # language -> key -> text


def worded(key: str, language: str, channel: str | None, texts: Wording,
           by_channel: Mapping[str, Wording]) -> str:  # fmt: skip
    """`key` in `language`, in `channel`'s own wording if it has one; a language without the
    key falls back to English (the channel's English wording first)."""
    variants = by_channel.get(channel or "", {})
    return (
        variants.get(language, {}).get(key)
        or texts.get(language, texts["en"]).get(key)
        or variants.get("en", {}).get(key)
        or texts["en"][key]
    )
