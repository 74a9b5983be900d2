"""FakeWhatsApp: the knobs, the server's life on loopback, and what tests read."""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

from tests.fakes.waiting import Signal, wait_for
from tests.fakes.whatsapp_api.graph import GraphApi
from tests.fakes.whatsapp_api.records import (
    Delivery,
    ErrorRecord,
    Event,
    LimitBreach,
    Media,
    Sent,
    Template,
)


def _token() -> str:
    return "EAAFake" + secrets.token_urlsafe(48).replace("-", "").replace("_", "")


def _secret() -> str:
    return secrets.token_hex(16)


@dataclass(eq=False)
class FakeWhatsApp(GraphApi):
    """A fake WhatsApp Cloud API on 127.0.0.1; ``async with FakeWhatsApp() as fake:``.

    See the package docstring for the rules it enforces.  Every knob can also be
    changed while it runs.
    """

    phone_number_id: str = "100000000000001"
    display_phone_number: str = "447700900100"
    waba_id: str = "200000000000001"
    access_token: str = field(default_factory=_token)
    app_secret: str = field(default_factory=_secret)
    api_version: str = "v21.0"
    #: Seconds added before every Graph API answer (benchmarks use 0.05).
    latency: float = 0.0
    #: Messages per rolling second for the number; beyond it, 130429.
    throughput: int = 80
    #: Pair rate: a bucket of ``pair_burst`` messages per user, refilled by one every
    #: ``pair_rate_seconds``; empty, 131056.
    pair_rate_seconds: float = 6.0
    pair_burst: int = 45
    #: Unique users reached by business-initiated templates per rolling 24 hours (None:
    #: unlimited); past it, the template fails with 131048.
    daily_limit: int | None = 1000
    #: Time for every rule, timestamp and record (move it to test the 24-hour rules).
    clock: Callable[[], float] = time.time
    #: The bot's webhook (its /whatsapp/webhook); nothing is delivered while empty.
    webhook_url: str = ""
    #: Send "sent" and "delivered" statuses for each delivered message ("failed" always).
    send_statuses: bool = True
    #: Pauses between delivery attempts of a webhook event the bot did not answer 200.
    retry_delays: tuple[float, ...] = (0.05, 0.2, 1.0)
    webhook_timeout: float = 10.0
    host: str = "127.0.0.1"
    port: int = 0

    # What tests read (not constructor arguments).
    chats: dict[str, list[Sent]] = field(default_factory=dict, init=False, repr=False)
    sent: list[Sent] = field(default_factory=list, init=False, repr=False)
    errors: list[ErrorRecord] = field(default_factory=list, init=False, repr=False)
    errors_by_code: Counter[int] = field(default_factory=Counter, init=False, repr=False)
    limit_breaches: list[LimitBreach] = field(default_factory=list, init=False, repr=False)
    deliveries: list[Delivery] = field(default_factory=list, init=False, repr=False)
    refused: list[Delivery] = field(default_factory=list, init=False, repr=False)
    undelivered: list[Event] = field(default_factory=list, init=False, repr=False)
    events: list[Event] = field(default_factory=list, init=False, repr=False)
    media: dict[str, Media] = field(default_factory=dict, init=False, repr=False)
    templates: dict[tuple[str, str], Template] = field(default_factory=dict, init=False,
                                                       repr=False)  # fmt: skip
    blocked: set[str] = field(default_factory=set, init=False, repr=False)
    read_marks: list[str] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self._session = None
        self._runner: web.AppRunner | None = None
        self._signal = Signal()
        self._user_signals = {}
        self._faults = {}
        self._window = deque()
        self._buckets = {}
        self._conversations = {}
        self._last_inbound = {}
        self._names = {}
        self._inbound_events = {}
        self._queues = {}
        self._workers = {}
        self._background = set()
        self._stopping = asyncio.Event()
        self._ids = itertools.count(1).__next__
        self._cursors = {}

    # -- life --------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=120 * 1024 * 1024)
        app.router.add_post("/{version}/{node}/messages", self._messages)
        app.router.add_post("/{version}/{node}/media", self._upload)
        app.router.add_get("/{version}/{node}", self._phone_number)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._session = ClientSession(connector=TCPConnector(limit=0),
                                      timeout=ClientTimeout(total=self.webhook_timeout))  # fmt: skip

    async def stop(self) -> None:
        """Stop serving; deliveries still queued or retrying are abandoned."""
        self._stopping.set()
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
        self._queues.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self.stop()

    @property
    def base_url(self) -> str:
        """The Graph API base the bot is given: it posts to
        f"{base_url}/{api_version}/{phone_number_id}/messages"."""
        if self._runner is None:
            raise RuntimeError("FakeWhatsApp is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{self.api_version}/{self.phone_number_id}/messages"

    @property
    def media_url(self) -> str:
        return f"{self.base_url}/{self.api_version}/{self.phone_number_id}/media"

    # -- reading -----------------------------------------------------------------------

    def messages_to(self, wa_id: str) -> list[Sent]:
        """Messages delivered to this user (failed ones are not in the chat), in order."""
        return list(self.chats.get(wa_id, []))

    def texts_to(self, wa_id: str) -> list[str]:
        """What the user read, message by message (see Sent.text)."""
        return [sent.text for sent in self.chats.get(wa_id, [])]

    def last_buttons(self, wa_id: str) -> list[tuple[str, str]]:
        """(id, title) of the buttons or list rows of the last message that had any."""
        found = next((s for s in reversed(self.chats.get(wa_id, [])) if s.choices), None)
        return list(found.choices) if found else []

    def failed_to(self, wa_id: str) -> list[Sent]:
        """Messages to this user that were accepted and then failed."""
        return [s for s in self.sent if s.to == wa_id and s.status == "failed"]

    def statuses_of(self, wamid: str) -> list[str]:
        """The statuses the bot was sent for one of its messages, in order."""
        return [
            status for event in self.events if event.kind == "status" and wamid in event.wamids
            for status in _status_names(event)
        ]  # fmt: skip

    # -- waiting -----------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0,  # noqa: ASYNC109
        what: str = "condition",
    ) -> None:  # fmt: skip
        """Return as soon as ``predicate()`` holds (checked on every change of the fake)."""
        await wait_for(self._signal, predicate, timeout, lambda: f"timed out waiting for {what}")

    async def wait_for_user(
        self, wa_id: str, predicate: Callable[[], bool], timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:  # fmt: skip
        """Like wait_for, but checked only when a message reaches ``wa_id``'s chat: many
        residents can wait at once (benchmarks) without each waking on every change."""
        signal = self._user_signals.setdefault(wa_id, Signal())
        await wait_for(signal, predicate, timeout, lambda: f"timed out waiting for {wa_id}")

    async def wait_for_text(
        self, wa_id: str, substring: str, timeout: float = 5.0,  # noqa: ASYNC109
        *, since: int = 0,
    ) -> Sent:  # fmt: skip
        """The first message to ``wa_id`` (from index ``since`` of their chat) whose text
        contains ``substring``, waiting for it if need be."""

        def found() -> Sent | None:
            chat = self.chats.get(wa_id, [])[since:]
            return next((s for s in chat if substring in s.text), None)

        await wait_for(self._signal, lambda: found() is not None, timeout,
                         lambda: f"{wa_id} never read {substring!r}; they read "
                         f"{self.texts_to(wa_id)[since:]!r}")  # fmt: skip
        result = found()
        assert result is not None
        return result

    async def next_message(self, wa_id: str, timeout: float = 5.0) -> Sent:  # noqa: ASYNC109
        """The next message to ``wa_id`` this method has not returned yet."""
        cursor = self._cursors.get(wa_id, 0)
        await wait_for(self._signal, lambda: len(self.chats.get(wa_id, [])) > cursor, timeout,
                         lambda: f"no message to {wa_id} after {cursor}")  # fmt: skip
        self._cursors[wa_id] = cursor + 1
        return self.chats[wa_id][cursor]


def _status_names(event: Event) -> list[str]:
    value = json.loads(event.body)["entry"][0]["changes"][0]["value"]
    return [status["status"] for status in value.get("statuses", [])]
