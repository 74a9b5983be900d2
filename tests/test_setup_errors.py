"""A first-time operator's set-up mistakes get an answer naming the file (or variable),
the key and what is wrong: never a traceback, never silence, never a new empty database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.config import ConfigError
from bot.config_loading import load_config
from tests.command_line import needsfirst

BAD_URLS = [
    ("not a url at all", "is not a database URL"),
    ("nosuchdb+driver://user@host/db", "unknown database kind"),
    ("postgresql+psycopg://nobody:secret-pw@127.0.0.1:1/none", "cannot reach"),
]


@pytest.mark.parametrize(("url", "problem"), BAD_URLS)
@pytest.mark.parametrize("command", [("consultation", "list"), ("run",)])
def test_a_bad_database_url_names_the_file_and_the_key(
    tmp_path: Path, url: str, problem: str, command: tuple[str, ...]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    result = needsfirst(config, *command)
    assert result.returncode == 2, result.stderr
    assert f"error: {config}: database.url: " in result.stderr, result.stderr
    assert problem in result.stderr and "Traceback" not in result.stderr
    assert "secret-pw" not in result.stderr


def test_a_bad_database_url_from_the_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"NEEDSFIRST_DATABASE_URL": "::nonsense::"})
    assert caught.value.source == "environment NEEDSFIRST_DATABASE_URL"
    assert caught.value.key == "database.url"


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("NEEDSFIRST_SCHEDULER_ENABLED", "flase", "must be true or false"),
        ("NEEDSFIRST_REMINDERS_ENABLED", "", "must be true or false"),
        ("NEEDSFIRST_WEB_PORT", "٣", "must be a whole number"),
        ("NEEDSFIRST_WEB_PORT", "99999999999999999999999", "must be a whole number"),
        ("NEEDSFIRST_STAFF_ADMINS", "12,²", "must be a whole number"),
    ],
)
def test_environment_variables_are_checked_like_the_file(
    variable: str, value: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, {variable: value})
    assert caught.value.source == f"environment {variable}"
    assert problem in caught.value.problem


def test_booleans_in_the_environment_say_what_they_mean() -> None:
    for word, meaning in (("false", False), ("0", False), ("Off", False), ("TRUE", True)):
        found = load_config(None, {"NEEDSFIRST_SCHEDULER_ENABLED": word})
        assert found.scheduler.enabled is meaning, word


def test_unknown_needsfirst_variables_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"NEEDSFIRST_SCHEDULER_ENABLE": "false", "NEEDSFIRST_TEST_X": "1"})
    assert caught.value.key == "NEEDSFIRST_SCHEDULER_ENABLE"  # the test suite's are not config
    assert "NEEDSFIRST_SCHEDULER_ENABLED" in caught.value.problem
    assert "NEEDSFIRST_TELEGRAM_TOKEN" in caught.value.problem


def test_a_digest_time_in_other_digits_is_a_config_error() -> None:
    for time in ("²9:00", "٠٩:٠٠", "24:00", "9:00"):
        with pytest.raises(ConfigError, match=r"digest\.time"):
            load_config(None, {"NEEDSFIRST_DIGEST_TIME": time})


def cli_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line run in `folder`, with no --config: as an operator in the wrong folder."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NEEDSFIRST_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=folder, env=environ,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_cli_in_another_folder_does_not_make_a_new_empty_database(tmp_path: Path) -> None:
    refused = cli_in(tmp_path, "consultation", "list")
    assert refused.returncode == 2, refused.stderr
    assert f"no config.toml here: using the SQLite file {tmp_path / 'needsfirst.db'}" in (
        refused.stderr
    )
    assert "there is no database at" in refused.stderr and "--create" in refused.stderr
    assert not (tmp_path / "needsfirst.db").exists()
    made = cli_in(tmp_path, "consultation", "list", "--create")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "needsfirst.db").exists()
    again = cli_in(tmp_path, "consultation", "list")  # now there is one, it is used
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("export", "example", "--out", "{missing}/answers.csv"),
        ("digest", "example", "--out", "{missing}/digest.html"),
        ("analyse", "{data}", "--out", "{missing}/themes.json"),
        ("export", "example", "--out", "{folder}"),
    ],
)
def test_out_into_a_missing_folder_is_a_clear_error(
    tmp_path: Path, db_url: str, db: Engine, args: tuple[str, ...]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    data = tmp_path / "answers.csv"
    data.write_text("text\nBuses stop early\n", encoding="utf-8")
    places = {"missing": str(tmp_path / "no" / "such"), "data": str(data), "folder": str(tmp_path)}
    result = needsfirst(config, *(arg.format(**places) for arg in args))
    assert result.returncode == 2, result.stderr
    assert "error: argument --out: " in result.stderr and "Traceback" not in result.stderr
    assert "does not exist" in result.stderr or "is a folder" in result.stderr
