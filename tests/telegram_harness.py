"""Running the real bot against the fake Bot API, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from bot.app import Service, prepare_database
from bot.config import Config, ConsultationsConfig, DatabaseConfig, TelegramConfig, WebConfig
from tests.fakes.telegram_api import FakeBotAPI, FakeUser

TOKEN = "123456:TEST-TOKEN"


def bot_config(fake: FakeBotAPI, db_url: str, **telegram: str) -> Config:
    return Config(
        database=DatabaseConfig(url=db_url),
        telegram=replace(
            TelegramConfig(token=TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url),
            **telegram,
        ),
        web=WebConfig(host="127.0.0.1", port=0),
        consultations=ConsultationsConfig(load=("example",), open_first_round=True),
    )


@asynccontextmanager
async def running_bot(config: Config) -> AsyncIterator[Service]:
    """The whole service (bot in polling mode, web server) until the block ends."""
    db = prepare_database(config)
    service = Service(config, db)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
        db.dispose()


async def expect(user: FakeUser, words: str, timeout: float = 30.0) -> str:  # noqa: ASYNC109
    """Wait for a bot message to `user`, after those already read, containing `words`."""
    start = len(user.messages) - user.unread

    def found() -> bool:
        return any(words in text for text in user.texts[start:])

    await user.wait_until(found, timeout=timeout)
    user.mark_read()
    return next(text for text in user.texts[start:] if words in text)


async def complete_example(user: FakeUser, need: str, *, slug: str = "example--tenants") -> None:
    """Go through the example consultation as a resident would, with one need."""
    await user.send_command("/start", slug)
    await expect(user, "Are you happy to take part?")
    await user.press("Yes, I'm happy to take part")
    await expect(user, "Which part of the borough")
    await user.press("North (Hillside, Oakfield)")
    await expect(user, "How old are you?")
    await user.press("35 to 64")
    await expect(user, "In your own words")
    await user.send_text(need)
    await expect(user, "Who else does this affect?")
    await user.press("▫️ My family or household")
    await user.wait_until(lambda: "✅ My family or household" in user.last_keyboard_labels())
    await user.press("Done")
    await expect(user, "what difference would it make")
    await user.send_text("I could get to work on time.")
    await expect(user, "Here is what I heard")
    await user.press("Yes, that's right")
    await expect(user, "Is there something else")
    await user.press("No")
    await expect(user, "any ideas for what would help")
    await user.press("No, that's all")
    await expect(user, "Thank you for taking part")
