"""Button data: how a pressed button says what it means, in 64 bytes or fewer.

Channels hand button data back to us untouched, but anyone can forge it, so it
is parsed strictly here and checked against the conversation again by the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conversations.flow.inputs import ChoiceInput

MAX_BYTES = 64  # Telegram's limit on callback_data

_ANSWER = re.compile(r"^a:([a-z0-9_][a-z0-9_-]{0,23}):(\d{1,3}):([a-z0-9_][a-z0-9_-]{0,23})$")
_JOIN = re.compile(r"^j:([a-z0-9][a-z0-9-]{1,39})$")
_FORGET = re.compile(r"^f:(yes|no)$")
_LANGUAGE = re.compile(r"^l:([a-z]{2,3})$")


@dataclass(frozen=True)
class JoinPress:
    slug: str


@dataclass(frozen=True)
class ForgetPress:
    confirmed: bool


@dataclass(frozen=True)
class LanguagePress:
    language: str


# An answer button's press is the engine's own input; the others are the service's.
Press = ChoiceInput | JoinPress | ForgetPress | LanguagePress


def answer_data(step_id: str, iteration: int, option_id: str) -> str:
    return _checked(f"a:{step_id}:{iteration}:{option_id}")


def join_data(slug: str) -> str:
    return _checked(f"j:{slug}")


def forget_data(confirmed: bool) -> str:
    return _checked(f"f:{'yes' if confirmed else 'no'}")


def language_data(language: str) -> str:
    return _checked(f"l:{language}")


def parse(data: object) -> Press | None:
    """The press that `data` describes, or None if it is not ours."""
    if not isinstance(data, str) or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    if match := _ANSWER.match(data):
        return ChoiceInput(match[1], int(match[2]), match[3])
    if match := _JOIN.match(data):
        return JoinPress(match[1])
    if match := _FORGET.match(data):
        return ForgetPress(match[1] == "yes")
    if match := _LANGUAGE.match(data):
        return LanguagePress(match[1])
    return None


def _checked(data: str) -> str:
    if len(data.encode("utf-8")) > MAX_BYTES:  # script ids are validated short; be sure
        raise ValueError(f"button data over {MAX_BYTES} bytes: {data!r}")
    return data
