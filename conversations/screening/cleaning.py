"""Residents' text made safe: once where it enters, and again where it leaves for a spreadsheet.

`clean_text` runs on every text a resident sends, before it is stored, logged
or shown: it drops NUL and the other C0 control characters (keeping newline and
tab), DEL, lone surrogates (which no UTF-8 database can store) and the
bidirectional embedding, override and isolate characters, which can make a
quote read backwards on an officer's screen. `spreadsheet_cell` makes any value
safe to open in a spreadsheet, the OWASP way: the same cleaning, and a leading
apostrophe on a text that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls but tab and newline; DEL; C1 controls; lone surrogates; bidi controls.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# A spreadsheet treats a cell starting with any of these as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def clean_text(text: str) -> str:
    """`text` less the characters no resident means to send and nobody should store."""
    text = text.replace("\r\n", "\n")
    return _UNSAFE.sub("", text) if _UNSAFE.search(text) else text


def clean_terminal(text: str) -> str:
    """Text safe to print on an operator's terminal: no escape sequences, no bidi tricks.

    Newlines stay (a report has lines); carriage returns, which could overwrite
    a line already printed, go with the other controls."""
    return _UNSAFE.sub("", text.replace("\r", "")) if _UNSAFE.search(text) or "\r" in text else text


def plain_value(value: Any) -> Any:
    """A value for a JSON export: text less controls and bidi characters, the rest as is."""
    return _UNSAFE.sub("", value) if isinstance(value, str) and _UNSAFE.search(value) else value


def spreadsheet_cell(value: Any) -> Any:
    """A cell value safe in a spreadsheet: controls removed, formulas defused.

    Numbers, booleans and None pass unchanged; text starting with = + - @, tab
    or carriage return gets a leading apostrophe, so that it shows as text."""
    if not isinstance(value, str):
        return value
    # Controls go first, so that "\a=1+1" cannot hide its formula behind a bell.
    text = _UNSAFE.sub("", value) if _UNSAFE.search(value) else value
    return "'" + text if value[:1] in FORMULA_STARTS or text[:1] in FORMULA_STARTS else text
