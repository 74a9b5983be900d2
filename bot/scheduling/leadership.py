"""Exactly one scheduler: a process with [scheduler] enabled runs it only while it holds
the lock (conversations/storage/scheduler_lock.py); otherwise it stands by.

A standby tries the lock every `interval` seconds and takes over when the holder
dies. The holder checks every `interval` that it still has the lock (its PostgreSQL
connection lives); if it has lost it, it stops the scheduler's parts at once, before
anyone else can have taken over for long, and stands by again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import DBAPIError

from conversations.storage.scheduler_lock import SchedulerLock, holder

log = logging.getLogger(__name__)
INTERVAL = 5.0  # seconds between a standby's tries, and between a holder's checks


class Leadership:
    """Runs `lead` once the lock is ours, `step_down` if it is lost; `status` says which."""

    def __init__(self, lock: SchedulerLock, lead: Callable[[], Awaitable[None]],
                 step_down: Callable[[], Awaitable[None]], status: dict[str, Any], *,
                 interval: float = INTERVAL) -> None:  # fmt: skip
        self.lock = lock
        self.lead = lead
        self.step_down = step_down
        self.status = status
        self.interval = interval
        self.leading = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Try once now (a lone process leads at once); then keep watch in the background."""
        await self._try()
        if not self.leading:
            self.status["scheduler"] = "standby"
            log.warning("scheduler: standing by; another process holds the lock (%s). "
                        "This one takes over if it stops", self._holder())  # fmt: skip
        self._task = asyncio.create_task(self._watch(), name="scheduler-lock")

    async def _try(self) -> None:
        try:
            got = await asyncio.to_thread(self.lock.take)
        except DBAPIError:
            log.warning("scheduler: could not ask the database for the lock", exc_info=True)
            return
        if got:
            self.leading = True
            self.status["scheduler"] = "ok"
            log.info("scheduler: this process holds the lock (%s) and runs the scheduler",
                     self.lock.who)  # fmt: skip
            await self.lead()

    def _holder(self) -> str:
        try:
            return holder(self.lock.db)[1]
        except DBAPIError:
            return "unknown"

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if not self.leading:
                await self._try()
            elif not await asyncio.to_thread(self.lock.held):
                log.error("scheduler: the lock was lost (the database connection went); "
                          "stopping the scheduler and standing by")  # fmt: skip
                self.leading = False
                self.status["scheduler"] = "standby"
                await self.step_down()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.leading:
            await self.step_down()
            self.leading = False
        await asyncio.to_thread(self.lock.release)
