"""Rules that guard residents and staff which a mutation check found unguarded (issue 17).

Each test here catches one hand-written mutant in bench/mutants.py (tests/test_mutants.py
runs them all): change the line it names and the test fails.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from analysis.personal_details.scrub import scrub
from conversations.residents.service import ConversationService
from conversations.staff import theme_edits
from conversations.storage import retention, store
from conversations.storage.models import (
    AnalysisRun,
    Answer,
    AnswerTheme,
    ChannelIdentity,
    Round,
    utcnow,
)
from tests.example_consultation import Resident_, change_consent
from tests.example_consultation import complete_example as complete_over_telegram
from tests.prioritise_helpers import seed_run
from tests.web_helpers import OFFICER, WebResident, sign_in, web_client, web_config
from tests.web_helpers import complete_example as complete_on_the_web


@pytest.mark.parametrize(
    "text",
    [
        "ring me on 0800 123456 please",  # freephone, 10 digits
        "call 016977 2345 any time",  # Brampton's area code, 10 digits
        "my number is 01632 96047",  # 10 digits
    ],
)
def test_ten_digit_phone_numbers_are_scrubbed(text: str) -> None:
    """Mutant: analysis/personal_details/scrub.py asks for 11 digits (the labelled set had no 10-digit number)."""
    scrubbed = scrub(text)
    assert "[phone]" in scrubbed
    assert not any(char.isdigit() for char in scrubbed)


def test_a_merge_leaves_each_answer_in_the_theme_once(
    service: ConversationService, db: Engine
) -> None:
    """Mutant: the merge no longer drops the duplicate rows of answers in both themes."""
    for uid in ("g1", "g2"):
        complete_over_telegram(Resident_(service, uid))
    seed_run(db, ["Buses stop early", "Late buses", "Damp homes"])
    with Session(db) as session, session.begin():
        run_id = session.exec(select(AnalysisRun.id)).one()
        first, second = session.exec(
            select(Answer.id).where(Answer.step_id == "need").order_by(Answer.id)  # type: ignore[arg-type]
        ).all()
        assert run_id is not None and first is not None and second is not None
        session.add_all(
            [
                AnswerTheme(run_id=run_id, answer_id=first, rank=0, theme_id=1),
                AnswerTheme(run_id=run_id, answer_id=first, rank=1, theme_id=2),  # in both
                AnswerTheme(run_id=run_id, answer_id=second, rank=0, theme_id=2),
            ]
        )
    with Session(db) as session, session.begin():
        theme_edits.merge(session=session, slug="example", theme_id=2, into_id=1, actor="staff:9")
    with Session(db) as session:
        rows = session.exec(select(AnswerTheme).where(AnswerTheme.run_id == run_id)).all()
    placed = sorted((row.answer_id, row.theme_id) for row in rows)
    assert placed == [(first, 1), (second, 1)]  # each answer once, in the theme left


def test_retention_keeps_residents_whose_round_is_still_open(
    service: ConversationService, db: Engine
) -> None:
    """Mutant: retention treats a round with no closing time as long closed."""
    complete_over_telegram(Resident_(service, "r1"))
    with Session(db) as session, session.begin():
        dropped = retention.drop_identities(
            session=session, closed_before=utcnow() + timedelta(days=1)
        )
    assert dropped == 0
    with Session(db) as session:
        assert len(session.exec(select(ChannelIdentity)).all()) == 1
    # Once that round has closed long enough ago, the identity goes.
    with Session(db) as session, session.begin():
        store.close_round(
            session=session,
            consultation=store.require_consultation(session=session, slug="example"),
        )
        for round_ in session.exec(select(Round)):
            round_.closed_at = utcnow() - timedelta(days=200)
            session.add(round_)
    with Session(db) as session, session.begin():
        assert retention.drop_identities(session=session, closed_before=utcnow()) == 1


async def test_the_dashboard_export_is_scrubbed(db: Engine) -> None:
    """Mutant: the dashboard's export.csv and export.json pass answers on unscrubbed."""
    config = web_config()
    need = "Ring me on 07700 900123 or write to ann.jones@example.com about the buses"
    async with web_client(db, config) as client:
        await complete_on_the_web(WebResident(client), need=need)
        client.session.cookie_jar.clear()
        await sign_in(client, db, config, OFFICER)
        exported = await (await client.get("/staff/c/example/export.csv")).text()
        as_json = await (await client.get("/staff/c/example/export.json")).text()
    answers = [row["answer"] for row in csv.DictReader(io.StringIO(exported))]
    assert any("about the buses" in answer for answer in answers)
    for text in (exported, as_json):
        assert "07700" not in text and "ann.jones" not in text


def test_the_fast_path_asks_consent_again_after_the_consent_text_changes(
    service: ConversationService, db: Engine, tmp_path: Path
) -> None:
    """Mutant: the fast path takes answers from a resident who consented to an older text."""
    ann = Resident_(service, "c1")
    ann.start()
    ann.press("happy to take part")
    ann.press("North")
    ann.press("35 to 64")
    change_consent(db, tmp_path)
    restarted = ConversationService(db)  # knows the new script, so its fast path could act
    handled: list[bool] = []
    fast_handle = restarted.answers.handle

    def counting(*args: object) -> object:
        result = fast_handle(*args)  # type: ignore[arg-type]
        handled.append(result is not None)
        return result

    restarted.answers.handle = counting  # type: ignore[method-assign]
    Resident_(restarted, "c2").start()  # the full path: the fast path now knows the new text
    ann = Resident_(restarted, "c1")
    ann.say("The buses stop at 7pm")
    assert handled[-1] is False  # left to the full path, which asks consent again
    assert "Are you happy to take part?" in ann.last
    with Session(db) as session:
        assert session.exec(select(Answer).where(Answer.step_id == "need")).all() == []
