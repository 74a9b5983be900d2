"""The send budget shared by every process through Redis (bot/telegram/shared_budget.py):
replies are never held while no broadcast goes; while one does, broadcast messages
take only the places replies leave, and nobody takes more than the limit in a second.
Two `SharedSendBudget`s stand for two processes; the Redis is real."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from bot.telegram.shared_budget import RESERVE, SharedSendBudget, SharedWindow
from tests.cluster import REDIS_URL, redis_available

pytestmark = pytest.mark.skipif(
    not redis_available() and os.environ.get("NEEDSFIRST_REQUIRE_REDIS") != "1",
    reason=f"Redis does not answer at {REDIS_URL} (NEEDSFIRST_TEST_REDIS_URL)",
)


def budgets(bot: str, limit: int) -> tuple[SharedSendBudget, SharedSendBudget]:
    return tuple(  # type: ignore[return-value]
        SharedSendBudget(SharedWindow(REDIS_URL, bot, limit=limit), limit=limit, burst=limit)
        for _ in range(2)
    )


async def test_replies_are_not_held_while_no_broadcast_goes() -> None:
    worker, _ = budgets(f"test-{time.time_ns()}", 5)
    try:
        async with asyncio.timeout(1):
            slots = [await worker.reply(n) for n in range(12)]  # past the limit, at once
        for slot in slots:
            worker.done(slot)
    finally:
        await worker.close()


async def test_a_broadcast_in_one_process_holds_back_another_process_s_replies() -> None:
    limit = 6
    worker, scheduler = budgets(f"test-{time.time_ns()}", limit)
    try:
        started = time.monotonic()
        async with asyncio.timeout(5):
            broadcast = [await scheduler.acquire(1000 + n) for n in range(limit - RESERVE)]
        # The broadcast's window is full for it: its next message waits...
        waiting = asyncio.create_task(scheduler.acquire(2000))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        # ...but the places it leaves go to the other process's replies, and no more.
        replies = [await worker.reply(n) for n in range(RESERVE)]
        late = asyncio.create_task(worker.reply(99))
        await asyncio.sleep(0.2)
        assert not late.done(), "the limit holds across processes"
        for slot in broadcast:
            scheduler.done(slot)
        for slot in replies:
            worker.done(slot)
        async with asyncio.timeout(3):
            reply = await late  # a second after the answers, places free: a reply first
            worker.done(reply)
            worker.done(await worker.reply(100))
            scheduler.done(await waiting)
        assert time.monotonic() - started >= 1.0
    finally:
        await worker.close()
        await scheduler.close()


async def test_without_redis_messages_go_unpaced_and_say_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    budget = SharedSendBudget(SharedWindow("redis://127.0.0.1:9/0", "nobody", limit=2), limit=2)
    try:
        async with asyncio.timeout(5):
            slots = [await budget.reply(n) for n in range(4)]
        for slot in slots:
            budget.done(slot)
    finally:
        await budget.close()
    assert "the shared send budget (Redis) cannot be reached" in caplog.text
