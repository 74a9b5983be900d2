"""One send budget for everything the bot sends from this process.

Telegram allows about 30 messages a second overall and 1 a second per chat, and
answers 429 (retry after N seconds) beyond that. It counts a message when it
receives it, in a sliding window of one second. We cannot see that moment, only
that it lies between handing the request to the connection and reading the
response. So a message holds its place in our window from the hand-off until a
second after its response has arrived (`Slot`). Then whenever fewer than 30 places
are held as we hand a message over, Telegram's window cannot hold 30 when it
arrives, however long it waited for a connection or in the network: every message
Telegram still counts at that arrival was sent before ours, while our window
already held it. The price is that each place is held for a second plus the
round trip, about 28.5 a second with 50 ms of latency.

Residents' replies come first: they never wait for broadcasts, only (for a few
ms) while a broadcast is going and all 30 places are held, and then a waiting
reply takes the next free place before any broadcast message does. Broadcasts
take what is left, less `headroom` places kept free for replies, and a token
bucket spreads them evenly, so that places free up one at a time and a reply
never waits for a whole second's batch.

Other processes sending with the same token (webhook workers answering
residents) are not in this window; while a broadcast is going, `others` holds
places for them, estimated from the database (bot/telegram/other_senders.py).

python-telegram-bot's AIORateLimiter halts *every* request while it waits out a
429, so a resident could wait seconds behind a broadcast; `BudgetLimiter` only
counts, and pauses broadcasts (not replies) when Telegram says slow down.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]

# Set by the broadcaster around its own sends, which it has already paced and counted.
PACED: ContextVar[bool] = ContextVar("needsfirst_paced", default=False)

# A send whose response never came frees its place this long after it went (a
# request gives up long before; this only keeps a forgotten place from leaking).
MAX_FLIGHT = 60.0


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


@dataclass(eq=False, slots=True)
class Slot:
    """One message's place in the window, from its hand-off until Telegram surely counted it."""

    chat: str | None
    sent_at: float
    answered_at: float | None = None  # when its response (or error) came back

    def frees_at(self, span: float) -> float:
        """When it leaves a window of `span` seconds (much later while in flight)."""
        if self.answered_at is None:
            return self.sent_at + MAX_FLIGHT + span
        return self.answered_at + span


class SendBudget:
    """The places held in the last second, per process; broadcasts take what replies leave."""

    def __init__(self, *, limit: int = 30, headroom: int = 0, per_chat: float = 1.0,
                 span: float = 1.0, margin: float = 0.002, burst: float = 2.0,
                 recovery: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        if not 0 <= headroom < limit:
            raise ValueError(f"headroom must be from 0 to {limit - 1}, not {headroom}")
        self.limit = limit
        self.headroom = headroom  # places broadcasts leave free for replies
        self.per_chat = per_chat
        self.span = span + margin  # a little over a second, for timers' rounding
        self.burst = burst  # broadcast messages that may go back to back
        self.recovery = recovery  # seconds without a 429 to win back one place
        self.clock = clock
        self.conversation_sends = 0
        self.broadcast_sends = 0
        self.floods = 0
        self._held: list[Slot] = []  # in the window or in flight
        self._last_in_chat: dict[str, Slot] = {}
        self._broadcasts: deque[float] = deque()  # the last 10 s, to estimate the rate
        self._tokens = burst
        self._refilled_at = clock()
        self._paused_until = 0.0
        self._penalty = 0
        self._last_flood = -math.inf
        self._replies_waiting = 0
        self._others = 0  # places other processes are estimated to hold (OtherSenders)
        self._changed = asyncio.Event()

    # -- the window

    def _expire(self, now: float) -> None:
        span = self.span
        if any(slot.frees_at(span) <= now for slot in self._held):
            self._held = [slot for slot in self._held if slot.frees_at(span) > now]
        per_chat = self.per_chat
        stale = [
            chat for chat, slot in self._last_in_chat.items() if slot.frees_at(per_chat) <= now
        ]
        for chat in stale:
            del self._last_in_chat[chat]
        while self._broadcasts and now - self._broadcasts[0] >= 10.0:
            self._broadcasts.popleft()

    def held(self) -> int:
        """Places held now: messages sent in the last second or still in flight."""
        self._expire(self.clock())
        return len(self._held)

    def _until_below(self, count: int, now: float) -> float:
        """Seconds until fewer than `count` places are held, if no response comes first."""
        excess = len(self._held) - count
        if excess < 0:
            return 0.0
        frees = sorted(slot.frees_at(self.span) for slot in self._held)
        return max(0.0, frees[excess] - now)

    def _take(self, now: float, chat_id: object) -> Slot:
        slot = Slot(None if chat_id is None else str(chat_id), now)
        self._held.append(slot)
        if slot.chat is not None:
            self._last_in_chat[slot.chat] = slot
        return slot

    def done(self, slot: Slot) -> None:
        """Its response (or error) came back: from now on, one second more in the window."""
        if slot.answered_at is None:
            slot.answered_at = self.clock()
            self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _changes(self, seconds: float) -> None:
        """Wait until something frees a place, or `seconds` pass."""
        event = self._changed
        timeout = None if seconds == math.inf else max(seconds, 0.001)
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            pass

    # -- replies

    def broadcasting(self, now: float | None = None) -> bool:
        """Whether a broadcast has sent in the last second."""
        now = self.clock() if now is None else now
        return bool(self._broadcasts) and now - self._broadcasts[-1] < self.span

    def reply_wait(self) -> float:
        """Seconds a reply must wait: 0 unless a broadcast is filling the window.

        Telegram's 30 a second is a limit on bulk sending: with no broadcast going,
        replies are never held (a busy consultation answers hundreds a second). While
        one is, waiting the few ms until a place frees beats a certain 429 and a retry
        a second or more later."""
        now = self.clock()
        self._expire(now)
        if not self.broadcasting(now):
            return 0.0
        return self._until_below(self.reply_limit, now)

    @property
    def reply_limit(self) -> int:
        """Places this process's replies may fill while a broadcast is going."""
        return max(self.limit // 2, self.limit - self._others)

    @property
    def others(self) -> int:
        """Places other processes (webhook workers) are estimated to hold."""
        return self._others

    @others.setter
    def others(self, places: int) -> None:
        self._others = max(0, min(self.limit // 2, places))
        self._notify()  # fewer may free a place for a waiting send

    def note(self, chat_id: object = None) -> Slot:
        """A message that does not wait for broadcasts (a reply to a resident): count it."""
        self.conversation_sends += 1
        now = self.clock()
        self._expire(now)
        return self._take(now, chat_id)

    async def reply(self, chat_id: object = None) -> Slot:
        """A place for a reply: at once, or the next one free, before any broadcast's."""
        if (wait := self.reply_wait()) > 0:
            self._replies_waiting += 1
            try:
                while wait > 0:
                    await self._changes(wait)
                    wait = self.reply_wait()
            finally:
                self._replies_waiting -= 1
                self._notify()
        return self.note(chat_id)

    # -- broadcasts

    @property
    def penalty(self) -> int:
        """Places given up after 429s; one comes back per `recovery` seconds without one."""
        regained = (self.clock() - self._last_flood) / self.recovery
        return max(0, self._penalty - int(regained)) if regained < math.inf else 0

    @property
    def cap(self) -> int:
        """How many places held still let a broadcast send."""
        return max(1, self.limit - self.headroom - self.penalty - self._others)

    def _refill(self, now: float) -> None:
        rate = self.limit / self.span
        self._tokens = min(self.burst, self._tokens + (now - self._refilled_at) * rate)
        self._refilled_at = now

    def room(self) -> int:
        """Broadcast messages that could go at once, now."""
        now = self.clock()
        self._expire(now)
        self._refill(now)
        if now < self._paused_until or self._replies_waiting:
            return 0
        return max(0, min(self.cap - len(self._held), int(self._tokens)))

    def wait_time(self, chat_id: object = None) -> float:
        """Seconds until a broadcast may send (to this chat); 0 if it may now.

        Infinity while replies wait for a place; a response coming back may shorten it."""
        now = self.clock()
        self._expire(now)
        self._refill(now)
        if self._replies_waiting:
            return math.inf
        waits = [
            self._paused_until - now,
            (1 - self._tokens) * self.span / self.limit,
            self._until_below(self.cap, now),
        ]
        if chat_id is not None:
            waits.append(self._chat_wait(chat_id, now))
        return max(0.0, *waits)

    def chat_wait(self, chat_id: object) -> float:
        """Seconds until this chat may have another message (a second after the last's answer)."""
        now = self.clock()
        self._expire(now)
        return self._chat_wait(chat_id, now)

    def _chat_wait(self, chat_id: object, now: float) -> float:
        last = self._last_in_chat.get(str(chat_id))
        return 0.0 if last is None else max(0.0, last.frees_at(self.per_chat) - now)

    async def ready(self, within: float = 0.0, chat_id: object = None) -> None:
        """Wait until a broadcast could send within `within` seconds."""
        while (wait := self.wait_time(chat_id)) > within:
            await self._changes(wait - within)

    async def acquire(self, chat_id: object = None) -> Slot:
        """Wait until a broadcast message may go (overall and to this chat), and hold its place.

        Hand the slot to `done` when the response comes back (`sending` does both)."""
        await self.ready(0.0, chat_id)
        now = self.clock()
        self._tokens -= 1
        self._broadcasts.append(now)
        self.broadcast_sends += 1
        return self._take(now, chat_id)

    @asynccontextmanager
    async def sending(self, chat_id: object = None) -> AsyncIterator[Slot]:
        """A broadcast-paced send: wait for a place, send inside, free it when answered."""
        slot = await self.acquire(chat_id)
        try:
            with paced():
                yield slot
        finally:
            self.done(slot)

    def flooded(self, seconds: float) -> None:
        """Telegram answered 429: pause broadcasts that long and give up two places."""
        now = self.clock()
        self.floods += 1
        self._paused_until = max(self._paused_until, now + seconds)
        self._penalty = min(self.limit // 2, self.penalty + 2)
        self._last_flood = now
        self._notify()

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
        chat_id = data.get("chat_id")
        slot = await self.budget.reply(chat_id)
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            self.budget.done(slot)
            seconds = seconds_of(error)
            self.budget.flooded(seconds)
            await asyncio.sleep(seconds)
            slot = await self.budget.reply(chat_id)
            return await callback(*args, **kwargs)
        finally:
            self.budget.done(slot)
