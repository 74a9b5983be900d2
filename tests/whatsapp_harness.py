"""Running the real service with WhatsApp on, against the fake Cloud API, for tests
and benchmarks: its configuration, a resident's side of the chat, and the journey."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app import Service, prepare_database
from bot.config import Config, ConsultationsConfig, DatabaseConfig, WebConfig, WhatsAppConfig
from tests.fakes.whatsapp_api import FakeWhatsApp

VERIFY_TOKEN = "a-verify-token-of-some-length"
NUMBERED = re.compile(r"^\d+\. ")


def whatsapp_settings(fake: FakeWhatsApp, **changes: object) -> WhatsAppConfig:
    settings = WhatsAppConfig(
        phone_number_id=fake.phone_number_id,
        access_token=fake.access_token,
        app_secret=fake.app_secret,
        verify_token=VERIFY_TOKEN,
        base_url=fake.base_url,
        api_version=fake.api_version,
        throughput=fake.throughput,
    )
    return settings if not changes else WhatsAppConfig(**{**settings.__dict__, **changes})


def whatsapp_config(fake: FakeWhatsApp, db_url: str, *, port: int = 0,
                    **whatsapp: object) -> Config:  # fmt: skip
    return Config(
        database=DatabaseConfig(url=db_url),
        web=WebConfig(host="127.0.0.1", port=port),
        consultations=ConsultationsConfig(load=("example",), open_first_round=True),
        whatsapp=whatsapp_settings(fake, **whatsapp),
    )


def config_file(path: Path, fake: FakeWhatsApp, db_url: str, port: int,
                **whatsapp: str | int) -> Path:  # fmt: skip
    """The same settings as a config.toml, for a service in its own process."""
    more = "".join(
        f"{key} = {value}\n" if isinstance(value, int) else f'{key} = "{value}"\n'
        for key, value in whatsapp.items()
    )
    path.write_text(
        f'[database]\nurl = "{db_url}"\n[web]\nport = {port}\n'
        f'[whatsapp]\nphone_number_id = "{fake.phone_number_id}"\n'
        f'access_token = "{fake.access_token}"\napp_secret = "{fake.app_secret}"\n'
        f'verify_token = "{VERIFY_TOKEN}"\nbase_url = "{fake.base_url}"\n'
        f'api_version = "{fake.api_version}"\nthroughput = {fake.throughput}\n' + more,
        encoding="utf-8",
    )
    return path


@asynccontextmanager
async def running_service(config: Config, fake: FakeWhatsApp) -> AsyncIterator[Service]:
    """The whole service with WhatsApp on; the fake's webhook points at it."""
    db = prepare_database(config)
    service = Service(config, db)
    await service.start()
    assert service.runner is not None
    host, port = service.runner.addresses[0][:2]
    fake.webhook_url = f"http://{host}:{port}/whatsapp/webhook"
    try:
        yield service
    finally:
        await service.stop()
        db.dispose()


class Chat:
    """One WhatsApp user's side: what they have read so far, what they do next."""

    def __init__(self, fake: FakeWhatsApp, wa_id: str) -> None:
        self.fake, self.wa_id, self.seen = fake, wa_id, 0

    @property
    def texts(self) -> list[str]:
        """Each message as the resident sees it: its text, then its buttons or rows."""
        return [
            "\n".join([sent.text, *(title for _, title in sent.choices)])
            for sent in self.fake.chats.get(self.wa_id, [])
        ]

    async def expect(self, words: str, timeout: float = 30.0) -> str:  # noqa: ASYNC109
        """Wait for a message after those already read that contains `words`."""
        found = await until(lambda: next(
            (t for t in self.texts[self.seen:] if words in t), None), timeout,
            f"{self.wa_id} never got a message with {words!r}; got {self.texts[self.seen:]}")  # fmt: skip
        self.seen = len(self.texts)
        return str(found)

    async def send(self, text: str) -> str:
        return await self.fake.send_text(self.wa_id, text)

    async def choose(self, label: str) -> str:
        """Press the button or list row showing `label` (cut short, or numbered, as
        WhatsApp's limits made it) on the last message that had any."""
        sent = next(s for s in reversed(self.fake.chats[self.wa_id]) if s.choices)
        for choice_id, title in sent.choices:
            shown = NUMBERED.sub("", title).rstrip("…")
            if shown and label.startswith(shown) and (title.endswith("…") or shown == label):
                return await self.fake.press(self.wa_id, choice_id, on=sent.wamid)
        raise AssertionError(f"no choice {label!r} in {sent.choices}")


async def until(found: Callable[[], object], timeout: float, failure: str) -> object:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        await asyncio.sleep(0.01)


async def complete_example(chat: Chat, need: str, *, link: str = "example--tenants") -> None:
    """The example consultation, start to finish, as a WhatsApp resident goes through it."""
    await chat.send(f"start {link}")
    await chat.expect("Are you happy to take part?")
    await chat.choose("Yes, I'm happy to take part")
    await chat.expect("Which part of the borough")
    await chat.choose("North (Hillside, Oakfield)")
    await chat.expect("How old are you?")
    await chat.choose("35 to 64")
    await chat.expect("In your own words")
    await chat.send(need)
    await chat.expect("Who else does this affect?")
    await chat.choose("▫️ My family or household")
    await chat.expect("✅ My family or household")
    await chat.choose("Done")
    await chat.expect("what difference would it make")
    await chat.send("I could get to work on time.")
    await chat.expect("Here is what I heard")
    await chat.choose("Yes, that's right")
    await chat.expect("Is there something else")
    await chat.choose("No")
    await chat.expect("any ideas for what would help")
    await chat.choose("No, that's all")
    await chat.expect("Thank you for taking part")
