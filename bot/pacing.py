"""One send budget for everything the bot sends from this process.

Telegram allows about 30 messages a second overall and 1 a second per chat, and
answers 429 (retry after N seconds) beyond that. Residents' replies come first:
they are counted and never wait for broadcasts, only (for a few ms) when the last
second already holds the limit, which would earn a 429. Broadcasts take what is left: a sliding window
of the last second's sends (of every kind) must stay below the limit less some
headroom, so a reply arriving just after a broadcast's message still fits; and a
token bucket spreads broadcast messages evenly, since a burst that filled the
window at once would leave no room for the replies that follow within the second.

python-telegram-bot's AIORateLimiter halts *every* request while it waits out a
429, so a resident could wait seconds behind a broadcast; `BudgetLimiter` only
counts, and pauses broadcasts (not replies) when Telegram says slow down.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

# Set by the broadcaster around its own sends, which it has already paced and counted.
PACED: ContextVar[bool] = ContextVar("needsfirst_paced", default=False)


@contextmanager
def paced() -> Iterator[None]:
    """Marks the sends inside as a broadcast's, already counted by `SendBudget.acquire`."""
    token = PACED.set(True)
    try:
        yield
    finally:
        PACED.reset(token)


def is_message(endpoint: str) -> bool:
    """Bot API methods that count against Telegram's message limits."""
    return (
        endpoint.startswith(("send", "editMessage", "copyMessage", "forwardMessage"))
        and endpoint != "sendChatAction"
    )


def seconds_of(error: RetryAfter) -> float:
    """A 429's retry_after in seconds (a timedelta with PTB_TIMEDELTA=true, else an int)."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SendBudget:
    """The last second's sends, per process; broadcasts wait for room, replies never do."""

    def __init__(self, *, limit: int = 30, headroom: int = 2, per_chat: float = 1.0,
                 span: float = 1.0, burst: float = 2.0, recovery: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.limit = limit
        self.headroom = headroom  # slots kept free for replies that arrive mid-window
        self.per_chat = per_chat
        self.span = span
        self.burst = burst  # broadcast messages that may go back to back
        self.recovery = recovery  # seconds without a 429 to win back one slot
        self.clock = clock
        self.conversation_sends = 0
        self.broadcast_sends = 0
        self.floods = 0
        self._sent: deque[float] = deque()
        self._last_in_chat: dict[str, float] = {}
        self._chat_order: deque[tuple[float, str]] = deque()
        self._broadcasts: deque[float] = deque()  # the last 10 s, to estimate the rate
        self._tokens = burst
        self._refilled_at = clock()
        self._paused_until = 0.0
        self._penalty = 0
        self._last_flood = -math.inf

    # -- counting

    def reply_wait(self) -> float:
        """Seconds a reply must wait: 0 unless a broadcast is filling the window.

        Telegram's 30 a second is a limit on bulk sending: with no broadcast going,
        replies are never held (a busy consultation answers hundreds a second). While
        one is, broadcasts leave `headroom` free, so replies almost never wait; when a
        burst of replies outruns that, waiting the few ms until the oldest send leaves
        the window beats a certain 429 and a retry a second or more later."""
        now = self.clock()
        self._expire(now)
        broadcasting = bool(self._broadcasts) and now - self._broadcasts[-1] < self.span
        if not broadcasting or len(self._sent) < self.limit:
            return 0.0
        return max(0.001, self._sent[len(self._sent) - self.limit] + self.span - now)

    def note(self, chat_id: object = None) -> None:
        """A message that does not wait for broadcasts (a reply to a resident): count it."""
        self.conversation_sends += 1
        now = self.clock()
        self._expire(now)  # without broadcasts nothing else would, and these would grow
        self._take(now, chat_id)

    def _take(self, now: float, chat_id: object) -> None:
        self._sent.append(now)
        if chat_id is not None:
            chat = str(chat_id)
            self._last_in_chat[chat] = now
            self._chat_order.append((now, chat))

    def _refill(self, now: float) -> None:
        rate = self.cap / self.span
        self._tokens = min(self.burst, self._tokens + (now - self._refilled_at) * rate)
        self._refilled_at = now

    def _expire(self, now: float) -> None:
        while self._sent and now - self._sent[0] >= self.span:
            self._sent.popleft()
        while self._chat_order and now - self._chat_order[0][0] >= self.per_chat:
            when, chat = self._chat_order.popleft()
            if self._last_in_chat.get(chat) == when:
                del self._last_in_chat[chat]
        while self._broadcasts and now - self._broadcasts[0] >= 10.0:
            self._broadcasts.popleft()

    # -- broadcasts

    @property
    def penalty(self) -> int:
        """Slots given up after 429s; one comes back per `recovery` seconds without one."""
        regained = (self.clock() - self._last_flood) / self.recovery
        return max(0, self._penalty - int(regained)) if regained < math.inf else 0

    @property
    def cap(self) -> int:
        """How many sends in the last second still let a broadcast send."""
        return max(1, self.limit - self.headroom - self.penalty)

    def room(self) -> int:
        """Broadcast messages that could go at once, now."""
        now = self.clock()
        self._expire(now)
        self._refill(now)
        if now < self._paused_until:
            return 0
        return max(0, min(self.cap - len(self._sent), int(self._tokens)))

    def wait_time(self, chat_id: object = None) -> float:
        """Seconds until a broadcast may send (to this chat); 0 if it may now."""
        now = self.clock()
        self._expire(now)
        self._refill(now)
        waits = [self._paused_until - now, (1 - self._tokens) * self.span / self.cap]
        if len(self._sent) >= self.cap:
            waits.append(self._sent[len(self._sent) - self.cap] + self.span - now)
        if chat_id is not None and (last := self._last_in_chat.get(str(chat_id))) is not None:
            waits.append(last + self.per_chat - now)
        return max(0.0, *waits)

    async def acquire(self, chat_id: object = None) -> None:
        """Wait until a broadcast message may go (overall and to this chat), and count it."""
        # A wait for time to pass, not for an event: replies may take the slot meanwhile.
        while (wait := self.wait_time(chat_id)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(max(wait, 0.001))
        now = self.clock()
        self._tokens -= 1
        self._take(now, chat_id)
        self._broadcasts.append(now)
        self.broadcast_sends += 1

    def flooded(self, seconds: float) -> None:
        """Telegram answered 429: pause broadcasts that long and give up two slots."""
        now = self.clock()
        self.floods += 1
        self._paused_until = max(self._paused_until, now + seconds)
        self._penalty = min(self.limit // 2, self.penalty + 2)
        self._last_flood = now

    def broadcast_rate(self) -> float:
        """Broadcast messages a second lately, or the most allowed if none went yet."""
        now = self.clock()
        self._expire(now)
        if len(self._broadcasts) < 10:
            return float(self.cap)
        return len(self._broadcasts) / max(1.0, now - self._broadcasts[0])


class Spread:
    """Spreads a broadcast's remaining messages evenly until its window ends.

    Derived from the database (when it started, how many are left), so it carries on
    at the right pace after a restart."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.spacing = 0.0
        self._next = 0.0

    def plan(self, remaining: int, seconds_left: float) -> None:
        self.spacing = max(0.0, seconds_left) / remaining if remaining > 0 else 0.0

    async def wait(self) -> None:
        if self.spacing <= 0:
            return
        now = self.clock()
        if self._next > now:
            await asyncio.sleep(self._next - now)
        self._next = max(now, self._next) + self.spacing


class BudgetLimiter(BaseRateLimiter[None]):
    """Counts every message the bot sends against the budget; delays one only at the limit.

    On a 429 to a reply it pauses broadcasts, waits as told and tries once more (a 429
    means the message was not sent, so a retry cannot duplicate it)."""

    def __init__(self, budget: SendBudget) -> None:
        self.budget = budget

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> JSONResult:
        if PACED.get() or not is_message(endpoint):
            return await callback(*args, **kwargs)
        while (wait := self.budget.reply_wait()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)
        self.budget.note(data.get("chat_id"))
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            seconds = seconds_of(error)
            self.budget.flooded(seconds)
            await asyncio.sleep(seconds)
            self.budget.note(data.get("chat_id"))
            return await callback(*args, **kwargs)
