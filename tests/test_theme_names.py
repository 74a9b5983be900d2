"""Theme names read as a phrase an officer would write, not a fragment (issue 15 item 6)."""

from __future__ import annotations

import numpy as np

from analysis.themes.describe import describe_groups, keyword_weights
from analysis.themes.model import ThemeModel
from analysis.themes.naming import clause_pieces, is_whole_clause, theme_name
from analysis.themes.normalise import Normaliser
from tests.test_themes_data import SIX_SUBJECTS, six_subject_answers


def weights_of(groups: list[list[str]]) -> list[dict[str, float]]:
    normaliser = Normaliser()
    return keyword_weights([[normaliser.content_stems(t) for t in g] for g in groups])


def test_clauses_break_at_punctuation_and_joining_words() -> None:
    text = "The buses stop at 7pm so I can't get home, and taxis cost too much."
    assert clause_pieces(text) == [
        "The buses stop at 7pm",
        "I can't get home",
        "taxis cost too much",
    ]


def test_a_fragment_is_not_a_whole_clause() -> None:
    texts = ["Older people stay at home and feel very isolated"]
    assert not is_whole_clause("home and feel very isolated", texts)
    assert not is_whole_clause("feel very", texts)  # mid-clause
    assert is_whole_clause("feel very isolated", texts)
    assert not is_whole_clause("isolated", texts)  # one word is a keyword, not a name


def test_each_subject_is_named_by_a_whole_clause_about_it() -> None:
    groups = list(SIX_SUBJECTS.values())
    words_of_subject = {
        "buses": "bus",
        "gp": "gp",
        "damp": "mould",
        "lights": "light",
        "loneliness": "",
        "youth": "young",
    }
    for (subject, texts), weights in zip(SIX_SUBJECTS.items(), weights_of(groups), strict=True):
        name = theme_name(weights, texts, np.ones(len(texts)))
        assert is_whole_clause(name, texts), name
        assert name[0].isupper() and len(name.split()) <= 9
        assert words_of_subject[subject] in name.lower(), (subject, name)


def test_a_clause_about_the_need_beats_one_about_the_resident() -> None:
    texts = ["My husband and I have damp in the bedroom", "Damp in the bedroom walls"] * 2
    name = theme_name(weights_of([texts, ["buses are late"]])[0], texts)
    assert name == "Damp in the bedroom walls"


def test_names_are_scrubbed_of_personal_details() -> None:
    texts = [
        "Call me on 07700 900123 about the broken street lights",
        "Call me on 07700 900123 about the broken street lights",
        "broken street lights",
    ]
    theme = describe_groups([texts], [np.array([1.0, 0.9, 0.1])])[0]
    assert "07700" not in theme.label and "900123" not in theme.label


def test_the_model_names_the_six_subjects_with_clauses() -> None:
    texts, _ = six_subject_answers()
    model = ThemeModel(random_state=0).fit(texts)
    members = [[t for t, label in zip(texts, model.labels_, strict=True) if label == c]
               for c in range(model.n_themes_)]  # fmt: skip
    for theme, group in zip(model.themes_, members, strict=True):
        assert is_whole_clause(theme.label, group), theme.label
