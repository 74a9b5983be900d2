"""Exports of a consultation's answers: every stored answer with pseudonymous ids only.

An answer withheld from officers (a safeguarding disclosure, abuse) keeps its row,
so that counts add up, but its text is replaced by WITHHELD and the `withheld`
column says why; the safeguarding page is where leads read it."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from itertools import chain
from typing import IO, Any

from sqlmodel import Session

from conversations.flow.script import Script
from conversations.screening.cleaning import plain_value, spreadsheet_cell
from conversations.staff.coded_answers import coded_answers
from conversations.storage import priority_votes, store
from conversations.storage.models import Consultation

COLUMNS = [
    "resident", "round", "question", "iteration", "answer", "answer_label",
    "skipped", "confirmed", "answered_at", "source", "withheld", "themes", "theme_names",
]  # fmt: skip
WITHHELD = "[withheld]"


def export_columns(script: Script) -> list[str]:
    return COLUMNS + [f"profile_{d}" for d in script.profile_dimensions()]


def export_records(*, session: Session, consultation: Consultation, script: Script,
                   scrub: Callable[[str], str] | None = None) -> Iterator[dict[str, Any]]:  # fmt: skip
    """One record per stored answer, with the resident's profile answers beside it.

    Answers are as given, unless `scrub` is passed to remove personal details, or
    withheld (their text is never exported)."""
    assert consultation.id is not None
    dimensions = list(script.profile_dimensions())
    profiles = store.profiles(session=session, consultation_id=consultation.id)
    votes = priority_votes.export_rows(session=session, consultation_id=consultation.id)
    coded, names = coded_answers(session=session, consultation_id=consultation.id)
    for row in chain(store.export_rows(session=session, consultation_id=consultation.id), votes):
        answer = row.answer
        if row.withheld:
            answer = WITHHELD
        elif scrub is not None and answer:
            answer = scrub(answer)
        record: dict[str, Any] = {
            "resident": row.resident,
            "round": row.round,
            "question": row.question,
            "iteration": row.iteration,
            "answer": answer,
            "answer_label": row.answer_label,
            "skipped": row.skipped,
            "confirmed": row.confirmed,
            "answered_at": row.answered_at.isoformat(),
            "source": row.source or "",
            "withheld": row.withheld or "",
        }
        given = coded.get(row.answer_id, []) if row.answer_id is not None else []
        record["themes"] = ";".join(str(t) for t in given)
        record["theme_names"] = "; ".join(names.get(t, "") for t in given)
        for dimension in dimensions:
            record[f"profile_{dimension}"] = profiles.get(row.resident, {}).get(dimension, "")
        yield record


def write_export(handle: IO[str], fmt: str, columns: list[str],
                 records: Iterator[dict[str, Any]]) -> None:  # fmt: skip
    """CSV with a header, or a JSON array written as it streams.

    Every CSV cell goes through `spreadsheet_cell` (no formula runs when it is
    opened) and every JSON value through `plain_value`: no control or bidi
    character reaches a spreadsheet, a file or the terminal it is printed on."""
    if fmt == "csv":
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for record in records:
            writer.writerow({name: spreadsheet_cell(value) for name, value in record.items()})
        return
    handle.write("[")
    for number, record in enumerate(records):
        handle.write(",\n" if number else "\n")
        cleaned = {name: plain_value(value) for name, value in record.items()}
        handle.write(json.dumps(cleaned, ensure_ascii=False))
    handle.write("\n]\n")
