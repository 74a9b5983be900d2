"""The themes as a CSV table, for officers who work in spreadsheets."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from analysis.digest.data import DigestData

COLUMNS = ["theme_id", "label", "answers", "answers_last_week", "change", "services",
           "raised_by", "quote_1", "quote_2", "quote_3"]  # fmt: skip


def render_csv(data: DigestData, *, cell: Callable[[Any], Any]) -> str:
    """One row per theme; who raised it as JSON (dimension -> group -> residents).

    `cell` makes each value safe in a spreadsheet; the caller passes the service's one
    rule (conversations.screening.cleaning.spreadsheet_cell), as analysis imports
    nothing from conversations."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for t in data.themes:
        quotes = [*t.quotes, "", "", ""][:3]
        row = [
            t.theme_id, t.label, t.size,
            "" if t.previous_size is None else t.previous_size, t.change,
            "; ".join(t.domains),
            json.dumps({d: dict(g) for d, g in t.raised_by.items()}, ensure_ascii=False),
            *quotes,
        ]  # fmt: skip
        # Every cell, not only the quotes: a formula in a label runs just the same.
        writer.writerow([cell(value) for value in row])
    return buffer.getvalue()
