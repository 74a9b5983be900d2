"""Small writes gathered into one transaction: keys collected for a moment, then flushed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class KeyBatcher:
    """Collects keys and hands them to `write` (run in a thread) in batches.

    Used where a record per update would cost a transaction per update and losing
    the last few records in a crash only means doing something again, never losing it."""

    def __init__(
        self, write: Callable[[list[str]], None], *, what: str, interval: float = 0.05
    ) -> None:
        self.write = write
        self.what = what
        self.interval = interval
        self.keys: list[str] = []
        self.task: asyncio.Task[None] | None = None
        # One flush at a time: a flush at shutdown waits for a timed one's write, which
        # would otherwise be cancelled, still queued for its thread, as the loop closes.
        self.writing = asyncio.Lock()

    def add(self, key: str) -> None:
        self.keys.append(key)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self.interval)
        await self.flush()

    async def flush(self) -> None:
        async with self.writing:
            while self.keys:
                keys, self.keys = self.keys, []
                try:
                    await asyncio.to_thread(self.write, keys)
                except Exception:  # see the class docstring: a lost record means a repeat
                    log.warning("could not record %d %s", len(keys), self.what, exc_info=True)
