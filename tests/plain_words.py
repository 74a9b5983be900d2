"""Every English text a resident reads: the catalogues' messages (every channel's wording,
every plural form) and the example script's texts (every channel's wording)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from conversations.flow.script import Text
from conversations.flow.script_toml import load_script
from tests.catalogues import messages, template

EXAMPLE = "conversations/flow/scripts/example.toml"


def interface_texts() -> Iterator[tuple[str, str]]:
    """(where, English) for every message in the catalogues."""
    for message in messages(template()):
        where = f"catalogue[{message.context}]" if message.context else "catalogue"
        forms = [message.id] if isinstance(message.id, str) else list(message.id)
        for form in forms:
            yield where, form


def script_texts(path: str = EXAMPLE) -> Iterator[tuple[str, str]]:
    """(where, English) for every text of a script, in every channel's wording."""
    for where, text in _texts(load_script(path), "script"):
        if "en" in text.by_language:
            yield where, text.by_language["en"]
        for channel, by_language in text.by_channel.items():
            if "en" in by_language:
                yield f"{where}[{channel}]", by_language["en"]


def _texts(value: Any, where: str) -> Iterator[tuple[str, Text]]:
    if isinstance(value, Text):
        yield where, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = getattr(value, "id", None)
        for field in dataclasses.fields(value):
            inner = f"{where}.{name or ''}.{field.name}" if name else f"{where}.{field.name}"
            yield from _texts(getattr(value, field.name), inner)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _texts(item, where)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _texts(item, f"{where}.{key}")
