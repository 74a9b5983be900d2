"""Telegram's 30 messages a second shared exactly by every process sending with the token.

Behind a load balancer, webhook workers answer residents while the scheduler's
process sends a broadcast, and Telegram counts them all against one limit. The
estimate of the others (bot/telegram/other_senders.py) follows them a second late,
and a burst of replies in that second earns a 429 (measured: docs/benchmarks.md).
With `[telegram] shared_budget` set to a Redis URL, every process takes each
message's place in one window kept in Redis, by a script that Redis runs atomically:
no two processes can both take the thirtieth place, and Redis's own clock is the
only clock (the machines' clocks need not agree).

The window is the one bot/telegram/pacing.py keeps, shared: a place is held from
before the hand-off until a second after the answer came back (`done`). Replies
are never held while no broadcast is going (as in one process); while one is, a
reply takes any of the 30 places and a broadcast message only the first
30 - `RESERVE` - headroom, so that the place that frees next goes to a reply. This
process's `SendBudget` still does its own pacing (per chat, the token bucket, 429s)
around it. Redis out of reach: the message goes unpaced, with a warning, rather
than a resident waiting.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from bot.telegram.pacing import SendBudget, Slot

try:  # the `shared` extra; [telegram] shared_budget is refused at start-up without it
    import redis.asyncio as redis
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - a plain install, which never builds a window
    redis = None  # type: ignore[assignment]
    RedisError = OSError  # type: ignore[misc,assignment]

log = logging.getLogger(__name__)
RESERVE = 2  # places of the 30 only replies take, while a broadcast is going
POLL_MS = 20  # the longest a waiting message goes without looking again
FLIGHT_MS = 60_000  # a place whose answer never comes frees this long after it went

TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, cap, span = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
local allowed = limit
if ARGV[5] == 'broadcast' then
  allowed = cap
elseif redis.call('EXISTS', KEYS[2]) == 0 then
  allowed = held + 1
end
if held < allowed then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[6]) + span, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]) + 2 * span)
  if ARGV[5] == 'broadcast' then redis.call('SET', KEYS[2], '1', 'PX', span) end
  return 0
end
local frees = redis.call('ZRANGE', KEYS[1], held - allowed, held - allowed, 'WITHSCORES')
return math.max(1, tonumber(frees[2]) - now)
"""

DONE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
return 0
"""


class SharedWindow:
    """The places held in the last second by every process with this bot's token."""

    def __init__(self, url: str, bot_id: str, *, limit: int = 30, headroom: int = 0,
                 span_ms: int = 1002) -> None:  # fmt: skip
        self.client: Any = redis.from_url(url)
        self.keys = [f"needsfirst:{bot_id}:sends", f"needsfirst:{bot_id}:broadcasting"]
        self.limit = limit
        self.cap = max(1, limit - RESERVE - headroom)
        self.span_ms = span_ms
        self._take = self.client.register_script(TAKE)
        self._done = self.client.register_script(DONE)
        self._warned = False

    async def take(self, kind: str) -> str | None:
        """Wait for a place ("reply" or "broadcast") and hold it; its name, for `done`."""
        member = secrets.token_hex(8)
        args: list[str | int] = [member, self.limit, self.cap, self.span_ms, kind, FLIGHT_MS]
        while True:
            try:
                wait_ms = int(await self._take(keys=self.keys, args=args))
            except (RedisError, OSError):
                self._unreachable()
                return None
            if wait_ms <= 0:
                return member
            # An answer elsewhere can free a place sooner than the window says: look again.
            await asyncio.sleep(min(wait_ms, POLL_MS) / 1000)

    async def done(self, member: str) -> None:
        """Its answer came: the place frees a second from now."""
        try:
            await self._done(keys=self.keys[:1], args=[member, self.span_ms])
        except (RedisError, OSError):
            self._unreachable()

    def _unreachable(self) -> None:
        if not self._warned:
            log.warning("the shared send budget (Redis) cannot be reached: sending unpaced "
                        "across processes until it answers", exc_info=True)  # fmt: skip
            self._warned = True

    async def close(self) -> None:
        await self.client.aclose()


class SharedSendBudget(SendBudget):
    """This process's `SendBudget`, each message also holding its place in the shared window."""

    def __init__(self, window: SharedWindow, **settings: Any) -> None:
        super().__init__(**settings)
        self.window = window
        self._members: dict[int, str] = {}
        self._finishing: set[asyncio.Task[None]] = set()

    async def reply(self, chat_id: object = None) -> Slot:
        member = await self.window.take("reply")
        return self._hold(await super().reply(chat_id), member)

    async def acquire(self, chat_id: object = None) -> Slot:
        await self.ready(0.0, chat_id)  # this process's own pacing first, then the shared place
        member = await self.window.take("broadcast")
        return self._hold(await super().acquire(chat_id), member)

    def _hold(self, slot: Slot, member: str | None) -> Slot:
        if member is not None:
            self._members[id(slot)] = member
        return slot

    def done(self, slot: Slot) -> None:
        super().done(slot)
        member = self._members.pop(id(slot), None)
        if member is not None:
            task = asyncio.get_running_loop().create_task(self.window.done(member))
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)

    async def close(self) -> None:
        await asyncio.gather(*self._finishing, return_exceptions=True)
        await self.window.close()
