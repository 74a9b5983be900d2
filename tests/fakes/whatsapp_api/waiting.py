"""Waiting for the fake's state to change, without polling loops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Signal:
    """Wakes every current waiter at once."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        event = self._event
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            pass


async def wait_until(
    signal: Signal, predicate: Callable[[], bool], seconds: float, describe: Callable[[], str]
) -> None:
    """Return once ``predicate()`` holds; TimeoutError (with ``describe()``) after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(describe())
        await signal.wait(remaining)
