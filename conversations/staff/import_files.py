"""A file of answers gathered elsewhere, read into headings and rows of text.

CSV in any encoding a spreadsheet or survey tool writes (UTF-8 with or without a
byte-order mark, UTF-16 from Excel's "Unicode text", Windows-1252 from older Excel)
with its delimiter sniffed; or an Excel workbook (.xlsx, its first sheet, read-only).
Row numbers are as a spreadsheet shows them: the headings are row 1. Every cell is
cleaned as residents' typed text is (conversations.screening.cleaning).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from conversations.screening.cleaning import clean_text

MAX_ROWS = 100_000
MAX_COLUMNS = 200
_ZIP = b"PK\x03\x04"  # an .xlsx is a zip archive
_OLE = b"\xd0\xcf\x11\xe0"  # the old binary .xls
_DELIMITERS = ",;\t|"


class FileProblem(ValueError):
    """The file cannot be read at all (the message says why, for the person importing)."""


@dataclass(frozen=True)
class Table:
    headings: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]  # (row number, cells), blank rows included
    kind: str  # "CSV (utf-8, ',')" or "Excel workbook"


def read_table(content: bytes, file_name: str) -> Table:
    """The file's headings and rows, whatever it is; a FileProblem if it cannot be read."""
    if not content.strip():
        raise FileProblem(f"{file_name} is empty")
    if content.startswith(_OLE):
        raise FileProblem(
            f"{file_name} is an old Excel file (.xls): save it as .xlsx or CSV and try again"
        )
    if content.startswith(_ZIP):
        return _table(_xlsx_rows(content, file_name), file_name, "Excel workbook")
    text, encoding = _decode(content)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as error:
        raise FileProblem(f"{file_name} is not a readable CSV file: {error}") from None
    shown = "tab" if delimiter == "\t" else f"'{delimiter}'"
    return _table(rows, file_name, f"CSV ({encoding}, {shown})")


def _decode(content: bytes) -> tuple[str, str]:
    """The text, and the encoding it was in: UTF-8 first, as most tools write it."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16"), "utf-16"
    try:
        return content.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return content.decode("latin-1"), "latin-1"


def _delimiter(text: str) -> str:
    """The sniffed delimiter, if the headings' line has it; else the first one it has."""
    lines = text.splitlines()
    first = lines[0] if lines else ""
    try:
        found = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=_DELIMITERS).delimiter
    except csv.Error:  # one column, or nothing to tell by
        found = ","
    if found in first:
        return found
    return next((d for d in _DELIMITERS if d in first), ",")


def _xlsx_rows(content: bytes, file_name: str) -> list[list[Any]]:
    from openpyxl import load_workbook  # only a workbook needs it

    rows: list[list[Any]] = []
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            if not workbook.worksheets:
                raise FileProblem(f"{file_name} has no sheet")
            sheet = workbook.worksheets[0]
            # Tools that write workbooks often declare the wrong size, which read-only
            # mode would trust: read every cell there is instead, from A1.
            sheet.reset_dimensions()
            for row in sheet.iter_rows(min_row=1, min_col=1, values_only=True):
                rows.append(list(row))
                if len(rows) > MAX_ROWS + 1:
                    break
        finally:
            workbook.close()
    except FileProblem:
        raise
    # A damaged or foreign archive fails in many ways (zip, XML, openpyxl's own): all
    # of them mean the same thing to the person importing.
    except Exception as error:
        raise FileProblem(
            f"{file_name} is not a readable Excel workbook ({type(error).__name__}: {error})"
        ) from None
    return rows


def _cell(value: Any) -> str:
    """A cell as text: a whole number without ".0", a date as the calendar writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return clean_text(str(value)).strip()


def _table(rows: list[list[Any]], file_name: str, kind: str) -> Table:
    cells = [[_cell(value) for value in row] for row in rows]
    skipped = 0
    while cells and not any(cells[0]):
        cells.pop(0)  # blank lines above the headings
        skipped += 1
    if not cells:
        raise FileProblem(f"{file_name} has no headings: its first row names the questions")
    headings = cells[0]
    width = max(len(row) for row in cells)
    # A column with no heading and nothing in it is a spreadsheet's leftover: dropped.
    used = [
        i
        for i in range(width)
        if (headings[i] if i < len(headings) else "")
        or any(i < len(row) and row[i] for row in cells[1:])
    ]
    if len(used) > MAX_COLUMNS:
        raise FileProblem(f"{file_name} has {len(used)} columns; at most {MAX_COLUMNS} are read")
    if len(cells) - 1 > MAX_ROWS:
        raise FileProblem(f"{file_name} has more than {MAX_ROWS:,} rows: split it into parts")
    names = []
    for i in used:
        heading = headings[i] if i < len(headings) else ""
        names.append(heading or f"(column {_letters(i)})")
    seen: set[str] = set()
    for name in names:
        key = " ".join(name.casefold().split())
        if key in seen:
            raise FileProblem(f"{file_name} has two columns headed '{name}': rename one")
        seen.add(key)
    body = tuple(
        (number + 2 + skipped, tuple(row[i] if i < len(row) else "" for i in used))
        for number, row in enumerate(cells[1:])
    )
    return Table(tuple(names), body, kind)


def _letters(index: int) -> str:
    """A column's letters as a spreadsheet names it (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
