"""Stored answer embeddings: the job, the analysis that reads them, erasure, and splits.

CI has no semantic extra, so these use a small deterministic encoder; the
storage, the job and the analysis path are the real ones.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence

import numpy as np
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, col, select

from analysis.themes.embed import semantic_extra_installed
from bot.actions.analysis_runs import SIGNATURE_FEATURES, split_stored_theme
from bot.actions.answer_vectors import resolve
from bot.actions.theme_runs import analyse_consultation
from bot.config import Config
from bot.scheduling.jobs import Jobs
from conversations.residents.service import ConversationService
from conversations.staff import themes
from conversations.storage import answer_vectors as embeddings
from conversations.storage.models import (
    Answer,
    AnswerEmbedding,
    Resident,
    RunTheme,
    ThemeSplitPart,
    utcnow,
)
from tests.example_consultation import TOPICS, Resident_, complete_example, seed
from tests.test_theme_splits import mixed_theme, topics_by_theme

STOP = frozenset(
    [
        "the",
        "and",
        "our",
        "has",
        "was",
        "are",
        "for",
        "too",
        "any",
        "more",
        "every",
        "from",
        "they",
        "have",
        "that",
        "with",
    ]
)


class FakeEncoder:
    """Hashed words in 32 signed dimensions, unit length: tiny, deterministic, thread-aware."""

    name = "fake-hashed-words-32"
    dimensions = 32

    def __init__(self) -> None:
        self.embedded: list[str] = []
        self.threads: set[str] = set()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        self.threads.add(threading.current_thread().name)
        rows = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, line in enumerate(texts):
            for word in line.lower().split():
                word = "".join(ch for ch in word if ch.isalnum())
                if len(word) > 2 and word not in STOP:
                    code = zlib.crc32(word.encode())
                    rows[row, code % self.dimensions] += 1.0 if code & 1024 else -1.0
            rows[row, 0] += 0.01  # never all zeros
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def themable_answers(db: Engine) -> dict[int, str]:
    with Session(db) as session:
        return dict(
            themes.answers_to_analyse(session=session, consultation_id=1, questions=["need"])
        )


def stored(db: Engine) -> dict[int, AnswerEmbedding]:
    with Session(db) as session:
        return {e.answer_id: e for e in session.exec(select(AnswerEmbedding))}


def centroid_width(db: Engine, run_id: int | None) -> int:
    with Session(db) as session:
        theme = session.exec(select(RunTheme).where(RunTheme.run_id == run_id)).first()
        assert theme is not None
        return len(theme.centroid_json.split(","))


async def test_the_job_embeds_new_answers_once_off_the_event_loop(
    service: ConversationService, db: Engine
) -> None:
    seed(service, "a", copies=1)
    encoder = FakeEncoder()
    jobs = Jobs(Config(), db, None, encoder=encoder)
    await jobs.embed_answers()
    answers = themable_answers(db)
    vectors = stored(db)
    assert len(answers) == 15 and set(vectors) == set(answers)  # only what the analysis reads
    for answer_id, row in vectors.items():
        assert row.model == encoder.name and row.dimensions == 32 and len(row.vector) == 32 * 4
        expected = FakeEncoder().embed([answers[answer_id]])[0]
        assert np.array_equal(embeddings.from_bytes(row.vector), expected)
    assert encoder.threads == {"embedding_0"}  # its own thread, not the loop's
    assert threading.current_thread().name not in encoder.threads

    before = len(encoder.embedded)
    await jobs.embed_answers()
    assert len(encoder.embedded) == before  # nothing is embedded twice
    complete_example(Resident_(service, "late"), need="Streetlights out on Mill Lane")
    await jobs.embed_answers()
    assert encoder.embedded[before:] == ["Streetlights out on Mill Lane"]
    assert len(stored(db)) == 16

    # Without an encoder (no semantic extra) the job does nothing.
    complete_example(Resident_(service, "later"), need="Potholes on the high street")
    await Jobs(Config(), db, None, encoder=None).embed_answers()
    assert len(stored(db)) == 16
    if not semantic_extra_installed():
        assert resolve("auto") is None


async def test_a_tick_stops_at_its_time_and_the_next_goes_on(
    service: ConversationService, db: Engine
) -> None:
    seed(service, "a", copies=1)
    encoder = FakeEncoder()
    jobs = Jobs(Config(), db, None, encoder=encoder)
    jobs.embedder.batch_size = 4
    jobs.embedder.seconds_per_tick = 0.0  # one batch a tick
    await jobs.embed_answers()
    assert len(stored(db)) == 4
    jobs.embedder.seconds_per_tick = 30.0
    await jobs.embed_answers()
    assert len(stored(db)) == 15 and len(encoder.embedded) == 15


def test_the_analysis_uses_stored_vectors_and_embeds_only_the_missing(
    service: ConversationService, db: Engine
) -> None:
    seed(service, "a")
    encoder = FakeEncoder()
    first = analyse_consultation(db, "example", actor="test", n_themes=3, encoder=encoder)
    assert len(encoder.embedded) == 30 and len(stored(db)) == 30  # embedded once, and kept
    assert centroid_width(db, first.run.id) == SIGNATURE_FEATURES + 32
    encoder.embedded.clear()
    again = analyse_consultation(db, "example", actor="test", n_themes=3, encoder=encoder)
    assert encoder.embedded == []  # the weekly run does not embed again
    assert set(again.report["assignments"]) == set(first.report["assignments"])

    new = ["Buses are cancelled without notice", "Damp bedroom walls again and again"]
    for n, need in enumerate(new):
        complete_example(Resident_(service, f"new{n}"), need=need)
    with Session(db) as session, session.begin():  # a resident corrects an answer
        answer = session.exec(select(Answer).where(Answer.step_id == "need")).first()
        assert answer is not None
        answer.value = "The bus stop has no shelter from the rain"
        answer.updated_at = utcnow()
        session.add(answer)
    analyse_consultation(db, "example", actor="test", n_themes=3, encoder=encoder)
    assert sorted(encoder.embedded) == sorted([*new, "The bus stop has no shelter from the rain"])
    assert len(stored(db)) == 32


def test_runs_keep_their_ids_when_embeddings_are_turned_on_and_off(
    service: ConversationService, db: Engine
) -> None:
    seed(service, "a")
    lexical = analyse_consultation(db, "example", actor="test", n_themes=3, encoder=None)
    assert centroid_width(db, lexical.run.id) == SIGNATURE_FEATURES
    ids = {t["id"] for t in lexical.report["themes"]}
    semantic = analyse_consultation(db, "example", actor="test", n_themes=3, encoder=FakeEncoder())
    assert centroid_width(db, semantic.run.id) == SIGNATURE_FEATURES + 32
    assert {t["id"] for t in semantic.report["themes"]} == ids
    assert all(t["status"] != "new" for t in semantic.report["themes"])
    back = analyse_consultation(db, "example", actor="test", n_themes=3, encoder=None)
    assert {t["id"] for t in back.report["themes"]} == ids


def test_a_split_on_a_run_with_embeddings_survives_reruns_with_and_without_them(
    service: ConversationService, db: Engine
) -> None:
    seed(service, "a")
    encoder = FakeEncoder()
    run = analyse_consultation(db, "example", actor="test", n_themes=2, encoder=encoder).run
    assert run.id is not None
    mixed = mixed_theme(db, run.id)
    split = split_stored_theme(db, "example", mixed, actor="staff:9", encoder=encoder)
    with Session(db) as session:
        parts = session.exec(select(ThemeSplitPart)).all()
        assert {len(p.centroid_json.split(",")) for p in parts} == {SIGNATURE_FEATURES + 32}
    (a, _, _), (b, _, _) = split.parts
    part_topic = {p: next(iter(topics_by_theme(db, run.id)[p])) for p in (a, b)}
    seed(service, "b", copies=1)
    # Runs with embeddings and without (the extra removed) code the answers to the parts.
    for choice, n_themes in ((encoder, 2), (None, 3)):
        later = analyse_consultation(
            db, "example", actor="test", n_themes=n_themes, encoder=choice
        ).run
        assert later.id is not None
        by_theme = topics_by_theme(db, later.id)
        assert mixed not in by_theme
        for part in (a, b):  # the parts are in the codebook now: coded to, never dissolved
            assert by_theme[part].most_common(1)[0][0] == part_topic[part], (choice, by_theme)


def test_forget_erases_the_vectors_too(service: ConversationService, db: Engine) -> None:
    seed(service, "a", copies=1)
    ann = Resident_(service, "ann")
    need = "Black mould in the bathroom ceiling at Flat 9 Rose Court"
    complete_example(ann, need=need)
    encoder = FakeEncoder()
    analyse_consultation(db, "example", actor="test", n_themes=3, encoder=encoder)
    with Session(db) as session:
        (ann_id,) = session.exec(select(Answer.id).where(Answer.value == need)).all()
        pseudonym = session.exec(select(Resident.pseudonym).where(Resident.id == 16)).one()
    vector = stored(db)[ann_id].vector
    assert len(stored(db)) == 16
    ann.inbox.extend(service.forget_request(ann.who))
    ann.press("Yes, delete everything")
    assert ann_id not in stored(db) and len(stored(db)) == 15
    # Scan every table: no words, pseudonym or vector of Ann's is left anywhere.
    with db.connect() as connection:
        for table in inspect(db).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                assert "Rose Court" not in " ".join(map(str, row)), table
                assert pseudonym not in " ".join(map(str, row)), table
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        assert bytes(vector) not in bytes(value), table
    with Session(db) as session:
        left = session.exec(
            select(AnswerEmbedding.answer_id).where(col(AnswerEmbedding.answer_id) == ann_id)
        ).all()
        assert left == []


def test_vectors_of_answers_erased_or_corrected_meanwhile_are_not_stored(
    service: ConversationService, db: Engine
) -> None:
    complete_example(Resident_(service, "one"), need=TOPICS["buses"][0])
    (answer_id, said) = next(iter(themable_answers(db).items()))
    vector = FakeEncoder().embed([said])[0]
    with Session(db) as session, session.begin():
        changed = embeddings.Embedded(answer_id, said + " (corrected)", vector)
        gone = embeddings.Embedded(answer_id + 999, said, vector)
        assert embeddings.save_vectors(session=session, model="m", embedded=[changed, gone]) == 0
        kept = embeddings.Embedded(answer_id, said, vector)
        assert embeddings.save_vectors(session=session, model="m", embedded=[kept]) == 1
    with Session(db) as session, session.begin():  # stored again: replaced, not added
        assert embeddings.save_vectors(session=session, model="m", embedded=[kept]) == 1
        assert embeddings.count(session=session, model="m") == 1
