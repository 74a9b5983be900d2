"""At most `limit` sends in any rolling window, urgent sends first.

A channel's replies to residents and its broadcasts share one number's rate (Notify's
3,000 a minute, WhatsApp's messages a second): a reply someone is waiting for goes
ahead of the next invitation, so a broadcast takes only what replies leave."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class RateWindow:
    def __init__(self, limit: int, seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._sent: deque[float] = deque()
        self._urgent_waiting = 0

    def wait_time(self) -> float:
        now = self.clock()
        while self._sent and self._sent[0] <= now - self.seconds:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            return 0.0
        return self._sent[0] + self.seconds - now

    async def acquire(self, *, urgent: bool = False) -> None:
        """Wait for a place in the window (after any urgent sender waiting), take it."""
        if urgent:
            self._urgent_waiting += 1
        try:
            while True:
                wait = self.wait_time()
                if wait <= 0 and (urgent or not self._urgent_waiting):
                    break
                # A time to wait for, not an event: nothing else frees a place.
                await asyncio.sleep(max(wait, 0.002))
            self._sent.append(self.clock())
        finally:
            if urgent:
                self._urgent_waiting -= 1

    def pause(self, seconds: float) -> None:
        """The service said "too many": count the window as full for `seconds`."""
        until = self.clock() + seconds - self.seconds
        self._sent.extend([until] * max(0, self.limit - len(self._sent)))
