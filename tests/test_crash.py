"""Crashes at the worst moments lose nothing: updates are written down before they are
confirmed, handled again after a restart, and answered exactly once.

python-telegram-bot confirms a batch of updates when it asks for the next, which can
be before their handlers have run. Here the bot process is killed (SIGKILL) while a
handler is stuck on a Bot API call, before and after it stored the answer.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from conversations.storage.db import make_engine
from conversations.storage.models import Answer, PendingUpdate
from tests.fakes.telegram_api import FakeBotAPI, Fault
from tests.telegram_harness import TOKEN, expect
from tests.test_restart import free_port, start_service


def write_config(path: Path, fake: FakeBotAPI, db_url: str) -> Path:
    path.write_text(
        f'[database]\nurl = "{db_url}"\n'
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "{fake.base_url}"\n'
        f'base_file_url = "{fake.base_file_url}"\n'
        f"[web]\nport = {free_port()}\n",
        encoding="utf-8",
    )
    return path


async def kill(process: object) -> None:
    assert hasattr(process, "pid")
    os.killpg(process.pid, signal.SIGKILL)
    await asyncio.to_thread(process.wait, 10)  # type: ignore[attr-defined]


def answers(db_url: str) -> list[tuple[str, str]]:
    db = make_engine(db_url)
    with Session(db) as session:
        rows = session.exec(select(Answer.step_id, Answer.value).order_by(Answer.id)).all()  # type: ignore[arg-type]
    db.dispose()
    return [(step, value) for step, value in rows]


def pending_updates(db_url: str) -> int:
    """Updates written down but not yet handled."""
    db = make_engine(db_url)
    with Session(db) as session:
        count = len(session.exec(select(PendingUpdate)).all())
    db.dispose()
    return count


@pytest.mark.slow
async def test_killed_mid_update_before_and_after_storing(tmp_path: Path) -> None:
    async with FakeBotAPI() as fake:
        db_url = f"sqlite:///{tmp_path / 'needsfirst.db'}"
        config = write_config(tmp_path / "config.toml", fake, db_url)
        ann = fake.user(8001)
        process = start_service(config)
        try:
            await ann.send_command("/start")
            await expect(ann, "Are you happy to take part?", timeout=30)
            # 1. Stuck acknowledging the button, before anything is stored: killed.
            fake.inject_fault("answerCallbackQuery", Fault.hang(60))
            await ann.press("Yes, I'm happy to take part")
            await fake.wait_for_call("answerCallbackQuery", answered=False, timeout=10)
            await asyncio.sleep(0.3)  # the next getUpdates confirms the press to Telegram
        finally:
            await kill(process)
        fake.clear_faults()
        assert fake.pending_update_count == 0  # Telegram has forgotten it: only we remember
        assert answers(db_url) == []  # killed before storing anything
        assert pending_updates(db_url) == 1  # but the press is written down

        process = start_service(config)
        try:
            await expect(ann, "Which part of the borough", timeout=30)
            await ann.press("North (Hillside, Oakfield)")
            await expect(ann, "How old are you?")
            await ann.press("18 to 34")
            await expect(ann, "In your own words")
            # 2. Stuck sending the reply, after the answer was stored: killed.
            fake.inject_fault("sendMessage", Fault.hang(60, then=Fault.error(500)))
            await ann.send_text("The bus stops running at 7pm")
            await fake.wait_for_call("sendMessage", answered=False, timeout=10)
            await asyncio.sleep(0.3)
        finally:
            await kill(process)
        fake.clear_faults()
        assert fake.pending_update_count == 0  # confirmed to Telegram again
        assert answers(db_url)[-1] == ("need", "The bus stops running at 7pm")  # stored
        assert pending_updates(db_url) == 1  # and its reply still owed

        process = start_service(config)
        try:
            await expect(ann, "Who else does this affect?", timeout=30)  # the reply, at last
            await ann.press("▫️ Mainly me")
            await ann.wait_until(lambda: "✅ Mainly me" in ann.last_keyboard_labels())
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.wait, 20)
    assert pending_updates(db_url) == 0, "pending updates are removed once handled"
    assert answers(db_url) == [
        ("area", "north"),
        ("age", "18-34"),
        ("need", "The bus stops running at 7pm"),
    ]
    assert sum("Who else does this affect?" in t for t in ann.texts) == 1
