"""Officers' splits: stored at once into the latest run, audited, and kept on every re-run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.actions.analysis_runs import split_stored_theme
from bot.actions.theme_runs import analyse_consultation
from conversations.residents.service import ConversationService
from conversations.staff import theme_edits, themes
from conversations.storage.models import (
    Answer,
    AnswerTheme,
    AuditEntry,
    RunTheme,
    ThemeEdit,
    ThemeSplitPart,
)
from tests.command_line import needsfirst
from tests.example_consultation import TOPICS, Resident_, complete_example, seed

TOPIC_OF = {need: topic for topic, needs in TOPICS.items() for need in needs}


def topics_by_theme(db: Engine, run_id: int) -> dict[int, Counter[str]]:
    """Each theme of a run -> how many of its primary answers are about each topic."""
    with Session(db) as session:
        rows = session.exec(
            select(AnswerTheme.theme_id, Answer.value)
            .join(Answer, col(Answer.id) == col(AnswerTheme.answer_id))
            .where(AnswerTheme.run_id == run_id, AnswerTheme.rank == 0)
        ).all()
    found: dict[int, Counter[str]] = {}
    for theme_id, value in rows:
        topic = TOPIC_OF[value.rstrip("!").removesuffix(" again")]
        found.setdefault(theme_id, Counter())[topic] += 1
    return found


def run_themes(db: Engine, run_id: int) -> dict[int, RunTheme]:
    with Session(db) as session:
        return {t.theme_id: t for t in themes.themes_of_run(session=session, run_id=run_id)}


def mixed_theme(db: Engine, run_id: int) -> int:
    """The theme that holds two topics (three topics in two themes)."""
    (theme_id,) = [t for t, c in topics_by_theme(db, run_id).items() if len(c) == 2 and min(c.values()) >= 5]  # fmt: skip
    return theme_id


def test_a_split_shows_at_once_and_survives_a_rerun_with_new_data(
    service: ConversationService, db: Engine
) -> None:
    seed(service, "a")
    first = analyse_consultation(db, "example", actor="staff:1", n_themes=2).run
    assert first.id is not None
    mixed = mixed_theme(db, first.id)
    before = run_themes(db, first.id)
    highest = max(before)

    split = split_stored_theme(db, "example", mixed, actor="staff:9")

    # At once, in the latest run: the theme is retired and two new themes hold its answers.
    (a, a_label, a_size), (b, b_label, b_size) = split.parts
    assert split.theme_id == mixed and {a, b} == {highest + 1, highest + 2}
    after = run_themes(db, first.id)
    assert after[mixed].status == "split" and after[mixed].size == 0
    assert after[a].status == after[b].status == "new"
    assert (after[a].size, after[b].size) == (a_size, b_size)
    assert a_size + b_size == before[mixed].size and a_size >= b_size > 0
    assert a_label != b_label and "(1)" not in a_label and len(a_label) >= 3
    by_theme = topics_by_theme(db, first.id)
    assert mixed not in by_theme
    part_topic = {}
    for part in (a, b):
        ((topic, _),) = by_theme[part].items()  # each part is one need
        part_topic[part] = topic
    assert part_topic[a] != part_topic[b]
    with Session(db) as session:
        for part in (a, b):
            assert after[part].keywords_json != "[]" and after[part].domains_json != "[]"
            quotes = themes.quote_texts(session=session, theme=after[part])
            assert quotes and all(TOPIC_OF[q.rstrip("!")] == part_topic[part] for q in quotes)
        edit = session.exec(select(ThemeEdit).where(ThemeEdit.action == "split")).one()
        assert (edit.theme_id, edit.actor) == (mixed, "staff:9") and edit.at is not None
        stored_parts = session.exec(
            select(ThemeSplitPart).order_by(col(ThemeSplitPart.position))
        ).all()
        assert [(p.edit_id, p.theme_id, p.label) for p in stored_parts] == [
            (edit.id, a, a_label),
            (edit.id, b, b_label),
        ]
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "theme.split")).one()
        assert audit.actor == "staff:9" and audit.target == f"example theme {mixed}"
        assert f"theme {a}" in audit.detail and f"theme {b}" in audit.detail
        # The split theme can be neither edited nor split again; its parts can.
        with pytest.raises(theme_edits.ThemeEditError, match="no current theme"):
            theme_edits.rename(
                session=session, slug="example", theme_id=mixed, label="x y", actor="s"
            )
        theme_edits.rename(
            session=session, slug="example", theme_id=b, label="Second need", actor="s"
        )
        session.commit()

    # A week later, more answers: the fit mixes the two needs again; the split divides them.
    seed(service, "b", copies=1)
    for n in range(4):
        need = TOPICS[part_topic[b]][n]
        complete_example(Resident_(service, f"c{n}"), need=need + " again")
    second = analyse_consultation(db, "example", actor="staff:1", n_themes=2)
    assert second.run.id is not None
    again = run_themes(db, second.run.id)
    assert mixed not in again and {a, b} <= set(again)
    assert again[b].label == "Second need" and again[a].label == a_label
    assert again[a].status != "new" and again[b].status != "new"
    by_theme = topics_by_theme(db, second.run.id)
    for part in (a, b):
        assert set(by_theme[part]) == {part_topic[part]}
    assert by_theme[b][part_topic[b]] > b_size  # the new answers joined their part
    report_ids = {t["id"] for t in second.report["themes"]}
    assert {a, b} <= report_ids and mixed not in report_ids
    part_b = next(t for t in second.report["themes"] if t["id"] == b)
    assert all(
        TOPIC_OF[q.rstrip("!").removesuffix(" again")] == part_topic[b] for q in part_b["quotes"]
    )


def test_merging_the_parts_back_undoes_a_split(service: ConversationService, db: Engine) -> None:
    seed(service, "a")
    run = analyse_consultation(db, "example", actor="staff:1", n_themes=2).run
    assert run.id is not None
    mixed = mixed_theme(db, run.id)
    topics = set(topics_by_theme(db, run.id)[mixed])
    (a, _, _), (b, _, _) = split_stored_theme(db, "example", mixed, actor="staff:9").parts
    with Session(db) as session, session.begin():
        theme_edits.merge(session=session, slug="example", theme_id=b, into_id=a, actor="staff:9")
    rerun = analyse_consultation(db, "example", actor="staff:1", n_themes=2).run
    assert rerun.id is not None
    by_theme = topics_by_theme(db, rerun.id)
    assert set(by_theme[a]) == topics and b not in by_theme and mixed not in by_theme


def test_splits_that_cannot_be_made_change_nothing(
    service: ConversationService, db: Engine
) -> None:
    with pytest.raises(theme_edits.ThemeEditError, match="not been analysed"):
        split_stored_theme(db, "example", 1, actor="staff:9")
    # Two needs, each said the same way by everyone: nothing to divide them by.
    for n in range(6):
        complete_example(Resident_(service, f"bus{n}"), need="The buses stop at 7pm")
        complete_example(Resident_(service, f"damp{n}"), need="Damp and mould in our flat")
    run = analyse_consultation(db, "example", actor="staff:1", n_themes=2).run
    assert run.id is not None
    one = min(run_themes(db, run.id))
    with pytest.raises(theme_edits.ThemeEditError, match="all alike"):
        split_stored_theme(db, "example", one, actor="staff:9")
    with pytest.raises(theme_edits.ThemeEditError, match="no current theme 99"):
        split_stored_theme(db, "example", 99, actor="staff:9")
    # A split found on a run that is no longer the latest is not stored.
    newer = analyse_consultation(db, "example", actor="staff:1", n_themes=2).run
    part = theme_edits.SplitPart("x y", [], [], [], [1.0], 1, [])
    with Session(db) as session, pytest.raises(theme_edits.ThemeEditError, match="analysed again"):
        theme_edits.split(session=session, slug="example", theme_id=one, run_id=run.id, centroid=[1.0],
                          parts=(part, part), actor="staff:9")  # fmt: skip
    with Session(db) as session:
        assert session.exec(select(ThemeEdit)).all() == []
        assert (
            session.exec(select(AuditEntry).where(AuditEntry.action == "theme.split")).all() == []
        )
    assert newer.id is not None
    assert all(themes.is_current(t) for t in run_themes(db, newer.id).values())


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', encoding="utf-8")
    return path


@pytest.mark.slow  # command-line processes or a service killed and restarted
def test_split_on_the_command_line(config: Path, service: ConversationService, db: Engine) -> None:
    early = needsfirst(config, "themes", "split", "example", "1")
    assert early.returncode == 2 and "has not been analysed yet" in early.stderr
    seed(service, "a")
    run = analyse_consultation(db, "example", actor="staff:1", n_themes=2).run
    assert run.id is not None
    mixed = mixed_theme(db, run.id)
    before = set(run_themes(db, run.id))
    done = needsfirst(config, "themes", "split", "example", str(mixed))
    assert done.returncode == 0, done.stderr
    assert f"Theme {mixed} (" in done.stderr and "Both parts are in the codebook" in done.stderr
    listed = {int(line.split()[0]): line for line in done.stdout.splitlines()}
    parts = set(run_themes(db, run.id)) - before
    assert len(parts) == 2 and set(listed) == (before - {mixed}) | parts
    assert all(" reviewed " in listed[t] for t in parts)  # both parts joined the codebook
    with Session(db) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "theme.split")).one()
        assert audit.actor.startswith("cli")
    again = needsfirst(config, "theme", "split", "example", str(mixed))
    assert again.returncode == 2 and f"no current theme {mixed}" in again.stderr
    usage = needsfirst(config, "theme", "split", "example")
    assert usage.returncode == 2 and "theme_id" in usage.stderr
