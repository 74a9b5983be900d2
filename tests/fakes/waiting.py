"""Waiting for a fake's state to change, without polling loops (both fakes use it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Signal:
    """Wakes every current waiter at once; used instead of polling loops."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float | None) -> bool:
        event = self._event
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            return False
        return True


async def wait_for(
    signal: Signal, predicate: Callable[[], bool], seconds: float, describe: Callable[[], str]
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(describe())
        await signal.wait(remaining)
