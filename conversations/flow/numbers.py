"""Whole numbers typed by people: ids in URLs, forms, commands and buttons.

Python's int() and str.isdigit() accept more than anyone types on purpose: "²" passes
isdigit() and then fails int(); "٣" (Arabic-Indic three) becomes 3; and a 23-digit id
overflows every database integer. Everything that turns typed text into a number
goes through here, so each caller only says what a bad number means (404, 400, usage).
"""

from __future__ import annotations

import re

# Ids are stored in 32-bit integer columns on PostgreSQL (SQLite allows 64).
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,18}", re.ASCII)


def whole_number(text: object, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """The number `text` spells in ASCII digits, within [minimum, maximum]; else None."""
    if not isinstance(text, str):
        return None
    stripped = text.strip()
    if not _DIGITS.fullmatch(stripped):
        return None
    value = int(stripped)
    return value if minimum <= value <= maximum else None


def record_id(text: object) -> int | None:
    """A database id (1 or more, within a 32-bit column); None for anything else."""
    return whole_number(text, minimum=1)
