"""The scheduler: APScheduler with its jobs stored in our database.

Exactly one process runs it ([scheduler] enabled; webhook workers behind a load
balancer set it to false). Its jobs are textual references to the functions
below, so that they can be stored; each finds this process's services through
the context the composition root registers. Every job is safe to run late or
twice: what it acts on is read from the database, not remembered here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine

from bot.config import Config

log = logging.getLogger(__name__)
TICK_SECONDS = 30


@dataclass
class JobContext:
    """What jobs may use: the config, the database and this process's jobs."""

    config: Config
    db: Engine
    jobs: dict[str, Callable[[], Awaitable[Any]]] = field(default_factory=dict)


_context: JobContext | None = None  # set by start_scheduler; jobs are stored by name


async def run_registered(name: str) -> None:
    """Run the job registered under `name` in this process (stored jobs call this)."""
    if _context is None or name not in _context.jobs:
        log.warning("scheduled job %r has nothing registered in this process", name)
        return
    try:
        await _context.jobs[name]()
    except Exception:
        log.exception("scheduled job %r failed; it will run again at its next time", name)


def start_scheduler(
    context: JobContext, *, weekly: dict[str, str] | None = None
) -> AsyncIOScheduler:
    """Start the scheduler: every registered job runs on its tick, plus weekly jobs.

    `weekly` maps a registered job's name to run at the digest's day and time."""
    global _context
    _context = context
    scheduler = AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=context.db, tablename="scheduler_jobs")},
        timezone=context.config.digest.timezone,
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    for name in context.jobs:
        if weekly and name in weekly:
            continue
        scheduler.add_job(
            run_registered,
            "interval",
            seconds=TICK_SECONDS,
            args=[name],
            id=f"tick:{name}",
            replace_existing=True,
            misfire_grace_time=TICK_SECONDS,
        )
    hour, minute = (int(x) for x in context.config.digest.time.split(":"))
    for name in weekly or {}:
        scheduler.add_job(
            run_registered,
            "cron",
            day_of_week=context.config.digest.day,
            hour=hour,
            minute=minute,
            args=[name],
            id=f"weekly:{name}",
            replace_existing=True,
            # Down at the hour: run once when back, within the week (never twice:
            # coalesce, and the job keeps its own record of what it sent).
            misfire_grace_time=6 * 24 * 3600,
        )
    scheduler.start()
    return scheduler


async def stop_scheduler(scheduler: AsyncIOScheduler) -> None:
    global _context
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)
    _context = None
