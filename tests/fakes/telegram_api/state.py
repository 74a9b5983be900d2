"""What the fake's parts share: the server's state, as FakeBotAPI.__init__ sets it.

The parts of the server (updates, methods, flood limits, files, faults) are mixins of
FakeBotAPI; this base names the state they read and write, so each part says what it
needs and the type checker can follow it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from aiohttp import ClientSession

from tests.fakes.telegram_api.errors import JSON

if TYPE_CHECKING:
    from tests.fakes.telegram_api.chats import FakeUser
    from tests.fakes.telegram_api.faults import Fault
    from tests.fakes.telegram_api.files import StoredFile
    from tests.fakes.telegram_api.updates import PendingUpdate, WebhookAttempt, WebhookConfig
    from tests.fakes.waiting import Signal


class ServerState:
    """The knobs and state of one fake server (see FakeBotAPI for what each knob does)."""

    # Knobs.
    bot_id: int | None
    bot_username: str
    bot_first_name: str
    rate_limit: int | None
    per_chat_limit: int | None
    talking_limit: int | None
    talking_seconds: float
    clock: Callable[[], float]
    blocked: set[int]
    deliver_unstarted: bool
    webhook_max_attempts: int
    webhook_retry_delay: float
    webhook_timeout: float
    # What tests read.
    answered_callbacks: list[JSON]
    files: dict[str, StoredFile]
    commands: dict[tuple[str, str], list[JSON]]
    webhook_attempts: list[WebhookAttempt]
    webhook_failures: list[JSON]
    allowed_updates: list[str] | None
    # Inside.
    _session: ClientSession | None
    _closing: bool
    _stopping: asyncio.Event
    _users: dict[int, FakeUser]
    _update_ids: Iterator[int]
    _callback_ids: Iterator[int]
    _file_ids: Iterator[int]
    _open_callbacks: dict[str, JSON]
    _files_by_path: dict[str, StoredFile]
    _faults: dict[str, deque[Fault]]
    _canonical: dict[str, str]
    _global_window: deque[float]
    _chat_windows: dict[int, deque[float]]
    _spoke_at: dict[int, float]
    _pending: deque[PendingUpdate]
    _updates_signal: Signal
    _poll_generation: int
    _webhook: WebhookConfig | None
    _webhook_queues: dict[int, deque[PendingUpdate]]
    _webhook_workers: dict[int, asyncio.Task[None]]
    _background: set[asyncio.Task[None]]
    _last_webhook_error: tuple[int, str] | None

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake early when the server stops."""
        try:
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        except TimeoutError:
            pass
