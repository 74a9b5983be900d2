"""`needsfirst pack` and `needsfirst digest --with-pack`, run as an operator runs them."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, select

from conversations.storage.models import AuditEntry
from tests.command_line import needsfirst
from tests.pack_seed import seed_pack


@pytest.fixture
def config(tmp_path: Path, db_url: str, db: Engine) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', encoding="utf-8")
    return path


@pytest.mark.slow  # five command-line processes on each database
def test_pack_writes_by_extension_and_says_what_is_wrong(
    config: Path, db: Engine, tmp_path: Path
) -> None:
    seeded = seed_pack(db)
    out = tmp_path / "buses.pdf"
    made = needsfirst(config, "pack", "example", "--theme", str(seeded.buses), "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # it quotes residents
    first = PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text()
    assert "Evidence pack" in first and "The need in residents' own words" in first

    sheet = tmp_path / "all.xlsx"
    assert needsfirst(config, "pack", "example", "--out", str(sheet)).returncode == 0
    assert "Services" in load_workbook(sheet).sheetnames  # the whole consultation's

    wrong = needsfirst(config, "pack", "example", "--out", str(tmp_path / "pack.docx"))
    assert wrong.returncode == 2
    assert "ends in .docx: name a file ending in .html, .pdf, .csv, .xlsx" in wrong.stderr
    unknown = needsfirst(config, "pack", "example", "--theme", "99", "--out", str(out))
    assert unknown.returncode == 2 and "theme 99 is not a reviewed theme" in unknown.stderr

    report = tmp_path / "digest.html"
    digest = needsfirst(config, "digest", "example", "--with-pack", "--out", str(report))
    assert digest.returncode == 0, digest.stderr
    beside = tmp_path / "digest-pack.pdf"
    assert report.exists() and PdfReader(io.BytesIO(beside.read_bytes())).pages
    alone = needsfirst(config, "digest", "example", "--with-pack")
    assert alone.returncode == 2 and "--with-pack needs --out" in alone.stderr
    with Session(db) as session:
        made_by = session.exec(
            select(AuditEntry.action, AuditEntry.actor).where(AuditEntry.action == "pack.make")
        ).all()
    assert len(made_by) == 3 and all(actor.startswith("cli") for _, actor in made_by)
