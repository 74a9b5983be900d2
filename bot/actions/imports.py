"""Importing answers gathered elsewhere, for the command line and the dashboard alike.

A file is read (conversations.staff.import_files), its columns mapped and every row
checked and screened (conversations.staff.imports) before anything is written; then
the whole file goes in one transaction (conversations.staff.import_batches), or none
of it. The preview shows the first rows as they will be stored, with personal
details scrubbed and withheld answers not shown, as every quote shown to staff is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from sqlalchemy import Engine
from sqlmodel import Session

from analysis.personal_details.scrub import scrub
from conversations.flow.script import Script
from conversations.staff import import_batches, imports
from conversations.staff.import_batches import BatchSummary, Removed
from conversations.staff.import_files import FileProblem, read_table
from conversations.staff.rounds import SOURCE_PATTERN
from conversations.storage import store
from conversations.storage.models import ImportBatch, Round
from conversations.storage.scripts import ScriptCache

PREVIEW_ROWS = 5


class ImportFailure(ValueError):
    """The file cannot be imported as asked (the message says why, naming what)."""


@dataclass(frozen=True)
class Checked:
    """A file checked against a consultation's script: what would be imported, and why not."""

    slug: str
    round_number: int
    source: str
    file_name: str
    kind: str  # what the file was read as
    headings: tuple[str, ...]
    plan: imports.Plan
    questions: dict[str, str]  # step id -> its question, for the mapping's choices

    @property
    def ok(self) -> bool:
        return not self.plan.errors and bool(self.plan.rows)


def source_name(text: str) -> str:
    """A source as partner links name it (tenants-association): the same name counts together."""
    source = text.strip().lower()
    if not SOURCE_PATTERN.match(source):
        raise ImportFailure(
            f"the source '{text.strip()[:60]}' is not a name like tenants-association: "
            "1-40 lower-case letters, digits, '-' or '_'"
        )
    return source


def _round(session: Session, consultation_id: int, slug: str, number: int | None) -> Round:
    rounds = store.rounds_of(session=session, consultation_id=consultation_id)
    if number is None:
        found = store.current_round(session=session, consultation_id=consultation_id)
    else:
        found = next((r for r in rounds if r.number == number), None)
    if found is None:
        which = "round yet" if number is None else f"round {number}"
        raise ImportFailure(f"'{slug}' has no {which}: open one first (needsfirst round open)")
    if found.kind != "needs":
        raise ImportFailure(
            f"round {found.number} of '{slug}' is a {found.kind} round: answers are imported "
            "into a needs round"
        )
    return found


def _script_and_round(db: Engine, slug: str, number: int | None) -> tuple[Script, Round]:
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        round_ = _round(session, consultation.id, slug, number)
        return ScriptCache().get(consultation).for_round(round_.kind), round_


def check_file(db: Engine, slug: str, content: bytes, file_name: str, *, source: str,
               mapping: Mapping[str, str], round_number: int | None = None) -> Checked:  # fmt: skip
    """Read, map and check every row of a file; nothing is written."""
    source = source_name(source)
    script, round_ = _script_and_round(db, slug, round_number)
    try:
        table = read_table(content, file_name)
        columns = imports.map_columns(script, table.headings, mapping)
    except (FileProblem, imports.MappingProblem) as error:
        raise ImportFailure(str(error)) from None
    plan = imports.plan(script, table, columns)
    questions = {
        s.id: s.text.get(script.default_language, script.default_language)
        for s in imports.importable_steps(script)
    }
    return Checked(slug, round_.number, source, file_name, table.kind, table.headings, plan,
                   questions)  # fmt: skip


def import_file(db: Engine, checked: Checked, *, actor: str, skip_bad_rows: bool = False,
                claim: Callable[[Session], bool] | None = None) -> ImportBatch:  # fmt: skip
    """Write a checked file as one batch, in one transaction; with errors, nothing
    (unless `skip_bad_rows`: then the good rows, the skipped ones named in the audit).

    `claim`: run first in the same transaction; False (the file was imported by a
    click before this one) and nothing is written."""
    plan = checked.plan
    if plan.errors and not skip_bad_rows:
        raise ImportFailure(f"{len(plan.bad_rows)} row(s) cannot be read: nothing was imported")
    if not plan.rows:
        raise ImportFailure("the file has no answers to import")
    script, round_ = _script_and_round(db, checked.slug, checked.round_number)
    with Session(db) as session, session.begin():
        if claim is not None and not claim(session):
            raise ImportFailure("this file was imported already")
        batch = import_batches.write_batch(
            session=session, script=script, round_=round_, plan=replace(plan, errors=[]),
            source=checked.source, file_name=checked.file_name, actor=actor,
        )  # fmt: skip
        if plan.bad_rows:
            store.audit(session=session, actor=actor, action="import.skip",
                        target=f"import:{batch.id}", detail="rows skipped: "
                        + ", ".join(map(str, plan.bad_rows))[:2000])  # fmt: skip
        session.flush()
        session.expunge(batch)
    return batch


def list_batches(db: Engine, slug: str) -> list[BatchSummary]:
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        found = import_batches.batches(session=session, consultation_id=consultation.id)
        for summary in found:
            session.expunge(summary.batch)
        return found


def remove_batch(db: Engine, batch_id: int, *, actor: str, slug: str | None = None) -> Removed:
    """Take a batch back as one (audited); `slug`: it must be that consultation's."""
    with Session(db) as session, session.begin():
        batch = import_batches.require_batch(session=session, batch_id=batch_id)
        if slug is not None:
            consultation = store.require_consultation(session=session, slug=slug)
            if batch.consultation_id != consultation.id:
                raise store.StoreError(f"there is no import batch #{batch_id} in '{slug}'")
        return import_batches.remove_batch(session=session, batch_id=batch_id, actor=actor)


# --- the preview ------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    number: int
    cells: tuple[tuple[str, str], ...]  # (question, as shown to staff)


def preview_rows(checked: Checked, limit: int = PREVIEW_ROWS) -> list[PreviewRow]:
    """The first rows as they will be stored: text scrubbed, withheld answers not shown."""
    shown = []
    for row in checked.plan.rows[:limit]:
        cells = []
        for answer in row.answers:
            if answer.withheld:
                text = f"(withheld: {answer.withheld})"
            elif answer.kind == "text":
                text = scrub(" ".join(answer.display.split()))
            else:
                text = answer.display
            cells.append((answer.step_id, text))
        shown.append(PreviewRow(row.number, tuple(cells)))
    return shown


def summary_lines(checked: Checked) -> list[str]:
    """The preview as lines of text: mapping, counts, first rows, every error."""
    plan = checked.plan
    lines = [f"{checked.file_name}: {checked.kind}, into '{checked.slug}' round "
             f"{checked.round_number} as source '{checked.source}'"]  # fmt: skip
    for column in plan.columns:
        lines.append(f"  column '{column.heading}' -> {column.step_id or '(left out)'}")
    lines.append(
        f"{len(plan.rows)} row(s) to import, {plan.answers} answer(s), {plan.flags} "
        f"safeguarding flag(s); {plan.blank} blank row(s) passed over; "
        f"{len(plan.bad_rows)} row(s) with errors"
    )
    for step_id, counts in plan.counts().items():
        counted = ", ".join(f"{key} {n}" for key, n in sorted(counts.items()))
        lines.append(f"  {step_id}: {counted or 'none'}")
    for row in preview_rows(checked):
        lines.append(f"  row {row.number}: " + "; ".join(f"{q}: {t}" for q, t in row.cells))
    lines += [f"error: {error}" for error in plan.errors]
    return lines
