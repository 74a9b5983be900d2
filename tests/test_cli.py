"""The `needsfirst` command line, run as residents' data would be: a real process."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.actions.consultations import EXAMPLE_SCRIPT
from conversations.residents.service import ConversationService
from conversations.storage.db import make_engine
from tests.command_line import needsfirst
from tests.example_consultation import Resident_, complete_example


@pytest.fixture
def config(tmp_path: Path, db_url: str, db: Engine) -> Path:
    """The service's configuration, its database made (as `needsfirst run` would)."""
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', encoding="utf-8")
    return path


@pytest.mark.slow  # a dozen command-line processes on each database
def test_load_open_talk_export(config: Path, db_url: str) -> None:
    loaded = needsfirst(config, "consultation", "load", str(EXAMPLE_SCRIPT))
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "example"
    opened = needsfirst(config, "round", "open", "example")
    assert opened.stdout.strip() == "example: round 1 open", opened.stderr
    again = needsfirst(config, "round", "open", "example")
    assert again.returncode == 2 and "already open" in again.stderr

    db = make_engine(db_url)
    try:
        service = ConversationService(db)
        complete_example(
            Resident_(service, "9001"), need="Streetlights out on Mill Lane, it's dark by 4pm"
        )
        complete_example(Resident_(service, "9002"), need="Café prices, “fair” rent, 🏠 and emoji")
    finally:
        db.dispose()

    exported = needsfirst(config, "export", "example", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert {
        "resident",
        "round",
        "question",
        "answer",
        "answered_at",
        "profile_area",
        "profile_age_band",
    } <= set(rows[0])
    needs = [r["answer"] for r in rows if r["question"] == "need"]
    assert sorted(needs) == sorted(
        [
            "Streetlights out on Mill Lane, it's dark by 4pm",
            "Café prices, “fair” rent, 🏠 and emoji",
        ]
    )
    assert {r["profile_area"] for r in rows} == {"north"}
    assert all(len(r["resident"]) == 16 and r["resident"] not in ("9001", "9002") for r in rows)

    out = config.parent / "answers.json"
    as_json = needsfirst(config, "export", "example", "--format", "json", "--out", str(out))
    assert as_json.returncode == 0 and as_json.stdout == ""
    records = json.loads(out.read_text(encoding="utf-8"))
    assert [r["answer"] for r in records] == [r["answer"] for r in rows]

    # Answers are exported as given; --scrub removes personal details.
    db = make_engine(db_url)
    try:
        complete_example(
            Resident_(ConversationService(db), "9003"),
            need="Email me at ann.jones@example.org about the bins",
        )
    finally:
        db.dispose()
    given = needsfirst(config, "export", "example", "--format", "csv")
    assert "ann.jones@example.org" in given.stdout
    scrubbed = needsfirst(config, "export", "example", "--format", "csv", "--scrub")
    assert "ann.jones@example.org" not in scrubbed.stdout and "[email]" in scrubbed.stdout

    closed = needsfirst(config, "round", "close", "example")
    assert closed.stdout.strip() == "example: round 1 closed"


def test_a_bad_script_exits_non_zero_naming_file_and_step(config: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        EXAMPLE_SCRIPT.read_text(encoding="utf-8").replace(
            'back_to = "need"', 'back_to = "nowhere"'
        ),
        encoding="utf-8",
    )
    result = needsfirst(config, "consultation", "load", str(bad))
    assert result.returncode == 2
    assert (
        result.stderr.strip() == f"error: {bad}: step 'another': back_to 'nowhere' is not a step id"
    )


def test_unknown_slug_and_bad_config_are_clear(config: Path, tmp_path: Path) -> None:
    result = needsfirst(config, "export", "nothing-here")
    assert result.returncode == 2 and "no consultation with slug 'nothing-here'" in result.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[web]\nport = 'x'\n", encoding="utf-8")
    result = needsfirst(broken, "round", "open", "example")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {broken}: web.port: must be a whole number, not 'x'"
