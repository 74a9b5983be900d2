"""`needsfirst import`: the preview and every error printed, exit 2 with nothing written
when rows are bad, a dry run writing nothing, and batches listed and removed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.cli.commands import main
from conversations.storage.models import AuditEntry, ImportBatch, Resident
from tests.command_line import needsfirst
from tests.test_imports import GOOD, count, csv_bytes


@pytest.fixture
def config(tmp_path: Path, db_url: str, db: Engine) -> Path:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    return path


def test_import_preview_errors_and_removal_from_the_command_line(
    config: Path, db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*args: str) -> int:
        return main([*args, "--config", str(config)])

    maps = ("--map", "Timestamp=", "--map", "Comments=difference")
    good = tmp_path / "forms.csv"
    good.write_bytes(csv_bytes(GOOD))
    assert run("import", "example", str(good), "--source", "forms", *maps, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "3 row(s) to import, 10 answer(s), 0 safeguarding flag(s)" in out
    assert "column 'Timestamp' -> (left out)" in out and "area: north 1, south 1" in out
    assert "dry run: nothing was written" in out and count(db, Resident) == 0

    assert run("import", "example", str(good), "--source", "forms", *maps) == 0
    assert "imported batch 1: 3 row(s), 10 answer(s) from 'forms'" in capsys.readouterr().out
    assert run("import", "list", "example") == 0
    listed = capsys.readouterr().out
    assert (
        listed.startswith("1\t")
        and "\tforms\t3 rows\t10 answers\t0 flags\tforms.csv\tcli:" in listed
    )

    assert run("import", "example", str(good), "--source", "forms") == 2  # Timestamp unmapped
    assert "column 'Timestamp' matches no question" in capsys.readouterr().err
    assert run("import", "example", str(good), "--source", "forms", "--map", "oops") == 2
    assert "--map takes COLUMN=QUESTION" in capsys.readouterr().err

    assert run("import", "remove", "1", "--yes") == 0
    assert "removed batch 1: 3 resident(s), 10 answer(s)" in capsys.readouterr().out
    assert count(db, Resident) == 0
    with Session(db) as session:
        assert session.exec(select(ImportBatch.removed_by)).one().startswith("cli:")
        actions = session.exec(select(AuditEntry.action)).all()
    assert "import.batch" in actions and "import.remove" in actions
    assert run("import", "remove", "1", "--yes") == 2
    assert "removed already" in capsys.readouterr().err
    assert run("import", "remove", "one", "--yes") == 2


def test_bad_rows_exit_2_naming_each_row_with_nothing_written(
    config: Path, db: Engine, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes([["", "Soth", "", "Buses", "", ""], GOOD[0], ["", "", "", "", "", "x"]])
    )
    result = needsfirst(config, "import", "example", str(bad), "--source", "forms",
                        "--map", "Timestamp=", "--map", "Comments=difference")  # fmt: skip
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: row")]
    assert errors == [
        "error: row 2, column 'Which part of the borough do you live in?': 'Soth' is not one "
        "of the options of 'area' (north, central, south, outside, prefer-not)",
        "error: row 4, column 'need': empty, and every row must answer 'need'",
    ]
    assert "nothing was imported: 2 row(s) cannot be read" in result.stderr
    assert count(db, Resident) == 0 and count(db, ImportBatch) == 0
