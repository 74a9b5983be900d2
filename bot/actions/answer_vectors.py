"""Answers' sentence embeddings: computed once, off the resident's path, and stored.

Only with the optional semantic extra (`pip install 'needsfirst[semantic]'`).
The scheduler's `embeddings` job embeds the answers the theme analysis reads as
they arrive, a batch at a time, in a thread of its own (never the event loop,
never the database thread), and stores each vector (conversations.storage.answer_vectors).
The analysis then reads the stored vectors, embedding only the few still
missing, so the weekly run does not embed every answer again. Without the extra
there is no encoder: the job does nothing and the analysis is lexical.

The encoder is injectable (tests use a small deterministic one): anything with
a `name` and an `embed(texts)` returning one vector per text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Literal

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from analysis.themes.embed import EMBEDDERS, NamedEmbedder, SemanticExtraMissing, model_installed
from analysis.themes.languages import EMBEDDING_MODELS
from conversations.storage import answer_vectors as embeddings
from conversations.storage import store
from conversations.storage.scripts import ScriptCache

log = logging.getLogger(__name__)
EncoderChoice = NamedEmbedder | None | Literal["auto"]
BATCH = 128  # answers per encoder call in the job
STORE_BATCH = 1000  # vectors per transaction when the analysis stores missing ones


_chosen = [EMBEDDING_MODELS[0]]  # [themes] embedding_model, set at start-up


def use_model(name: str) -> None:
    """Make `name` ([themes] embedding_model, checked when the config was read) the
    model that "auto" means in this process."""
    if name not in EMBEDDERS:
        raise ValueError(f"unknown embedding model {name!r}")
    if name != _chosen[0]:
        _chosen[0] = name
        installed_encoder.cache_clear()


@cache
def installed_encoder() -> NamedEmbedder | None:
    """The chosen model's embedder when the semantic extra is installed (one per process),
    else None."""
    name = _chosen[0]
    return EMBEDDERS[name]() if model_installed(name) else None


def resolve(encoder: EncoderChoice) -> NamedEmbedder | None:
    """`"auto"`: the installed extra's embedder, if any; otherwise the encoder given."""
    return installed_encoder() if encoder == "auto" else encoder


def answer_vectors(db: Engine, encoder: NamedEmbedder, answer_ids: Sequence[int],
                   texts: Sequence[str]) -> np.ndarray:  # fmt: skip
    """One vector per answer, row for row: stored ones, and missing ones embedded and stored.

    Raises SemanticExtraMissing when vectors are missing and the extra cannot load."""
    position = {answer_id: row for row, answer_id in enumerate(answer_ids)}
    matrix: np.ndarray | None = None
    found = np.zeros(len(answer_ids), dtype=bool)
    with Session(db) as session:
        for answer_id, vector in embeddings.stored_vectors(
            session=session, model=encoder.name, answer_ids=answer_ids
        ):
            if matrix is None:
                matrix = np.empty((len(answer_ids), len(vector)), dtype=np.float32)
            if len(vector) == matrix.shape[1]:
                matrix[position[answer_id]] = vector
                found[position[answer_id]] = True
    missing = np.flatnonzero(~found)
    if len(missing):
        log.info("embedding %d answers that have no stored vector", len(missing))
    try:
        matrix = _embed(db, encoder, answer_ids, texts, missing, matrix)
    except _WidthChanged:
        log.warning("stored vectors of %s have another width: embedding every answer again",
                    encoder.name)  # fmt: skip
        matrix = _embed(db, encoder, answer_ids, texts, np.arange(len(answer_ids)), None)
    return matrix if matrix is not None else np.zeros((len(answer_ids), 0), dtype=np.float32)


class _WidthChanged(Exception):
    """The encoder's vectors are not as wide as the stored ones."""


def _embed(db: Engine, encoder: NamedEmbedder, answer_ids: Sequence[int], texts: Sequence[str],
           rows: np.ndarray, matrix: np.ndarray | None) -> np.ndarray | None:  # fmt: skip
    """Embed and store the given rows, filling them into `matrix` (made when None)."""
    for start in range(0, len(rows), STORE_BATCH):
        chunk = rows[start : start + STORE_BATCH]
        chunk_texts = [texts[int(i)] for i in chunk]
        vectors = np.asarray(encoder.embed(chunk_texts), dtype=np.float32)
        if matrix is None:
            matrix = np.empty((len(answer_ids), vectors.shape[1]), dtype=np.float32)
        elif matrix.shape[1] != vectors.shape[1]:
            raise _WidthChanged
        matrix[chunk] = vectors
        _store(db, encoder.name, [answer_ids[int(i)] for i in chunk], chunk_texts, vectors)
    return matrix


def _store(db: Engine, model: str, answer_ids: Sequence[int], texts: Sequence[str],
           vectors: np.ndarray) -> int:  # fmt: skip
    rows = [
        embeddings.Embedded(answer_id, text, vector)
        for answer_id, text, vector in zip(answer_ids, texts, vectors, strict=True)
    ]
    try:
        with Session(db) as session, session.begin():
            return embeddings.save_vectors(session=session, model=model, embedded=rows)
    except IntegrityError:
        # Another writer stored (or erased) one of them meanwhile; the next pass catches up.
        log.info("answer vectors not stored this time: they changed meanwhile", exc_info=True)
        return 0


class AnswerEmbedder:
    """The scheduler's job: embed answers that have no stored vector, in batches.

    Each tick works for at most `seconds_per_tick`, then yields until the next
    one. It remembers, per consultation, the highest answer id it has seen done,
    so a tick costs one small query once it has caught up (after a restart it
    checks every answer once). An answer corrected after it was embedded is
    embedded again by the next analysis, which checks every vector's version.
    """

    def __init__(self, db: Engine, encoder: NamedEmbedder | None, *, batch_size: int = BATCH,
                 seconds_per_tick: float = 10.0) -> None:  # fmt: skip
        self.db = db
        self.encoder = encoder
        self.batch_size = batch_size
        self.seconds_per_tick = seconds_per_tick
        self.scripts = ScriptCache()
        self._done_up_to: dict[int, int] = {}
        self._pool: ThreadPoolExecutor | None = None

    async def run(self) -> int:
        """One tick: embed and store what is waiting, within the time allowed; how many."""
        encoder = self.encoder
        if encoder is None:
            return 0
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedding")
        deadline = time.monotonic() + self.seconds_per_tick
        stored = 0
        for consultation_id, questions in await asyncio.to_thread(self._consultations):
            while True:  # at least one batch a tick, then while there is time
                pending, top = await asyncio.to_thread(self._pending, consultation_id, questions)
                if pending:
                    texts = [text for _, text in pending]
                    try:
                        vectors = await asyncio.get_running_loop().run_in_executor(
                            self._pool, encoder.embed, texts
                        )
                    except SemanticExtraMissing:
                        log.warning("answer embeddings are off: the semantic extra cannot load",
                                    exc_info=True)  # fmt: skip
                        self.encoder = None
                        return stored
                    ids = [answer_id for answer_id, _ in pending]
                    stored += await asyncio.to_thread(
                        _store, self.db, encoder.name, ids, texts, np.asarray(vectors)
                    )
                if len(pending) < self.batch_size:
                    self._done_up_to[consultation_id] = top
                    break
                self._done_up_to[consultation_id] = pending[-1][0]
                if time.monotonic() >= deadline:
                    break
            if time.monotonic() >= deadline:
                break
        if stored:
            log.info("embedded %d answers", stored)
        return stored

    def _consultations(self) -> list[tuple[int, list[str]]]:
        with Session(self.db) as session:
            return [
                (c.id, self.scripts.get(c).theme_steps())
                for c in store.all_consultations(session=session)
                if c.id is not None
            ]

    def _pending(self, consultation_id: int, questions: list[str]) -> tuple[list[tuple[int, str]], int]:  # fmt: skip
        assert self.encoder is not None
        with Session(self.db) as session:
            top = embeddings.latest_answer_id(session=session, consultation_id=consultation_id)
            pending = embeddings.not_embedded(
                session=session,
                consultation_id=consultation_id,
                questions=questions,
                model=self.encoder.name,
                after_id=self._done_up_to.get(consultation_id, 0),
                up_to_id=top,
                limit=self.batch_size,
            )
        return pending, top

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
