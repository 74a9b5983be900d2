"""CSV input errors and the JSON report of `needsfirst analyse`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.themes.csv_input import AnalysisInputError, read_texts
from analysis.themes.model import ThemeModel
from analysis.themes.report import themes_json
from analysis.themes.tracking import (
    current_themes,
    track,
)
from tests.test_themes_data import synthetic_answers


def _write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "answers.csv"
    path.write_bytes(content)
    return path


def test_reads_the_text_column_with_or_without_bom(tmp_path: Path) -> None:
    path = _write(tmp_path, '\ufeffid,text\n1,Late buses\n2,\n3,"Rent, too high"\n'.encode())
    assert read_texts(path) == ["Late buses", "", "Rent, too high"]


def test_missing_column_names_the_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, b"id,answer\n1,late buses\n2,high rent\n")
    with pytest.raises(AnalysisInputError, match=r"no column 'text'.*'id', 'answer'"):
        read_texts(path)
    assert read_texts(path, text_column="answer") == ["late buses", "high rent"]


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(AnalysisInputError, match="empty"):
        read_texts(_write(tmp_path, b""))


def test_wrong_encoding_says_where(tmp_path: Path) -> None:
    path = _write(tmp_path, "text\nlate buses\ncaf\u00e9 closed\n".encode("latin-1"))
    with pytest.raises(AnalysisInputError, match=r"UTF-8 \(byte 0xe9 at offset \d+, line 3\)"):
        read_texts(path)


def test_one_row_is_not_enough_for_themes(tmp_path: Path) -> None:
    with pytest.raises(AnalysisInputError, match="at least 2 non-empty answers"):
        read_texts(_write(tmp_path, b"text\nlate buses\n"))
    with pytest.raises(AnalysisInputError, match="at least 2"):
        read_texts(_write(tmp_path, b"text\nlate buses\nnothing\n\n"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AnalysisInputError, match="cannot read"):
        read_texts(tmp_path / "absent.csv")


def test_report_shape() -> None:
    texts, _ = synthetic_answers(per_theme=25)
    texts = [*texts, "nothing", "rent is too high and the buses stop at 7 in the evening"]
    model = ThemeModel(n_themes=4).fit(texts)
    report = themes_json(model, texts)
    json.dumps(report)  # serialisable as is
    assert {"themes", "assignments"} <= set(report)
    for theme in report["themes"]:
        assert {"id", "label", "keywords", "size", "quotes", "domains"} <= set(theme)
    assert len(report["assignments"]) == len(texts)
    assert report["assignments"][-2] is None
    ids = {t["id"] for t in report["themes"]}
    assert {a for a in report["assignments"] if a is not None} <= ids
    assert sum(t["size"] for t in report["themes"]) == len(texts) - 1
    assert len(report["secondary"][-1]) >= 1


def test_report_with_tracking_uses_persistent_ids() -> None:
    texts, _ = synthetic_answers(per_theme=25)
    model = ThemeModel(n_themes=4).fit(texts)
    current = current_themes(
        [t.label for t in model.themes_], model.centroids_, [t.size for t in model.themes_]
    )
    tracking = track([], current)
    report = themes_json(model, texts, tracking)
    assert {t["status"] for t in report["themes"]} == {"new"}
    assert set(report["assignments"]) == {t.id for t in tracking.themes}
