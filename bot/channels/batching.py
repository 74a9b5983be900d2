"""Work gathered into one transaction: keys collected for a moment, answers while the
database works on the previous batch."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


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


class GroupCommit(Generic[T, R]):
    """Runs `handle_many` (in a thread) on everything submitted while the last batch ran.

    A database's group commit: under load, many residents' answers share one
    transaction and one trip to the database thread; when it is quiet, an answer goes
    alone at once (it waits only for the current turn of the event loop). One batch is
    in flight at a time, so the batches grow with the load and the queue stays short."""

    def __init__(self, handle_many: Callable[[Sequence[T]], list[R]], *, fallback: R,
                 most: int = 100) -> None:  # fmt: skip
        self.handle_many = handle_many
        self.fallback = fallback  # every item's result if a batch fails
        self.most = most
        self.waiting: list[tuple[T, asyncio.Future[R]]] = []
        self.task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self.waiting.append((item, future))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[: self.most], self.waiting[self.most :]
            try:
                results = await asyncio.to_thread(self.handle_many, [item for item, _ in batch])
            except Exception:  # each waiter can still be served on its own
                log.warning("a batch of %d failed", len(batch), exc_info=True)
                results = [self.fallback] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():  # its handler may have been cancelled
                    future.set_result(result)
