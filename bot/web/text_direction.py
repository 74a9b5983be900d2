"""Which way a language is written: the one place that knows, for every page's `dir`.

Pages set `<html lang=.. dir=..>` from this, and the stylesheet uses logical
properties (margin-inline-start, text-align: start...), so a language written right
to left mirrors the whole layout by adding its code here, nothing else.
"""

from __future__ import annotations

from typing import Literal

Direction = Literal["ltr", "rtl"]

# ISO 639 codes of languages written right to left (in their usual script): Arabic,
# Central Kurdish (Sorani), Dhivehi, Persian, Hebrew, Pashto, Sindhi, Uyghur, Urdu, Yiddish.
RIGHT_TO_LEFT = frozenset({"ar", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"})


def direction(language: str) -> Direction:
    """Right to left ("rtl") or left to right ("ltr"); a region or script subtag is
    ignored ("ur-PK" is "ur")."""
    primary = language.replace("_", "-").split("-", 1)[0].lower()
    return "rtl" if primary in RIGHT_TO_LEFT else "ltr"
