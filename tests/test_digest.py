"""The weekly digest built from a seeded consultation: figures checked against the database."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from analysis.personal_details.scrub import find_personal_details
from bot.actions.digest_figures import gather
from bot.actions.digests import analysis_for, build, period_ending
from bot.actions.theme_runs import analyse_consultation
from bot.config import DigestConfig
from conversations.residents.service import ConversationService
from conversations.staff import theme_edits, themes
from conversations.storage.models import (
    Answer,
    AnswerTheme,
    ConsentRecord,
    Consultation,
    Conversation,
    utcnow,
)
from conversations.storage.scripts import ScriptCache
from tests.example_consultation import Resident_, complete_example, seed

LONDON = ZoneInfo("Europe/London")
PRIVATE = [
    "The bins are never collected, ring me on 07700 900123 about it",
    "Bins left for weeks on our street, email jo.bloggs@example.com",
    "Rubbish bins overflow every week and nobody collects them",
    "Bin collection missed again, call 020 7946 0018 please",
]


def digest_data(db: Engine, start_offset: timedelta = timedelta(days=-7)):  # type: ignore[no-untyped-def]
    end = utcnow() + timedelta(minutes=1) + start_offset + timedelta(days=7)
    run, note = analysis_for(db, "example", end)
    with Session(db) as session:
        consultation = session.exec(select(Consultation)).one()
        return gather(
            session,
            consultation=consultation,
            script=ScriptCache().get(consultation),
            start=end - timedelta(days=7),
            end=end,
            zone=LONDON,
            run=run,
            analysis_note=note,
        )


def test_figures_match_the_database(service: ConversationService, db: Engine) -> None:
    seed(service, "a")
    for n, need in enumerate(PRIVATE * 2):
        complete_example(Resident_(service, f"p{n}"), need=need)
    Resident_(service, "half").start("example")  # opened, never agreed: not counted
    analyse_consultation(db, "example", actor="staff:1")  # the digest never runs discovery
    data = digest_data(db)
    with Session(db) as session:
        answers = session.exec(select(Answer)).all()
        substantive = [a for a in answers if a.profile is None and not a.skipped]
        residents = {a.resident_id for a in answers}
        conversations = session.exec(select(Conversation)).all()
        run = themes.latest_run(session=session, consultation_id=1)
        assert run is not None
        primary = session.exec(
            select(AnswerTheme.theme_id).where(AnswerTheme.run_id == run.id, AnswerTheme.rank == 0)
        ).all()
    assert data.headline.answers == len(substantive)
    assert data.headline.new_residents == len(residents) == 38
    assert data.headline.completion_rate == 1.0
    assert (data.headline.answers_before, data.headline.new_residents_before) == (0, 0)
    assert data.headline.completion_rate_before is None
    assert len(conversations) == 39  # the one who never agreed has a conversation too
    # Every theme's size is its primary answers in the run; themes ranked by size.
    assert {t.theme_id: t.size for t in data.themes} == {
        tid: primary.count(tid) for tid in set(primary)
    }
    assert [t.size for t in data.themes] == sorted((t.size for t in data.themes), reverse=True)
    assert {t.change for t in data.themes} == {"new"}
    for theme in data.themes:
        assert 1 <= len(theme.quotes) <= 3
        for quote in theme.quotes:
            assert find_personal_details(quote) == [], quote
        assert sum(theme.raised_by["Area"].values()) == theme.size  # one area answer each
        assert set(theme.raised_by["Area"]) == {"North (Hillside, Oakfield)"}
    area = next(d for d in data.coverage if d.name == "Area")
    north = next(g for g in area.groups if g.label.startswith("North"))
    assert north.respondents == 38 and not north.under_heard
    assert {g.label for _, g in data.under_heard()} >= {"South (Marsh End, Brookvale)"}
    assert data.priorities is None and data.decisions == ()


def test_the_documents_hold_no_personal_details(service: ConversationService, db: Engine) -> None:
    for n, need in enumerate(PRIVATE * 3):
        complete_example(Resident_(service, f"p{n}"), need=need)
    analyse_consultation(db, "example", actor="staff:1")
    end = utcnow() + timedelta(minutes=1)
    documents, run_id = build(db, "example", start=end - timedelta(days=7), end=end, zone=LONDON)
    assert run_id is not None
    for text in (documents.summary, documents.html, documents.csv):
        for secret in ("07700", "900123", "jo.bloggs", "@example.com", "7946"):
            assert secret not in text
    assert len(documents.summary) < 4096
    assert "Bin" in documents.html or "bin" in documents.html


def test_change_since_last_week(service: ConversationService, db: Engine) -> None:
    seed(service, "a")
    analyse_consultation(db, "example", actor="staff:1")
    with Session(db) as session, session.begin():  # an officer reviews every theme
        run = themes.latest_run(session=session, consultation_id=1)
        assert run is not None and run.id is not None
        for theme in themes.themes_of_run(session=session, run_id=run.id):
            if themes.is_current(theme):
                theme_edits.confirm(session=session, slug="example", theme_id=theme.theme_id,
                                    actor="staff:1")  # fmt: skip
    first = digest_data(db)
    with Session(db) as session, session.begin():
        # Last week's run: move it back so that this week's digest compares with it.
        run = themes.latest_run(session=session, consultation_id=1)
        assert run is not None
        run.created_at = utcnow() - timedelta(days=8)
        session.add(run)
        for answer in session.exec(select(Answer)):
            answer.answered_at -= timedelta(days=8)
            session.add(answer)
        for consent in session.exec(select(ConsentRecord)):
            consent.recorded_at -= timedelta(days=8)
            session.add(consent)
    for n in range(12):
        complete_example(Resident_(service, f"d{n}"), need=f"Damp and mould in the flat, room {n}")
    data = digest_data(db)
    assert data.headline.answers_before == first.headline.answers
    assert data.headline.answers == 12 * 4  # need, who it affects, difference, ideas
    assert (data.headline.new_residents, data.headline.new_residents_before) == (12, 30)
    changes = {t.change for t in data.themes}
    assert "growing" in changes  # the new damp answers were coded to the reviewed theme
    damp = max(data.themes, key=lambda t: t.size)
    assert damp.previous_size is not None and damp.size > damp.previous_size
    assert {t.theme_id for t in data.themes} == {t.theme_id for t in first.themes}


def test_a_quiet_week_says_nothing_new(service: ConversationService, db: Engine) -> None:
    end = utcnow() + timedelta(minutes=1)
    documents, run_id = build(db, "example", start=end - timedelta(days=7), end=end, zone=LONDON)
    assert run_id is None and documents.nothing_new
    assert "Nothing new this week" in documents.summary
    assert "Nothing new this week" in documents.html and "What residents need" not in documents.html
    seed(service, "a", copies=1)
    later = end + timedelta(days=14)
    documents, _ = build(db, "example", start=later - timedelta(days=7), end=later, zone=LONDON)
    assert documents.nothing_new and "Answers given: 0 (last week 0)" in documents.summary


def test_themes_missing_is_said(service: ConversationService, db: Engine) -> None:
    complete_example(Resident_(service, "only"), need="The buses stop at 7pm")
    data = digest_data(db)
    assert data.themes == () and "Themes are missing" in data.analysis_note
    assert data.headline.answers == 4


@pytest.mark.parametrize(
    ("now", "end"),
    [
        ("2026-11-30T09:00:00+00:00", "2026-11-30T09:00:00+00:00"),  # on the hour
        ("2026-11-30T08:59:00+00:00", "2026-11-23T09:00:00+00:00"),  # a minute before
        ("2026-12-03T15:00:00+00:00", "2026-11-30T09:00:00+00:00"),  # down until Thursday
        ("2026-06-01T08:30:00+00:00", "2026-06-01T08:00:00+00:00"),  # summer time: 09:00 BST
    ],
)
def test_the_week_ends_at_the_last_scheduled_time(now: str, end: str) -> None:
    from datetime import datetime

    found = period_ending(datetime.fromisoformat(now), DigestConfig())
    assert found == datetime.fromisoformat(end)


def test_only_answers_of_the_consultation_count(service: ConversationService, db: Engine) -> None:
    seed(service, "a", copies=1)
    with Session(db) as session:
        skipped = session.exec(select(Answer).where(col(Answer.skipped).is_(True))).all()
    data = digest_data(db)
    assert data.headline.answers == 15 * 4 and not skipped


def test_the_digest_counts_residents_by_channel(service: ConversationService, db: Engine) -> None:
    for n in range(3):
        complete_example(Resident_(service, f"t{n}"))
    complete_example(Resident_(service, "w0", channel="web"))
    Resident_(service, "w-looker", channel="web").start("example")  # never agreed
    data = digest_data(db)
    channel = next(d for d in data.coverage if d.key == "channel")
    assert channel.name == "Channel"
    assert [(g.label, g.respondents, g.share) for g in channel.groups] == [
        ("Telegram", 3, 0.75),
        ("Web chat", 1, 0.25),
    ]
    assert all(g.population_share is None and not g.under_heard for g in channel.groups)
    end = utcnow() + timedelta(minutes=1)
    documents, _ = build(db, "example", start=end - timedelta(days=7), end=end, zone=LONDON)
    assert "By channel: Telegram 3, Web chat 1" in documents.summary
    table = documents.html.split("<caption>By channel</caption>")[1].split("</table>")[0]
    assert '<th scope="row">Telegram</th><td class="n">3</td><td class="n">75%</td>' in table
    assert '<th scope="row">Web chat</th><td class="n">1</td><td class="n">25%</td>' in table
    assert "Yes" not in table and "No<" not in table  # no population: never "under-heard"
