"""A fake Telegram Bot API server for end-to-end tests and benchmarks.

``FakeBotAPI`` speaks the HTTP Bot API on loopback, so the real python-telegram-bot
``Application`` runs against it unchanged, in polling mode or in webhook mode::

    async with FakeBotAPI() as fake:
        app = (
            ApplicationBuilder()
            .token("123:ABC")
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        ...  # initialize, start, start_polling
        ann = fake.user(1001, first_name="Ann")
        await ann.send_command("/start")
        reply = await ann.next_message()

Simulated users (:class:`FakeUser`) enqueue realistic updates and observe what the bot
sends them.  Knobs on the server add latency, flood limits, blocked users and injected
faults.  Only the methods our bot uses are implemented, but those validate input the way
Telegram does (text length, callback data size, "message is not modified", HTML markup...).

The server is single-threaded asyncio: every method handler except ``getUpdates`` runs
without awaiting, so each call is applied atomically and ordering is deterministic.

Notes for test authors:

* PTB builds ``RetryAfter`` for a 429 and, unless ``PTB_TIMEDELTA=true`` is set, warns
  while doing so; under ``filterwarnings = error`` that warning replaces the exception.
  Set the variable (``monkeypatch.setenv``) in tests that can meet a flood limit.
* PTB reports a 404 (a method this fake lacks) as ``InvalidToken``; look for 404s in
  ``fake.calls`` when that happens.
* ``parse_mode="HTML"`` is parsed into entities; Markdown modes are passed through as is.
* PTB's own ``Updater.start_webhook`` needs tornado; a small aiohttp receiver that puts
  ``Update.de_json(...)`` on ``app.update_queue`` works against this fake.

The package, by job: ``server`` (HTTP, calls as recorded, users), ``methods`` (the Bot
API methods), ``updates`` (getUpdates and webhook delivery), ``chats`` (the simulated
users), ``files``, ``rules`` and ``limits`` (what Telegram refuses), ``markup`` (HTML
parse mode), ``errors`` (error answers), ``faults`` (injected ones), ``state`` (what the parts
share); waiting for its state is tests/fakes/waiting.py, shared with the WhatsApp fake.
"""

from tests.fakes.telegram_api.chats import FakeUser
from tests.fakes.telegram_api.errors import ApiError
from tests.fakes.telegram_api.faults import Fault
from tests.fakes.telegram_api.files import StoredFile, Upload
from tests.fakes.telegram_api.limits import MESSAGE_METHODS
from tests.fakes.telegram_api.markup import parse_html
from tests.fakes.telegram_api.rules import (
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
)
from tests.fakes.telegram_api.server import Call, FakeBotAPI
from tests.fakes.telegram_api.updates import WebhookAttempt

__all__ = [
    "MAX_CALLBACK_ANSWER_LENGTH",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_TEXT_LENGTH",
    "MESSAGE_METHODS",
    "ApiError",
    "Call",
    "FakeBotAPI",
    "FakeUser",
    "Fault",
    "StoredFile",
    "Upload",
    "WebhookAttempt",
    "parse_html",
]
