"""Killing `needsfirst run` mid-conversation (SIGKILL) loses no answer; the resident carries on."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from conversations.storage.db import make_engine
from conversations.storage.models import Answer
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_harness import TOKEN, expect


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_service(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


@pytest.mark.slow  # command-line processes or a service killed and restarted
async def test_sigkill_mid_conversation_loses_nothing(tmp_path: Path) -> None:
    async with FakeBotAPI() as fake:
        db_url = f"sqlite:///{tmp_path / 'needsfirst.db'}"
        config = tmp_path / "config.toml"
        config.write_text(
            f'[database]\nurl = "{db_url}"\n'
            f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{fake.base_url}"\n'
            f'base_file_url = "{fake.base_file_url}"\n'
            f"[web]\nport = {free_port()}\n",
            encoding="utf-8",
        )
        ann = fake.user(7001)
        process = start_service(config)
        try:
            await ann.send_command("/start")
            await expect(ann, "Are you happy to take part?", timeout=30)
            await ann.press("Yes, I'm happy to take part")
            await expect(ann, "Which part of the borough")
            await ann.press("Central (Town centre, Quayside)")
            await expect(ann, "How old are you?")
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

        process = start_service(config)
        try:
            await ann.send_text("18 to 34")  # typed, not pressed: the same question, carried on
            await expect(ann, "In your own words", timeout=30)
            await ann.send_text("The library closes before I finish work.")
            await expect(ann, "Who else does this affect?")
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.wait, 20)
        assert process.returncode == 0, process.stderr.read().decode() if process.stderr else ""

    db = make_engine(db_url)
    with Session(db) as session:
        rows = session.exec(select(Answer.step_id, Answer.value).order_by(Answer.id)).all()  # type: ignore[arg-type]
    db.dispose()
    assert [tuple(r) for r in rows] == [
        ("area", "central"),
        ("age", "18-34"),
        ("need", "The library closes before I finish work."),
    ]
