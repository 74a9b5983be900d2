"""The officers' codebook holds: reviewed themes keep their names, ids and answers through
re-runs with no count, another count and new answers; downstream uses the codebook."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from analysis.themes.coding import NOT_A_NEED, NOT_CODED, ThemeCoder
from bot.actions.decisions import DecisionError, decide, preview
from bot.actions.digests import analysis_for
from bot.actions.priorities import themes_to_prioritise
from bot.actions.theme_runs import analyse_consultation
from conversations.residents.service import ConversationService
from conversations.staff import codebook, theme_edits, themes
from conversations.staff.coded_answers import answers_page, coded_answers, theme_list
from conversations.storage import store
from conversations.storage.models import (
    Answer,
    AnswerTheme,
    AuditEntry,
    BroadcastRecipient,
    Resident,
    utcnow,
)
from tests.command_line import needsfirst
from tests.example_consultation import Resident_, complete_example

# Six subjects a first-time user tried, four answers each.
SUBJECTS = {
    "buses": [
        "The buses stop running at 7pm so I cannot get home from my evening shift",
        "Bus route 4 was cut and the bus stop is now a mile away",
        "The bus never turns up on time and the buses are always late",
        "No buses on Sunday so I cannot get to work by bus",
    ],
    "gp": [
        "I cannot get a GP appointment, the surgery phone lines are always busy",
        "Waiting three weeks for a GP appointment at the surgery",
        "The GP surgery has no appointments left by 8am every morning",
        "Impossible to see a GP, appointments go in minutes",
    ],
    "mould": [
        "Black mould on the bedroom walls and the housing association ignores it",
        "Damp and mould in our flat is making the children cough",
        "The flat is damp, mould grows back on the walls every winter",
        "Mould and damp in the bathroom, the landlord will not fix the damp",
    ],
    "lights": [
        "The street lights on our road have been broken for months",
        "Broken street lights make walking home at night feel unsafe",
        "Street lights out in the park path, it is pitch dark at night",
        "Nobody fixes the street lights so the road is dark at night",
    ],
    "lonely": [
        "I am lonely and see nobody all week since I moved here",
        "I feel isolated and lonely with no neighbours to talk to",
        "Lonely older people like me have nobody to talk to",
        "Isolated at home, lonely since I stopped driving",
    ],
    "youth": [
        "Teenagers have nothing to do since the youth club closed",
        "The youth club shut and young people hang around the shops",
        "Young people need a youth club or sports activities",
        "No activities for teenagers in the evenings, the youth centre closed",
    ],
}
TOPIC_OF = {need: topic for topic, needs in SUBJECTS.items() for need in needs}


def seed(service: ConversationService, prefix: str, *, per_topic: int = 4) -> dict[str, str]:
    """Residents answering each subject's needs; returns resident key -> subject."""
    who = {}
    for topic, needs in SUBJECTS.items():
        for n, need in enumerate(needs[:per_topic]):
            key = f"{prefix}-{topic}-{n}"
            complete_example(Resident_(service, key), need=need)
            who[key] = topic
    return who


def topics_by_theme(db: Engine) -> dict[int, Counter[str]]:
    """theme id -> subjects of its primary answers, in the latest run."""
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug="example")
        assert consultation.id is not None
        run = themes.latest_run(session=session, consultation_id=consultation.id)
        assert run is not None and run.id is not None
        found: dict[int, Counter[str]] = {}
        for member in session.exec(
            select(AnswerTheme).where(AnswerTheme.run_id == run.id, AnswerTheme.rank == 0)
        ):
            answer = session.get(Answer, member.answer_id)
            assert answer is not None
            found.setdefault(member.theme_id, Counter())[TOPIC_OF.get(answer.value, "new")] += 1
        return found


def listed(db: Engine) -> dict[int, dict[str, object]]:
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug="example")
        assert consultation.id is not None
        return {
            t["id"]: t for t in theme_list(session=session, consultation_id=consultation.id) or []
        }


def theme_of(db: Engine, topic: str) -> int:
    """The theme holding most of a subject's answers."""
    counts = {t: c[topic] for t, c in topics_by_theme(db).items()}
    return max(counts, key=lambda t: counts[t])


def test_the_officers_themes_hold_through_reruns_and_reach_the_right_residents(
    service: ConversationService, db: Engine
) -> None:
    seed(service, "a")
    analyse_consultation(db, "example", actor="staff:1", n_themes=6)
    assert not any(t["reviewed"] for t in listed(db).values())  # proposed, not yet reviewed

    # The officer reviews: renames each subject's theme (merging any subject split in
    # two), so the codebook is the six subjects.
    names = {
        "buses": "Buses stop too early for shift workers",
        "gp": "GP appointments are hard to get",
        "mould": "Damp and mould in rented homes",
        "lights": "Broken street lights make walking at night unsafe",
        "lonely": "Loneliness of people living alone",
        "youth": "Nothing for young people to do",
    }
    found = {topic: theme_of(db, topic) for topic in names}
    with Session(db) as session, session.begin():
        for topic, name in names.items():
            theme_id = found[topic]
            theme_edits.rename(session=session, slug="example", theme_id=theme_id, label=name,
                               actor="staff:1")  # fmt: skip
    reviewed = {topic: theme_of(db, topic) for topic in names}
    assert len(set(reviewed.values())) == 6
    before = topics_by_theme(db)

    # Re-runs with no count, with another count, and with new answers.
    for n_themes in (None, 2, 9):
        analyse_consultation(db, "example", actor="staff:1", n_themes=n_themes)
        now = listed(db)
        for topic, theme_id in reviewed.items():
            assert now[theme_id]["name"] == names[topic] and now[theme_id]["reviewed"]
        now_topics = topics_by_theme(db)
        assert all(now_topics[t] == before[t] for t in reviewed.values()), n_themes
    newcomers = seed(service, "b", per_topic=2)
    run = analyse_consultation(db, "example", actor="staff:1").run
    after = topics_by_theme(db)
    for topic, theme_id in reviewed.items():
        assert set(after[theme_id]) == {topic}, (topic, after)
        assert after[theme_id][topic] == 6, (topic, after)  # the four reviewed and two new
    with Session(db) as session:
        statuses = {
            t.theme_id: t.status for t in themes.themes_of_run(session=session, run_id=run.id or 0)
        }
    assert all(statuses[t] == "growing" for t in reviewed.values())

    # An officer moves one answer by hand; it stays moved on every later run.
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug="example")
        consultation_id = consultation.id or 0
        page = answers_page(session=session, consultation_id=consultation_id,
                            theme_id=reviewed["lonely"], search="driving")  # fmt: skip
    (moved,) = page.answers
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug="example")
        latest = themes.latest_run(session=session, consultation_id=consultation.id or 0)
        assert latest is not None
        codebook.code_answer(session=session, consultation=consultation, run=latest,
                             answer_id=moved.answer_id, action="move",
                             theme_id=reviewed["buses"], actor="staff:2")  # fmt: skip
    analyse_consultation(db, "example", actor="staff:1", n_themes=4)
    with Session(db) as session:
        coded, _ = coded_answers(session=session, consultation_id=consultation_id)
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "theme.code")).one()
    assert coded[moved.answer_id][0] == reviewed["buses"]
    assert (
        audit.actor == "staff:2" and f"{reviewed['lonely']} -> {reviewed['buses']}" in audit.detail
    )

    # The digest codes new answers, never discovers: the officer's themes are what it shows.
    seed(service, "c", per_topic=1)
    digest_run, _ = analysis_for(db, "example", utcnow())
    assert digest_run is not None
    with Session(db) as session:
        shown = {
            t.theme_id: t.label
            for t in themes.themes_of_run(session=session, run_id=digest_run.id or 0)
        }
        consultation = store.require_consultation(session=session, slug="example")
        deck = themes_to_prioritise(session, consultation)
    assert all(shown[t] == names[topic] for topic, t in reviewed.items())
    # A prioritise round takes reviewed themes only.
    assert {t.theme_id for t in deck} <= set(reviewed.values())

    # A decision: a preview, then exactly the residents coded to the theme now.
    shown_preview = preview(db, "example", reviewed["mould"])
    assert shown_preview.raised == 7 and len(shown_preview.samples) == 3
    result = decide(db, "example", reviewed["mould"], "We will inspect every damp home.",
                    actor="staff:1")  # fmt: skip
    with Session(db) as session:
        told = session.exec(
            select(Resident.pseudonym)
            .join(BroadcastRecipient, BroadcastRecipient.resident_id == Resident.id)
            .where(BroadcastRecipient.broadcast_id == result.broadcast_id)
        ).all()
        coded, _ = coded_answers(session=session, consultation_id=consultation_id)
        in_theme = {
            r
            for a, given in coded.items()
            if reviewed["mould"] in given
            for r in [session.get(Answer, a).resident_id]  # type: ignore[attr-defined, union-attr]
        }
    assert result.residents == len(told) == len(in_theme) == 7
    assert set(newcomers.values()) == set(SUBJECTS)


def test_a_proposed_theme_is_not_decided_on(service: ConversationService, db: Engine) -> None:
    seed(service, "a")
    analyse_consultation(db, "example", actor="staff:1", n_themes=6)
    proposed = next(iter(listed(db)))
    with pytest.raises(DecisionError, match="not reviewed"):
        decide(db, "example", proposed, "We decided something useful.", actor="staff:1")


def test_not_a_need_keeps_an_answer_out_of_every_theme(
    service: ConversationService, db: Engine
) -> None:
    seed(service, "a")
    run = analyse_consultation(db, "example", actor="staff:1", n_themes=6).run
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug="example")
        consultation_id = consultation.id or 0
        answer_id = session.exec(
            select(AnswerTheme.answer_id).where(AnswerTheme.run_id == run.id)
        ).first()
        assert answer_id is not None
        codebook.code_answer(session=session, consultation=consultation, run=run,
                             answer_id=answer_id, action="not-a-need", theme_id=None,
                             actor="staff:3")  # fmt: skip
    for n_themes in (None, 3):
        analyse_consultation(db, "example", actor="staff:1", n_themes=n_themes)
        with Session(db) as session:
            coded, _ = coded_answers(session=session, consultation_id=consultation_id)
            pool = answers_page(session=session, consultation_id=consultation_id,
                                theme_id=None, per_page=100)  # fmt: skip
        assert answer_id not in coded
        assert answer_id not in {a.answer_id for a in pool.answers}


def test_the_coder_codes_alike_answers_alike_and_leaves_strangers_uncoded() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(4, 16, dtype=np.float32)
    examples = np.vstack([c + 0.05 * rng.standard_normal((20, 16)) for c in centres[:3]])
    labels = np.repeat([10, 20, 30], 20)
    coder = ThemeCoder(min_similarity=0.5).fit(examples, labels)
    new = np.vstack([centres[:3] + 0.05 * rng.standard_normal((3, 16)), centres[3:]])
    assert coder.predict(new).tolist() == [10, 20, 30, NOT_CODED]
    # An officer's "not a need" teaches: an answer just like it is left uncoded too.
    taught = ThemeCoder(min_similarity=0.5).fit(
        np.vstack([examples, centres[:1]]), np.append(labels, NOT_A_NEED),
        np.append(np.zeros(60, bool), True),
    )  # fmt: skip
    assert taught.predict(centres[:1] + 0.001).tolist() == [NOT_CODED]
    # The same examples give the same codes, run after run.
    again = ThemeCoder(min_similarity=0.5).fit(examples, labels)
    assert (again.predict(new) == coder.predict(new)).all()


@pytest.mark.slow  # command-line processes or a service killed and restarted
def test_the_command_line_lists_codes_and_exports_the_codebook(
    service: ConversationService, db: Engine, db_url: str, tmp_path: Path
) -> None:
    seed(service, "a")
    analyse_consultation(db, "example", actor="staff:1", n_themes=6)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', "utf-8")
    listed = json.loads(needsfirst(config, "theme", "list", "example", "--format", "json").stdout)
    assert listed and all(set(t) == {"id", "name", "size", "reviewed"} for t in listed)
    assert not any(t["reviewed"] for t in listed)
    chosen, other = listed[0]["id"], listed[1]["id"]
    done = needsfirst(config, "theme", "rename", "example", str(chosen), "Buses stop too early")
    assert done.returncode == 0, done.stderr
    page = needsfirst(config, "theme", "answers", "example", str(other))
    answer_id = int(page.stdout.split()[0])
    coded = needsfirst(config, "theme", "code", "example", str(answer_id), "--add", str(chosen))
    assert coded.returncode == 0, coded.stderr
    assert f"answer {answer_id}: {other}, {chosen}" in coded.stderr
    refused = needsfirst(config, "theme", "code", "example", "99999", "--not-a-need")
    assert refused.returncode == 2 and "no answer 99999" in refused.stderr
    listed = json.loads(needsfirst(config, "theme", "list", "example", "--format", "json").stdout)
    assert {t["id"]: t["reviewed"] for t in listed}[chosen]
    assert {t["id"]: t["name"] for t in listed}[chosen] == "Buses stop too early"
    exported = needsfirst(config, "export", "example", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    needs = [r for r in rows if r["question"] == "need"]
    assert needs and all(r["themes"] for r in needs)
    both = [r for r in needs if r["themes"] == f"{other};{chosen}"]
    assert len(both) == 1 and both[0]["theme_names"].endswith("; Buses stop too early")
    assert all(r["themes"] == "" for r in rows if r["question"].startswith("area"))
