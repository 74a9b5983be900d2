"""What the fake's parts share: the knobs and state that FakeWhatsApp sets.

The parts (the Graph API, the limits, webhook delivery, the residents) are mixins of
FakeWhatsApp; this base names what they read and write, so the type checker can follow.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections import Counter, deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import ClientSession

from tests.fakes.waiting import Signal
from tests.fakes.whatsapp_api.records import (
    Delivery,
    ErrorRecord,
    Event,
    LimitBreach,
    Media,
    Sent,
    Template,
)

if TYPE_CHECKING:
    from tests.fakes.whatsapp_api.errors import GraphError
    from tests.fakes.whatsapp_api.webhooks import Queued


class FakeState:
    """The knobs and records of one fake (see FakeWhatsApp for what each one does)."""

    # Knobs.
    phone_number_id: str
    display_phone_number: str
    waba_id: str
    access_token: str
    app_secret: str
    api_version: str
    latency: float
    throughput: int
    pair_rate_seconds: float
    pair_burst: int
    daily_limit: int | None
    clock: Callable[[], float]
    webhook_url: str
    send_statuses: bool
    retry_delays: tuple[float, ...]
    webhook_timeout: float
    # What tests read.
    chats: dict[str, list[Sent]]
    sent: list[Sent]
    errors: list[ErrorRecord]
    errors_by_code: Counter[int]
    limit_breaches: list[LimitBreach]
    deliveries: list[Delivery]
    refused: list[Delivery]
    undelivered: list[Event]
    events: list[Event]
    media: dict[str, Media]
    templates: dict[tuple[str, str], Template]
    blocked: set[str]
    read_marks: list[str]
    # Inside.
    _session: ClientSession | None
    _signal: Signal
    _user_signals: dict[str, Signal]
    _faults: dict[str, deque[GraphError]]
    _window: deque[float]
    _buckets: dict[str, tuple[float, float]]
    _conversations: dict[str, float]
    _last_inbound: dict[str, float]
    _names: dict[str, str]
    _inbound_events: dict[str, Event]
    _queues: dict[str, deque[Queued]]
    _workers: dict[str, asyncio.Task[None]]
    _background: set[asyncio.Task[None]]
    _stopping: asyncio.Event
    _ids: Callable[[], int]
    _cursors: dict[str, int]

    def _new_wamid(self) -> str:
        """A message id unique to this fake, shaped like Meta's ("wamid." and base64)."""
        raw = f"{self.phone_number_id}:{self._ids()}:{secrets.token_hex(6)}".encode()
        return "wamid." + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _changed(self) -> None:
        self._signal.notify()

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake early when the fake stops."""
        try:
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        except TimeoutError:
            pass
