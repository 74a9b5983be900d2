"""The dashboard's import in steps: a file uploaded and kept, its preview with a mapping
to change, then the import (bot.actions.imports does the checking and writing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.imports import Checked, ImportFailure, check_file, import_file, source_name
from conversations.screening.cleaning import clean_text
from conversations.staff import import_uploads
from conversations.staff.import_files import FileProblem, read_table
from conversations.staff.imports import MappingProblem, guesses, importable_steps
from conversations.storage import store
from conversations.storage.models import ImportBatch
from conversations.storage.scripts import ScriptCache

LEAVE_OUT = "-"


@dataclass(frozen=True)
class UploadView:
    """An uploaded file's preview: each column's question (chosen or guessed), the
    questions to choose from, and the check (or why it cannot be checked)."""

    upload_id: int
    file_name: str
    source: str
    headings: tuple[str, ...]
    chosen: dict[str, str]  # heading -> step id, LEAVE_OUT, or "" (none fits)
    questions: dict[str, str]  # step id -> its question
    checked: Checked | None
    problem: str


def upload(db: Engine, slug: str, *, file_name: str, content: bytes, source: str,
           actor: str) -> int:  # fmt: skip
    """Keep an uploaded file for its preview; its id. The source is checked first."""
    source = source_name(source)
    # As the browser named it: its last part, without controls, never a path.
    file_name = clean_text(PurePosixPath(file_name.replace("\\", "/")).name).strip() or "upload"
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        kept = import_uploads.save_upload(session=session, consultation_id=consultation.id,
                                          file_name=file_name, content=content, source=source,
                                          actor=actor)  # fmt: skip
        assert kept.id is not None
        return kept.id


def view(db: Engine, slug: str, upload_id: int) -> UploadView:
    """The file checked with the mapping chosen so far (or guessed from its headings)."""
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        kept = import_uploads.require_upload(session=session, consultation_id=consultation.id,
                                             upload_id=upload_id)  # fmt: skip
        script = ScriptCache().get(consultation)
        file_name, source, content = kept.file_name, kept.source, kept.content
        mapping = import_uploads.mapping_of(kept)
    questions = {
        s.id: s.text.get(script.default_language, script.default_language)
        for s in importable_steps(script)
    }
    try:
        headings = read_table(content, file_name).headings
    except FileProblem as error:
        return UploadView(upload_id, file_name, source, (), {}, questions, None, str(error))
    guessed = guesses(script, headings)
    chosen = {h: mapping.get(h, guessed[h] or "") for h in headings}
    asked = {h: ("" if v == LEAVE_OUT else v) for h, v in chosen.items() if v}
    try:
        checked = check_file(db, slug, content, file_name, source=source, mapping=asked)
    except (ImportFailure, MappingProblem) as error:
        return UploadView(upload_id, file_name, source, headings, chosen, questions, None,
                          str(error))  # fmt: skip
    return UploadView(upload_id, file_name, source, headings, chosen, questions, checked, "")


def choose(db: Engine, slug: str, upload_id: int, *, source: str,
           mapping: dict[str, str]) -> None:  # fmt: skip
    """Keep the source and the columns' questions as chosen on the preview."""
    source = source_name(source)
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        kept = import_uploads.require_upload(session=session, consultation_id=consultation.id,
                                             upload_id=upload_id)  # fmt: skip
        import_uploads.choose(session=session, upload=kept, source=source, mapping=mapping)


def confirm(db: Engine, slug: str, upload_id: int, *, actor: str) -> ImportBatch:
    """Import the kept file as previewed (checked again: nothing if any row is bad)."""
    shown = view(db, slug, upload_id)
    if shown.checked is None:
        raise ImportFailure(shown.problem)
    # The file goes in the import's transaction: a second click imports nothing.
    return import_file(db, shown.checked, actor=actor, claim=lambda session:
                       import_uploads.drop_upload(session=session, upload_id=upload_id))  # fmt: skip


def drop(db: Engine, slug: str, upload_id: int) -> None:
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        import_uploads.require_upload(session=session, consultation_id=consultation.id,
                                      upload_id=upload_id)  # fmt: skip
        import_uploads.drop_upload(session=session, upload_id=upload_id)
