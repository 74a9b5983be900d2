"""GroupCommit: answers submitted while a batch runs go together in the next one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from bot.channels.batching import GroupCommit


async def test_alone_when_quiet_together_under_load() -> None:
    batches: list[list[int]] = []
    release = threading.Event()

    def handle_many(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        if len(batches) == 1:
            release.wait(5)  # the database is busy with the first batch
        return [item * 10 for item in items]

    group: GroupCommit[int, int] = GroupCommit(handle_many, fallback=-1, most=3)
    first = asyncio.create_task(group.submit(1))
    await asyncio.sleep(0.05)
    rest = [asyncio.create_task(group.submit(n)) for n in range(2, 7)]
    await asyncio.sleep(0.05)
    release.set()
    assert await first == 10
    assert [await task for task in rest] == [20, 30, 40, 50, 60]
    assert batches == [[1], [2, 3, 4], [5, 6]]  # at most `most` at once, in order


async def test_a_failed_batch_gives_every_waiter_the_fallback() -> None:
    def handle_many(items: Sequence[str]) -> list[str | None]:
        raise RuntimeError("database away")

    group: GroupCommit[str, str | None] = GroupCommit(handle_many, fallback=None)
    assert list(await asyncio.gather(group.submit("a"), group.submit("b"))) == [None, None]
    assert await group.submit("c") is None  # and it carries on


async def test_a_cancelled_waiter_does_not_stop_the_others() -> None:
    group: GroupCommit[int, int] = GroupCommit(lambda items: list(items), fallback=-1)
    gone = asyncio.create_task(group.submit(1))
    kept = asyncio.create_task(group.submit(2))
    await asyncio.sleep(0)
    gone.cancel()
    assert await kept == 2
