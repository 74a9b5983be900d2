"""`[logging] format = "json"`: one JSON object a line, and never a resident's words,
through a real conversation on the fake Bot API (a disclosure of harm among them)."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from bot import logs
from conversations.storage.db import make_engine
from conversations.storage.models import SafeguardingFlag
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_harness import bot_config, complete_example, expect, running_bot

NEED = "The Quetzalcoatl Parade buses stop at nine and I walk home in the dark"
DISCLOSURE = "My partner hits me when he drinks, ever since the Zebrafinch Arms reopened"
WORDS = ("Quetzalcoatl", "Zebrafinch", "walk home in the dark", "hits me", "get to work on time")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger as `needsfirst run --config` with format = "json" sets it up, into
    a buffer; our own packages at DEBUG, to hold their every line to the rule too."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    buffer = io.StringIO()
    root.handlers = [logging.StreamHandler(buffer)]
    logs.configure("run")
    root.setLevel(logging.INFO)
    logs.use_format("json")
    ours = [logging.getLogger(name) for name in ("bot", "conversations", "analysis")]
    for logger in ours:
        logger.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        for logger in ours:
            logger.setLevel(logging.NOTSET)
        root.handlers, root.level = saved[0], saved[1]


async def test_json_lines_never_hold_residents_words(
    captured: io.StringIO, fake: FakeBotAPI, db_url: str
) -> None:
    async with running_bot(bot_config(fake, db_url)):
        ann, bob = fake.user(6101, first_name="Ann"), fake.user(6102, first_name="Bob")
        await complete_example(ann, NEED)
        await bob.send_command("/start", "example--tenants")
        await expect(bob, "Are you happy to take part?")
        await bob.press("Yes, I'm happy to take part")
        await expect(bob, "Which part of the borough")
        await bob.press("North (Hillside, Oakfield)")
        await expect(bob, "How old are you?")
        await bob.press("35 to 64")
        await expect(bob, "In your own words")
        await bob.send_text(DISCLOSURE)
        await bob.wait_until(lambda: bob.unread > 0)
        logging.getLogger("bot.test").warning("a line with extras", extra={"resident": "r-7f3a"})
    db = make_engine(db_url)
    with Session(db) as session:
        assert session.exec(select(SafeguardingFlag)).all(), "the disclosure raised a flag"
    db.dispose()
    lines = captured.getvalue().splitlines()
    assert len(lines) >= 2, lines  # at least start-up's safeguarding warning and ours
    entries = [json.loads(line) for line in lines]  # every line parses alone
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys(), entry
        assert entry["time"].endswith("Z")
    assert any(e["logger"] == "bot.scheduling.safeguarding_alerts" for e in entries)
    ours = next(e for e in entries if e["message"] == "a line with extras")
    assert ours["resident"] == "r-7f3a" and ours["level"] == "WARNING"
    text = captured.getvalue()
    for words in WORDS:
        assert words not in text, words


def test_a_json_line_carries_extras_and_the_exception() -> None:
    try:
        raise ValueError("a bad value")
    except ValueError:
        record = logging.getLogger("bot.x").makeRecord(
            "bot.x", logging.ERROR, __file__, 1, "broadcast %d stopped", (12,), sys.exc_info(),
            extra={"broadcast": 12, "channel": "telegram", "when": object()},
        )  # fmt: skip
    entry = json.loads(logs.JsonLines().format(record))
    assert entry["message"] == "broadcast 12 stopped" and entry["level"] == "ERROR"
    assert entry["broadcast"] == 12 and entry["channel"] == "telegram"
    assert entry["when"].startswith("<object object")
    assert "ValueError: a bad value" in entry["exception"]
    assert "\n" not in logs.JsonLines().format(record)


def test_text_stays_the_default() -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        logs.use_format("text")
        assert not isinstance(handler.formatter, logs.JsonLines)
        logs.use_format("json")
        assert isinstance(handler.formatter, logs.JsonLines)
    finally:
        root.removeHandler(handler)
