"""Prioritise rounds through the conversation service: votes, scores, merges and exports."""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from scipy.stats import kendalltau
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.digest_figures import gather
from bot.actions.priorities import (
    digest_priorities,
    format_priorities,
    open_round,
    priorities_report,
)
from conversations.staff import theme_edits, themes
from conversations.staff.export import export_columns, export_records, write_export
from conversations.storage import store
from conversations.storage.models import Answer, PairVote, Round, StatementVote
from conversations.storage.scripts import ScriptCache
from tests.prioritise_helpers import (
    Voter,
    add_profile,
    bradley_terry_voter,
    button_data,
    example_with_themes,
    open_prioritise,
    seed_run,
)

LABELS = [f"Theme {n}" for n in range(1, 11)]


def test_the_recovered_ranking_matches_residents_preferences(sqlite_db: Engine) -> None:
    """200 residents with Bradley-Terry preferences over 10 themes, 8 pairs each."""
    service = example_with_themes(sqlite_db, LABELS)
    rng = random.Random(7)
    truth = dict(zip(range(1, 11), rng.sample([x / 3 for x in range(-5, 5)], 10), strict=True))
    for number in range(200):
        Voter(service, f"7{number:04d}").weigh(bradley_terry_voter(truth, rng), lambda t: "_pass")
    report = priorities_report(sqlite_db, "example", bootstrap=100)
    assert report.participants == 200
    estimated = {t.priority.theme: t.priority.score for t in report.themes}
    tau = kendalltau([truth[t] for t in truth], [estimated[t] for t in truth]).statistic
    assert tau >= 0.9, format_priorities(report)
    # 200 residents: the order is far from a tie, and the truly first theme is in the top
    # band. Neighbours a third of a point apart can share it (overlapping 95% intervals
    # are a cautious test, and which pairs each resident is shown is random).
    assert not report.too_close_to_call, format_priorities(report)
    first = {t.priority.theme for t in report.themes if t.rank == report.themes[0].rank}
    assert len(first) <= 3 and max(truth, key=truth.__getitem__) in first, format_priorities(report)
    text = format_priorities(report)
    assert "200 residents voted" in text
    for band in report.bands():
        assert {t.rank for t in band} == {band[0].rank} and all(t.joint for t in band)
        assert f"Too close to call (joint {band[0].place.removeprefix('joint ')})" in text
    top = report.themes[0].priority
    assert top.low < top.score < top.high
    assert sum(t.priority.comparisons for t in report.themes) == 2 * report.pair_votes
    with Session(sqlite_db) as session:
        shown = Counter(
            t for v in session.exec(select(PairVote)) for t in (v.low_theme_id, v.high_theme_id)
        )
    # A fair spread: every theme shown about as often (200 x 8 x 2 / 10 = 320 each).
    assert max(shown.values()) - min(shown.values()) <= 8, shown


def test_a_theme_one_group_opposes_is_divisive_not_common_ground(db: Engine) -> None:
    service = example_with_themes(db, ["Theme 1", "Theme 2", "Theme 3", "Theme 4"])
    areas = ["north", "central", "south"]
    for number in range(36):
        area = areas[number % 3]
        user = f"8{number:03d}"

        def stance(theme: int, area: str = area) -> str:
            if theme == 2 and area == "south":
                return "_disagree"
            return "_agree" if theme in (1, 2) else "_pass"

        Voter(service, user).weigh(lambda top, bottom: f"t{min(top, bottom)}", stance)
        add_profile(db, user, area=area, age_band="18-34" if number % 2 else "35-64")
    report = priorities_report(db, "example", bootstrap=0)
    by_id = {t.priority.theme: t.priority for t in report.themes}
    assert by_id[1].common_ground and not by_id[1].divisive
    assert by_id[2].divisive and not by_id[2].common_ground
    assert by_id[2].divided_by == ("area",)
    assert by_id[1].consensus is not None and by_id[2].consensus is not None
    assert by_id[1].consensus > 0.8 > by_id[2].consensus
    south = next(g for g in by_id[2].groups["area"] if g.group == "south")
    assert south.agree == 0 and south.disagree == south.votes > 0
    assert [t.priority.theme for t in report.themes][:2] == [1, 2]  # lower ids always preferred
    assert "groups disagree" in format_priorities(report)
    # Without intervals (no resampling) nothing can be told apart, and it says so.
    assert report.too_close_to_call and {t.place for t in report.themes} == {"joint 1st"}
    assert "The ranking is too close to call" in format_priorities(report)
    assert report.to_dict()["too_close_to_call"] is True


def test_a_resident_cannot_vote_twice_on_the_same_pair(db: Engine) -> None:
    service = example_with_themes(db, ["Theme 1", "Theme 2", "Theme 3"])
    ann = Voter(service, "9001")
    ann.start()
    ann.press("_agree")
    first = ann.inbox[-1]
    old = button_data(first, "_same")
    ann.press("_same")
    # The same button again (a double tap, or a replay): refused as stale, nothing stored.
    again = ann.press_data(old)
    assert again[0].text.startswith("That button belongs to an earlier question")
    with Session(db) as session:
        votes = session.exec(select(PairVote)).all()
        assert len(votes) == 1
        # And the database itself refuses a second row for the pair.
        duplicate = PairVote(**votes[0].model_dump(exclude={"id"}))
        session.add(duplicate)
        with pytest.raises(IntegrityError):
            session.flush()
    # The three pairs of three themes, each once: then the statements.
    while "Which matters more" in ann.inbox[-1].text:
        ann.press("_unsure")
    with Session(db) as session:
        pairs = [(v.low_theme_id, v.high_theme_id) for v in session.exec(select(PairVote))]
    assert sorted(pairs) == [(1, 2), (1, 3), (2, 3)]


def test_merged_themes_keep_their_votes(db: Engine) -> None:
    service = example_with_themes(db, ["Theme 1", "Theme 2", "Theme 3", "Theme 4"])
    for number in range(12):
        Voter(service, f"6{number:03d}").weigh(
            lambda top, bottom: f"t{min(top, bottom)}", lambda theme: "_agree"
        )
    before = priorities_report(db, "example", bootstrap=0)
    with Session(db) as session, session.begin():
        theme_edits.merge(session=session, slug="example", theme_id=4, into_id=3, actor="officer")
        theme_edits.rename(
            session=session, slug="example", theme_id=3, label="Merged", actor="officer"
        )
    after = priorities_report(db, "example", bootstrap=0)
    by_id = {t.priority.theme: t for t in after.themes}
    assert sorted(by_id) == [1, 2, 3]
    assert by_id[3].label == "Merged"
    old = {t.priority.theme: t.priority for t in before.themes}
    # Theme 4's statement votes now count for theme 3 (one per resident), and its pairs
    # against 1 and 2 too; only the 3-vs-4 votes, now within one theme, drop out.
    assert by_id[3].priority.agree == len({*range(12)})
    pairs_3_4 = sum(1 for _ in _pair_votes(db, 3, 4))
    assert by_id[3].priority.comparisons == old[3].comparisons + old[4].comparisons - 2 * pairs_3_4
    assert after.pair_votes == before.pair_votes - pairs_3_4


def _pair_votes(db: Engine, low: int, high: int) -> list[PairVote]:
    with Session(db) as session:
        return list(
            session.exec(
                select(PairVote).where(PairVote.low_theme_id == low, PairVote.high_theme_id == high)
            )
        )


def test_what_we_missed_is_a_need_for_the_next_analysis(db: Engine) -> None:
    service = example_with_themes(db, ["Theme 1", "Theme 2"])
    Voter(service, "5101").weigh(lambda a, b: "_same", lambda t: "_agree", missed="No youth club")
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug="example")
        assert consultation.id is not None
        questions = ScriptCache().get(consultation).theme_steps()
        texts = [
            text
            for _, text in themes.answers_to_analyse(
                session=session, consultation_id=consultation.id, questions=questions
            )
        ]
    assert "missed" in questions and texts == ["No youth club"]


def test_votes_are_exported_under_pseudonyms_and_forgotten_on_request(db: Engine) -> None:
    service = example_with_themes(db, ["Theme 1", "Theme 2", "Theme 3"])
    ann = Voter(service, "4242")
    ann.weigh(lambda top, bottom: f"t{bottom}", lambda t: "_disagree")
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug="example")
        script = ScriptCache().get(consultation)
        handle = io.StringIO()
        write_export(handle, "json", export_columns(script),
                     export_records(session=session, consultation=consultation, script=script))  # fmt: skip
    records = json.loads(handle.getvalue())
    votes = [r for r in records if r["question"] in ("pairs", "statements")]
    assert len(votes) == 6 and all(r["round"] == 2 for r in votes)
    assert "4242" not in handle.getvalue()
    assert {r["answer"].split(":")[1] for r in votes if r["question"] == "statements"} == {
        "disagree"
    }
    pair = next(r for r in votes if r["question"] == "pairs")
    assert ">" in pair["answer"] and " > " in pair["answer_label"]
    mine = ann.service.my_data(ann.who)[0]
    assert mine.attachment is not None
    assert len(json.loads(mine.attachment.content)["votes"]) == 6
    ann.service.forget_request(ann.who)
    ann.press_data("f:yes")
    with Session(db) as session:
        assert session.exec(select(PairVote)).all() == []
        assert session.exec(select(StatementVote)).all() == []


def test_a_prioritise_round_needs_themes_and_a_prioritise_part(db: Engine) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test")
    with pytest.raises(store.StoreError, match="review the themes first"):
        open_round(db, "example", kind="prioritise", actor="test")
    seed_run(db, ["Theme 1", "Theme 2"])
    opened = open_prioritise(db)
    assert opened.kind == "prioritise" and opened.number == 1
    with pytest.raises(store.StoreError, match="not 'vote'"):
        open_round(db, "example", kind="vote", actor="test")


def test_the_digest_and_the_command_line_show_the_priorities(
    db: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from bot.cli import main

    service = example_with_themes(db, ["Theme 1", "Theme 2", "Theme 3"])
    for number in range(5):
        Voter(service, f"31{number}").weigh(lambda a, b: f"t{min(a, b)}", lambda t: "_agree")
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug="example")
        script = ScriptCache().get(consultation)
        found = digest_priorities(session, consultation, script)
        assert found is not None and found.participants == 5 and found.round_number == 2
        assert [p.theme_id for p in found.items] == [1, 2, 3]
        assert found.items[0].support > 0.5 > found.items[-1].support
        end = datetime.now(UTC) + timedelta(minutes=1)
        data = gather(session, consultation=consultation, script=script, start=end - timedelta(7),
                      end=end, zone=ZoneInfo("Europe/London"), run=None)  # fmt: skip
        assert data.priorities == found
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    assert main(["priorities", "example", "--format", "json", "--config", str(config)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["participants"] == 5
    assert [t["id"] for t in document["themes"]] == [1, 2, 3]
    assert document["themes"][0]["interval"][0] <= document["themes"][0]["score"]
    assert main(["priorities", "example", "--config", str(config)]) == 0
    assert "Theme 1" in capsys.readouterr().out
    with Session(db) as session:
        rounds = session.exec(select(Round).order_by(Round.number)).all()  # type: ignore[arg-type]
        assert [r.kind for r in rounds] == ["needs", "prioritise"]
        missed = session.exec(select(Answer).where(Answer.step_id == "missed")).all()
        assert all(a.skipped for a in missed)
