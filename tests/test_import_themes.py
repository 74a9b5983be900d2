"""Imported answers are themed and coded like the chat's: the next theme run codes them
against the codebook officers reviewed."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.imports import check_file, import_file, remove_batch
from bot.actions.theme_runs import analyse_consultation
from conversations.staff import theme_edits, themes
from conversations.storage import store
from conversations.storage.models import Answer, AnswerTheme, CodebookExample
from tests.test_codebook import SUBJECTS


def import_needs(db: Engine, needs: list[str], source: str) -> int:
    content = ("need\n" + "".join(f'"{need}"\n' for need in needs)).encode()
    batch = import_file(db, check_file(db, "example", content, f"{source}.csv", source=source,
                                       mapping={}), actor="staff:1")  # fmt: skip
    assert batch.id is not None
    return batch.id


def primary_themes(db: Engine, batch_id: int) -> dict[str, int]:
    """An imported batch's answers -> their primary theme in the latest run."""
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug="example")
        run = themes.latest_run(session=session, consultation_id=consultation.id or 0)
        assert run is not None
        rows = session.exec(
            select(Answer.value, AnswerTheme.theme_id)
            .join(AnswerTheme, col(AnswerTheme.answer_id) == col(Answer.id))
            .where(
                AnswerTheme.run_id == run.id,
                AnswerTheme.rank == 0,
                Answer.import_batch_id == batch_id,
            )
        ).all()
    return dict(rows)


def test_a_run_after_an_import_codes_the_imported_answers(db: Engine) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    first = import_needs(db, [need for needs in SUBJECTS.values() for need in needs], "forms")
    run = analyse_consultation(db, "example", actor="staff:1", n_themes=6).run
    assert run.answers == 24  # every imported answer was read
    found = primary_themes(db, first)
    assert len(found) == 24
    buses = Counter(found[need] for need in SUBJECTS["buses"]).most_common(1)[0][0]
    with Session(db) as session, session.begin():
        theme_edits.rename(session=session, slug="example", theme_id=buses,
                           label="Buses stop too early", actor="staff:1")  # fmt: skip

    later = ["The last bus goes at 7pm so I cannot get home from my shift by bus",
             "Bus route cut, the bus stop is now a mile away and buses are late"]  # fmt: skip
    second = import_needs(db, later, "survey")
    analyse_consultation(db, "example", actor="staff:1", discover=False)
    assert primary_themes(db, second) == {need: buses for need in later}

    # Removed, a batch's answers leave the themes and the codebook's examples with them.
    remove_batch(db, first, actor="staff:1")
    with Session(db) as session:
        left = set(session.exec(select(Answer.id)).all())
        themed = set(session.exec(select(AnswerTheme.answer_id)).all())
        examples = set(session.exec(select(CodebookExample.answer_id)).all())
    assert len(left) == 2 and themed <= left and examples <= left
