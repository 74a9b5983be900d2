"""The scheduler: APScheduler with its jobs stored in our database.

Exactly one process runs it: of those with [scheduler] enabled, the one holding
the lock (bot/scheduling/leadership.py); webhook workers set it to false. Its jobs are textual references to the functions
below, so that they can be stored; each finds this process's services through
the context the composition root registers. Every job is safe to run late or
twice: what it acts on is read from the database, not remembered here.

APScheduler's own bookkeeping (reading due jobs, storing their next run) is
synchronous database work, so it runs in the scheduler's thread, never on the event
loop: there it stalled every resident's reply, for as long as SQLite's lock was
held by a transaction in the database thread. The jobs themselves run on the
event loop, as before; the scheduler's thread waits for each to finish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
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
    loop: asyncio.AbstractEventLoop | None = None  # where the jobs run; set at start


_context: JobContext | None = None  # set by start_scheduler; jobs are stored by name


def run_registered(name: str) -> None:
    """Run the job registered under `name` on the service's event loop and wait for it.

    Stored jobs call this, in the scheduler's thread."""
    context = _context
    if context is None or context.loop is None or name not in context.jobs:
        log.warning("scheduled job %r has nothing registered in this process", name)
        return
    job = context.jobs[name]

    async def run() -> None:
        await job()

    try:
        asyncio.run_coroutine_threadsafe(run(), context.loop).result()
    except Exception:
        log.exception("scheduled job %r failed; it will run again at its next time", name)


def start_scheduler(
    context: JobContext, *, weekly: dict[str, str] | None = None
) -> BackgroundScheduler:
    """Start the scheduler: every registered job runs on its tick, plus weekly jobs.

    Call it from the event loop the jobs are to run on. `weekly` maps a registered
    job's name to run at the digest's day and time."""
    global _context
    context.loop = asyncio.get_running_loop()
    _context = context
    scheduler = BackgroundScheduler(
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


async def stop_scheduler(scheduler: BackgroundScheduler) -> None:
    """Stop it; a job still running finishes (or is cancelled with the loop)."""
    global _context
    # Not waiting here: a job's thread waits for the event loop this runs on.
    await asyncio.to_thread(scheduler.shutdown, wait=False)
    _context = None
