"""The database thread: jobs in turn on one thread, urgent ones ahead of the queue."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.database_thread import DatabaseThread


def test_jobs_run_in_turn_on_one_thread_and_urgent_ones_go_first() -> None:
    database = DatabaseThread()
    started, gate = threading.Event(), threading.Event()
    order: list[str] = []
    threads: set[int] = set()

    def job(name: str) -> str:
        threads.add(threading.get_ident())
        if name == "running":
            started.set()
            gate.wait(5)
        order.append(name)
        return name

    futures = [database.submit(job, name) for name in ("running", "queued-1", "queued-2")]
    assert started.wait(5)
    urgent = database.urgent.submit(job, "urgent")
    gate.set()
    assert [f.result(5) for f in futures] + [urgent.result(5)] == [
        "running", "queued-1", "queued-2", "urgent",
    ]  # fmt: skip
    assert order == ["running", "urgent", "queued-1", "queued-2"]
    assert len(threads) == 1
    database.shutdown()


def test_errors_reach_the_caller_and_the_thread_carries_on() -> None:
    database = DatabaseThread()

    def fail() -> None:
        raise ValueError("no such table")

    with pytest.raises(ValueError, match="no such table"):
        database.submit(fail).result(5)
    assert database.submit(lambda: 42).result(5) == 42
    database.shutdown()


def test_shutdown_runs_what_is_queued_then_refuses_more() -> None:
    database = DatabaseThread()
    done: list[int] = []
    for n in range(3):
        database.submit(done.append, n)
    database.shutdown(wait=True)
    assert done == [0, 1, 2]
    with pytest.raises(RuntimeError):
        database.submit(done.append, 3)


async def test_it_serves_as_the_event_loops_default_executor() -> None:
    database = DatabaseThread()
    asyncio.get_running_loop().set_default_executor(database)
    assert await asyncio.to_thread(threading.current_thread) is database._thread
    urgent_thread = await asyncio.get_running_loop().run_in_executor(
        database.urgent, threading.current_thread
    )
    assert urgent_thread is database._thread
