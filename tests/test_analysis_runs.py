"""Theme analysis over stored answers: runs, stable ids, officers' edits, erasure, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from analysis.themes.embed import semantic_extra_installed
from bot.actions import analysis_runs, theme_runs
from bot.actions.analysis_runs import AnalysisError, shown_quotes
from bot.actions.theme_runs import analyse_consultation
from conversations.residents.service import ConversationService
from conversations.staff import theme_edits, themes
from conversations.storage.models import AnswerTheme, RunTheme
from tests.command_line import needsfirst
from tests.example_consultation import ALL_NEEDS, TOPICS, Resident_, complete_example, seed


# Three needs with words of their own, so that even a few dozen answers fall
# cleanly into three themes (the tests are about storage, not clustering).
def live(db: Engine, run_id: int) -> dict[int, RunTheme]:
    with Session(db) as session:
        return {
            t.theme_id: t
            for t in themes.themes_of_run(session=session, run_id=run_id)
            if t.status not in ("gone", "merged")
        }


def test_a_run_is_stored_and_ids_survive_the_next_run(
    service: ConversationService, db: Engine
) -> None:
    with pytest.raises(AnalysisError, match="at least 2"):
        analyse_consultation(db, "example", actor="test")
    seed(service, "a")
    first = analyse_consultation(db, "example", actor="staff:1", n_themes=3)
    found = live(db, first.run.id or 0)
    assert len(found) == 3 and sum(t.size for t in found.values()) == 30
    assert {t.status for t in found.values()} == {"new"}
    with Session(db) as session:
        assert (
            len(
                session.exec(
                    select(AnswerTheme).where(
                        AnswerTheme.run_id == first.run.id, AnswerTheme.rank == 0
                    )
                ).all()
            )
            == 30
        )
        for theme in found.values():
            quotes = shown_quotes(session, theme)
            assert quotes and all(q.rstrip("!") in ALL_NEEDS for q in quotes), quotes

    # A week later, more answers, mostly about damp: same ids, damp growing.
    seed(service, "b", copies=1)
    for n in range(6):
        complete_example(Resident_(service, f"c{n}"), need=TOPICS["damp"][n % 5] + " again")
    second = analyse_consultation(db, "example", actor="staff:1", n_themes=3)
    again = live(db, second.run.id or 0)
    assert set(again) == set(found)
    assert sum(t.size for t in again.values()) == 51
    assert {t.status for t in again.values()} <= {"growing", "shrinking", "steady"}


def test_renames_and_merges_survive_a_rerun_and_are_audited(
    service: ConversationService, db: Engine
) -> None:
    seed(service, "a")
    first = analyse_consultation(db, "example", actor="staff:1", n_themes=3)
    found_sizes = {tid: t.size for tid, t in live(db, first.run.id or 0).items()}
    ids = sorted(found_sizes)
    with Session(db) as session, session.begin():
        theme_edits.rename(
            session=session,
            slug="example",
            theme_id=ids[0],
            label="Getting around after dark",
            actor="staff:9",
        )
        theme_edits.merge(
            session=session, slug="example", theme_id=ids[2], into_id=ids[1], actor="staff:9"
        )
    after_edit = live(db, first.run.id or 0)
    assert after_edit[ids[0]].label == "Getting around after dark"
    merged_size = found_sizes[ids[1]] + found_sizes[ids[2]]
    assert ids[2] not in after_edit and after_edit[ids[1]].size == merged_size
    with Session(db) as session, pytest.raises(theme_edits.ThemeEditError):
        theme_edits.merge(
            session=session, slug="example", theme_id=ids[1], into_id=ids[1], actor="x"
        )

    rerun = analyse_consultation(db, "example", actor="staff:1", n_themes=3)
    kept = live(db, rerun.run.id or 0)
    assert kept[ids[0]].label == "Getting around after dark"
    assert ids[2] not in kept and kept[ids[1]].size == merged_size
    with db.connect() as connection:
        actions = [
            row[0] for row in connection.execute(text("SELECT action FROM auditentry ORDER BY id"))
        ]
    assert (
        actions.count("analysis.run") == 2
        and "theme.rename" in actions
        and "theme.merge" in actions
    )


def test_an_edit_made_while_a_run_is_matching_is_kept(
    service: ConversationService, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An officer renames a theme after the run read the edits and before it saved:
    the run matches again with the rename instead of saving the old label."""
    seed(service, "a")
    first = analyse_consultation(db, "example", actor="staff:1", n_themes=3)
    theme_id = min(live(db, first.run.id or 0))
    real_describe = theme_runs.describe_run
    calls: list[str] = []

    def match_then_edit(*args: object, **kwargs: object) -> object:
        result = real_describe(*args, **kwargs)  # type: ignore[arg-type]
        if not calls:
            with Session(db) as session, session.begin():
                theme_edits.rename(session=session, slug="example", theme_id=theme_id,
                                   label="Renamed meanwhile", actor="staff:9")  # fmt: skip
        calls.append("matched")
        return result

    monkeypatch.setattr(theme_runs, "describe_run", match_then_edit)
    second = analyse_consultation(db, "example", actor="staff:1", n_themes=3)
    assert calls == ["matched", "matched"]
    assert live(db, second.run.id or 0)[theme_id].label == "Renamed meanwhile"
    assert any(t["label"] == "Renamed meanwhile" for t in second.report["themes"])


def test_a_theme_that_went_never_lends_its_id_to_a_new_one(
    service: ConversationService, db: Engine
) -> None:
    seed(service, "a")
    first = analyse_consultation(db, "example", actor="staff:1", n_themes=3)
    ever = set(live(db, first.run.id or 0))
    # Runs with fewer and then more themes: whatever goes and comes back new gets a
    # fresh id, above every id used before.
    for n_themes in (2, 3, 4):
        run = analyse_consultation(db, "example", actor="staff:1", n_themes=n_themes)
        with Session(db) as session:
            for theme in themes.themes_of_run(session=session, run_id=run.run.id or 0):
                if theme.status == "new":
                    assert theme.theme_id not in ever, (n_themes, theme.theme_id, ever)
                ever.add(theme.theme_id)


def test_forget_after_analysis_removes_the_quote_too(
    service: ConversationService, db: Engine
) -> None:
    seed(service, "a")
    ann = Resident_(service, "ann")
    complete_example(ann, need="Black mould in the bathroom ceiling at Flat 9 Rose Court")
    run = analyse_consultation(db, "example", actor="test", n_themes=3).run
    ann.inbox.extend(service.forget_request(ann.who))
    ann.press("Yes, delete everything")
    with db.connect() as connection:
        for table in inspect(db).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                assert "Rose Court" not in " ".join(map(str, row)), table
    with Session(db) as session:
        for theme in live(db, run.id or 0).values():
            assert all("Rose Court" not in q for q in shown_quotes(session, theme))


@pytest.mark.slow  # command-line processes or a service killed and restarted
def test_analyse_command_on_a_csv(tmp_path: Path) -> None:
    rows = ["text"] + [f'"{t}"' for needs in TOPICS.values() for t in needs] + ['"nothing"', '""']
    data = tmp_path / "answers.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = tmp_path / "none.toml"
    config.write_text("", encoding="utf-8")
    result = needsfirst(config, "analyse", str(data), "--themes", "3")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["themes"]) == 3
    assert len(report["assignments"]) == 17
    assert report["assignments"][-2:] == [None, None]  # "nothing" and empty stay unthemed
    for theme in report["themes"]:
        assert {"id", "label", "keywords", "size", "quotes"} <= set(theme)
    # A command runs in its own process: semantic where the extra is installed.
    assert report["semantic"] is semantic_extra_installed()
    lexical = needsfirst(config, "analyse", str(data), "--themes", "3", "--lexical")
    assert lexical.returncode == 0 and json.loads(lexical.stdout)["semantic"] is False


def test_a_csv_is_embedded_when_an_encoder_is_there(tmp_path: Path) -> None:
    from tests.test_answer_embeddings import FakeEncoder

    data = tmp_path / "answers.csv"
    texts = [t for needs in TOPICS.values() for t in needs]
    data.write_text("text\n" + "\n".join(f'"{t}"' for t in texts) + "\n", encoding="utf-8")
    encoder = FakeEncoder()
    report = analysis_runs.analyse_csv(str(data), n_themes=3, encoder=encoder)
    assert report["semantic"] is True and encoder.embedded == texts
    assert len(report["themes"]) == 3
    assert analysis_runs.analyse_csv(str(data), n_themes=3, encoder=None)["semantic"] is False


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"answer\nthe buses\n", [], "text"),
        (b"", [], "empty"),
        (b"text\n\xff\xfe broken\n", [], "UTF-8"),
        (b"text\none answer only\n", [], "2"),
        (b"text\na\nb\n", ["--themes", "0"], "between 1 and 500"),
    ],
)
def test_bad_csv_input_is_a_clear_error(
    tmp_path: Path, content: bytes, args: list[str], message: str
) -> None:
    data = tmp_path / "bad.csv"
    data.write_bytes(content)
    config = tmp_path / "none.toml"
    config.write_text("", encoding="utf-8")
    result = needsfirst(config, "analyse", str(data), *args)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
