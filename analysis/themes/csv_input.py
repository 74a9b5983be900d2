"""Read the answers to theme from any CSV file, with errors a facilitator can act on."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from analysis.themes.nonanswers import is_non_answer

_ENCODINGS = ("utf-8-sig", "utf-8")


class AnalysisInputError(ValueError):
    """The input cannot be analysed; the message says why and what to do."""


def _decode(raw: bytes, path: Path) -> str:
    """Decode as UTF-8 (with or without BOM), or say which byte on which line failed."""
    for encoding in _ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        byte = raw[error.start]
        raise AnalysisInputError(
            f"{path}: not valid UTF-8 (byte 0x{byte:02x} at offset {error.start}, line {line}); "
            "save the file as UTF-8 (for example 'CSV UTF-8' in a spreadsheet) and try again"
        ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def read_texts(path: str | Path, text_column: str = "text") -> list[str]:
    """Texts of `text_column`, one per data row, in file order ("" for blank cells).

    Raises AnalysisInputError for a missing file or column, an empty file, a
    file that is not UTF-8, or fewer than two answers that could form themes.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise AnalysisInputError(f"{path}: cannot read the file ({error.strerror})") from None
    content = _decode(raw, path)
    if not content.strip():
        raise AnalysisInputError(f"{path}: the file is empty; expected a header row and answers")
    try:
        reader = csv.DictReader(io.StringIO(content, newline=""))
        columns = reader.fieldnames or []
        if text_column not in columns:
            existing = ", ".join(repr(c) for c in columns) or "none"
            raise AnalysisInputError(
                f"{path}: no column {text_column!r}; the columns are {existing} "
                "(choose one with --text-column)"
            )
        texts = [(row.get(text_column) or "").strip() for row in reader]
    except csv.Error as error:
        raise AnalysisInputError(f"{path}: not a readable CSV file ({error})") from None
    usable = sum(1 for t in texts if not is_non_answer(t))
    if usable < 2:
        raise AnalysisInputError(
            f"{path}: {len(texts)} row(s) with {usable} answer(s) that state a need; "
            "themes need at least 2 non-empty answers"
        )
    return texts
