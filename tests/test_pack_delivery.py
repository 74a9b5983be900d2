"""`needsfirst digest SLUG --send --with-pack`, run as an operator runs it: the whole
consultation's evidence pack goes as one more part of each officer's digest (counted
before it is sent, so never twice), and the same PDF is written beside --out."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from conversations.storage.models import AuditEntry, Digest, DigestDelivery
from tests.fakes.telegram_api import FakeBotAPI
from tests.pack_seed import seed_pack
from tests.telegram_harness import TOKEN


@pytest.mark.slow  # a command-line process on each database
async def test_digest_send_with_pack_sends_it_once_to_each_officer(
    fake: FakeBotAPI, db: Engine, db_url: str, tmp_path: Path
) -> None:
    seed_pack(db)
    fake.user(201, started=True)
    fake.user(202, started=True)
    fake.blocked.add(202)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n'
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{fake.base_url}"\n'
        "[staff]\nofficers = [201, 202]\n",
        encoding="utf-8",
    )
    report = tmp_path / "digest.html"
    command = [sys.executable, "-m", "bot.cli", "digest", "example", "--send", "--with-pack",
               "--out", str(report), "--config", str(config)]  # fmt: skip
    child = await asyncio.create_subprocess_exec(
        *command, env=os.environ | {"PYTHONPATH": os.getcwd()}, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 0, stderr.decode()
    assert "officers: 1 blocked, 1 sent" in stderr.decode()

    documents = fake.user(201).documents
    assert [d.filename.rpartition(".")[2] for d in documents if d.filename] == [
        "html",
        "csv",
        "pdf",
    ]
    beside = (tmp_path / "digest-pack.pdf").read_bytes()
    assert documents[2].data == beside and beside.startswith(b"%PDF")  # made once
    assert fake.user(202).documents == []
    with Session(db) as session:
        states = {d.officer_id: d.state for d in session.exec(select(DigestDelivery))}
        assert states == {201: "sent", 202: "blocked"}
        digest = session.exec(select(Digest)).one()
        assert digest.with_pack and digest.cleared_at is not None and digest.pack is None
        (made,) = session.exec(select(AuditEntry).where(AuditEntry.action == "pack.make")).all()
        assert made.actor.startswith("cli")
