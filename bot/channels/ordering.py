"""Each resident's messages handled in the order they arrived, different residents'
at the same time.

A channel that hands the service one task per incoming message (WhatsApp's webhook)
must not let a resident's second answer overtake the first. asyncio's locks are
first-in, first-out, so the tasks that wait on a resident's lock run in the order
they started waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class InOrder:
    """Runs coroutines one at a time per key, concurrently across keys."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    async def run(self, key: str, work: Awaitable[T]) -> T:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                return await work
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:  # forget idle residents so memory stays bounded
                del self._waiting[key]
                del self._locks[key]
