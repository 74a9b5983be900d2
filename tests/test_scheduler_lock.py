"""Exactly one scheduler, by a lock: a second process with [scheduler] enabled stands by,
takes over when the first stops, and `needsfirst doctor` names who holds the lock."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.actions import doctor
from bot.app import Service, prepare_database
from bot.config import Config, DatabaseConfig, WebConfig
from conversations.storage.db import make_engine
from conversations.storage.scheduler_lock import SchedulerLock, holder


def test_one_holder_at_a_time_and_the_lock_names_it(db_url: str) -> None:
    db = prepare_database(Config(database=DatabaseConfig(url=db_url)))
    other = make_engine(db_url)  # another process's connections
    try:
        assert holder(db)[0] is False
        first, second = SchedulerLock(db, "first on host-a"), SchedulerLock(other, "second")
        assert first.take() and first.held()
        assert second.take() is False, "a second scheduler does not get the lock"
        held, who = holder(other)
        assert held and who.startswith("first on host-a"), who
        first.release()
        assert holder(db)[0] is False
        assert second.take(), "the standby takes it once the first lets go"
        assert "second" in holder(db)[1]
        second.release()
    finally:
        other.dispose()
        db.dispose()


def test_a_holder_whose_connection_dies_loses_it_and_knows(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        return  # SQLite's file lock goes only with the process (tests/test_cluster.py)
    db = prepare_database(Config(database=DatabaseConfig(url=db_url)))
    try:
        lock = SchedulerLock(db, "doomed")
        assert lock.take()
        assert lock._connection is not None
        pid = lock._connection.execute(text("SELECT pg_backend_pid()")).scalar()
        with db.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert lock.held() is False
        assert holder(db)[0] is False
        assert SchedulerLock(db, "next").take()
    finally:
        db.dispose()


def test_a_second_service_stands_by_and_takes_over(db_url: str) -> None:
    config = Config(database=DatabaseConfig(url=db_url), web=WebConfig(port=0))
    db = prepare_database(config)
    other = make_engine(db_url)

    async def run() -> None:
        first = Service(config, db, lock_interval=0.1)
        second = Service(config, other, lock_interval=0.1)
        await first.start()
        await second.start()
        try:
            assert first.scheduler is not None and first.status["scheduler"] == "ok"
            assert second.scheduler is None and second.status["scheduler"] == "standby"
            found = doctor.scheduler_lock(config, other, table="scheduler_jobs", tick_seconds=30)
            assert found.level == "ok", found
            assert "the lock is held by needsfirst scheduler" in found.detail
            assert "its jobs are running" in found.detail
            await first.stop()
            async with asyncio.timeout(10):
                while second.scheduler is None:  # noqa: ASYNC110 (set by its own task)
                    await asyncio.sleep(0.05)
            assert second.status["scheduler"] == "ok"
        finally:
            await second.stop()
            await first.stop()

    try:
        asyncio.run(run())
        found = doctor.scheduler_lock(config, db, table="scheduler_jobs", tick_seconds=30)
        assert found.level == "warn" and found.detail.startswith("no scheduler holds the lock")
    finally:
        other.dispose()
        db.dispose()
