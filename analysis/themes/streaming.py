"""Answers streamed in batches, with their embeddings, so memory stays bounded."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

import numpy as np

from analysis.themes.embed import Embedder


def answer_batches(
    texts: Iterable[str],
    embeddings: np.ndarray | Iterable[np.ndarray] | None,
    batch_size: int,
    embedder: Embedder | None,
) -> Iterator[tuple[list[str], np.ndarray | None]]:
    """(texts, embeddings) in batches of `batch_size`: from a matrix, a stream, or `embedder`."""
    text_iter = iter(texts)
    matrix = embeddings if isinstance(embeddings, np.ndarray) else None
    vector_iter = None if embeddings is None or matrix is not None else iter(embeddings)
    offset = 0
    while True:
        batch = [str(t) if t is not None else "" for t in islice(text_iter, batch_size)]
        if not batch:
            return
        vectors = None
        if matrix is not None:  # slices of a stored matrix, not row by row
            vectors = np.asarray(matrix[offset : offset + len(batch)], dtype=np.float32)
            offset += len(batch)
        elif vector_iter is not None:
            vectors = np.vstack(list(islice(vector_iter, len(batch)))).astype(np.float32)
        elif embedder is not None:
            vectors = embedder.embed(batch)
        yield batch, vectors


def chain_head(
    head: list[str],
    head_vectors: np.ndarray | None,
    rest: Iterator[tuple[list[str], np.ndarray | None]],
) -> Iterator[tuple[list[str], np.ndarray | None]]:
    """The batch already read, then the rest of the stream."""
    yield head, head_vectors
    yield from rest
