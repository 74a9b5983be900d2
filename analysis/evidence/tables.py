"""An evidence pack's figures as tables: one per section, written as a CSV file (in
long form: one figure a row) or an XLSX workbook (one sheet per section).

Cells go through the caller's `cell` rule (conversations.screening.cleaning's
spreadsheet_cell in practice), so that a theme's name or a quote starting with
"=" is shown as text, never run as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.evidence.data import EvidencePack, ThemeEvidence

Cell = Callable[[Any], Any]


@dataclass(frozen=True)
class Table:
    name: str  # the sheet's name (at most 31 characters)
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    keys: int = 2  # the leading columns that say what a row is about


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _themes(pack: EvidencePack) -> Table:
    return Table(
        "Themes",
        (
            "theme_id",
            "theme",
            "answers",
            "residents",
            "share_of_answers",
            "share_of_residents",
            "lately",
            "services",
            "summary",
        ),
        tuple(
            (
                t.theme_id,
                t.label,
                t.size.answers,
                t.size.residents,
                _share(t.size.share_of_answers),
                _share(t.size.share_of_residents),
                t.size.direction,
                "; ".join(t.services),
                t.summary,
            )
            for t in pack.themes
        ),
    )


def _who(themes: Sequence[ThemeEvidence]) -> Table:
    return Table(
        "Who",
        (
            "theme_id",
            "theme",
            "dimension",
            "group",
            "residents",
            "share",
            "share_of_all_heard",
            "share_of_population",
            "under_heard",
            "too_few_to_say",
        ),
        tuple(
            (
                t.theme_id,
                t.label,
                d.name,
                g.label,
                g.residents,
                _share(g.share),
                _share(g.heard_share),
                _share(g.population_share),
                g.under_heard,
                g.few,
            )
            for t in themes
            for d in t.who
            for g in d.groups
        ),
        keys=4,
    )


def _priorities(themes: Sequence[ThemeEvidence]) -> Table:
    rows = []
    for t in themes:
        p = t.priority
        if p is None:
            continue
        rows.append(
            (
                t.theme_id,
                t.label,
                p.round_number,
                p.participants,
                p.rank,
                p.ranked,
                _share(p.win_share),
                round(p.score, 4),
                round(p.low, 4),
                round(p.high, 4),
                p.comparisons,
                _share(p.agreement),
                p.statement_votes,
                _share(p.consensus),
                p.common_ground,
                "; ".join(p.divided_by),
                "; ".join(p.close_to),
                p.verdict,
            )
        )
    return Table(
        "Priorities",
        (
            "theme_id",
            "theme",
            "round",
            "residents_voting",
            "rank",
            "themes_ranked",
            "preferred",
            "score",
            "interval_low",
            "interval_high",
            "comparisons",
            "agreement",
            "statement_votes",
            "consensus",
            "common_ground",
            "divided_by",
            "too_close_to_call_with",
            "verdict",
        ),
        tuple(rows),
    )


def tables(pack: EvidencePack) -> list[Table]:
    """Every section's figures, in the pack's order."""
    found = [
        Table(
            "About",
            ("item", "value"),
            (
                ("consultation", pack.slug),
                ("title", pack.title),
                ("pack", "whole consultation" if pack.whole else f"theme {pack.theme_id}"),
                ("made", pack.made_at.isoformat(timespec="minutes")),
                (
                    "analysed",
                    pack.analysed_at.isoformat(timespec="minutes") if pack.analysed_at else "",
                ),
                ("opened", pack.opened_at.isoformat(timespec="minutes") if pack.opened_at else ""),
                ("residents_heard", pack.residents),
                ("answers_read_for_themes", pack.answers),
                ("answers_not_yet_themed", pack.unthemed),
                ("answers_only_in_proposed_themes", pack.proposed),
                ("answers_since_the_analysis", pack.since_analysis),
            ),
            keys=1,
        ),
        _themes(pack),
        Table(
            "Quotes",
            ("theme_id", "theme", "number", "quote", "typical", "said_by"),
            tuple(
                (t.theme_id, t.label, n, q.text, q.typical, "; ".join(q.said_by))
                for t in pack.themes
                for n, q in enumerate(t.quotes, start=1)
            ),
            keys=3,
        ),
        _who(pack.themes),
        Table(
            "Weekly",
            ("theme_id", "theme", "week_starting", "answers", "residents"),
            tuple(
                (t.theme_id, t.label, w.start.isoformat(), w.answers, w.residents)
                for t in pack.themes
                for w in t.size.weeks
            ),
            keys=3,
        ),
        Table(
            "Alongside",
            (
                "theme_id",
                "theme",
                "other_theme_id",
                "other_theme",
                "residents_raising_both",
                "share_of_residents",
            ),
            tuple(
                (t.theme_id, t.label, a.theme_id, a.label, a.residents, _share(a.share))
                for t in pack.themes
                for a in t.alongside
            ),
            keys=4,
        ),
        _priorities(pack.themes),
        Table(
            "Decisions",
            ("theme_id", "theme", "decided", "status", "note", "residents_told", "decision"),
            tuple(
                (
                    t.theme_id,
                    t.label,
                    d.decided_at.isoformat(timespec="minutes"),
                    d.status,
                    d.status_note,
                    d.residents_told,
                    d.text,
                )
                for t in pack.themes
                for d in t.decisions
            ),
            keys=3,
        ),
        Table(
            "Heard",
            (
                "dimension",
                "group",
                "residents",
                "share",
                "share_of_population",
                "under_heard",
                "too_few_to_say",
            ),
            tuple(
                (
                    g.dimension,
                    g.label,
                    g.residents,
                    _share(g.share),
                    _share(g.population_share),
                    g.under_heard,
                    g.few,
                )
                for g in pack.heard
            ),
        ),
    ]
    if pack.whole:
        found.append(
            Table(
                "Services",
                ("theme_id", "theme", *pack.services),
                tuple(
                    (t.theme_id, t.label, *(s in t.services for s in pack.services))
                    for t in pack.themes
                ),
            )
        )
    found.append(
        Table(
            "Limits",
            ("theme_id", "theme", "limit"),
            tuple((t.theme_id, t.label, line) for t in pack.themes for line in t.limits)
            + tuple(("", "whole consultation", line) for line in pack.limits),
            keys=3,
        )
    )
    return found


def render_csv(pack: EvidencePack, *, cell: Cell) -> str:
    """Every figure, one a row: section, what it is about, the measure, its value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "about", "measure", "value"])
    for table in tables(pack):
        for row in table.rows:
            about = " / ".join(str(v) for v in row[: table.keys] if v != "")
            measures = table.columns[table.keys :] or table.columns[-1:]
            values = row[table.keys :] or row[-1:]
            for measure, value in zip(measures, values, strict=True):
                writer.writerow([cell(table.name), cell(about), cell(measure), cell(value)])
    return buffer.getvalue()


def render_xlsx(pack: EvidencePack, *, cell: Cell) -> bytes:
    """A workbook with one sheet per section, a header row, and the header frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in tables(pack):
        sheet = book.create_sheet(table.name[:31])
        sheet.append(list(table.columns))
        for header in sheet[1]:
            header.font = Font(bold=True)
        for row in table.rows:
            sheet.append([cell(v) for v in row])
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
