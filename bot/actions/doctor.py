"""`needsfirst doctor`: is this deployment ready? One finding a line: ok, warn or fail.

The checks here read the configuration and the database; those that call a service
on the network (Telegram's getMe, Notify, WhatsApp's Graph API, the public URL) live
with the channel that speaks to it and are handed in as `Probe`s, so that this module
imports no transport. A check never changes anything: the database is not created,
not migrated, not written.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

from bot.config import Config, ConfigError
from bot.config_loading import check_database_url, load_config, origin_of
from bot.database_setup import describe, sqlite_file
from conversations.staff import safeguarding_flags
from conversations.storage.db import alembic_config, make_engine
from conversations.storage.models import utcnow
from conversations.storage.scheduler_lock import holder as scheduler_lock_holder

LEVELS = ("ok", "warn", "fail")
PROBE_SECONDS = 20.0  # a service that has not answered by then is as good as down


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warn | fail
    what: str
    detail: str

    def line(self) -> str:
        return f"{self.level:<5} {self.what:<20} {self.detail}"


# A check of a service on the network, given the loaded configuration.
Probe = Callable[[Config], Awaitable[list[Finding]]]


def configuration(path: str | None, environ: Mapping[str, str] | None = None
                  ) -> tuple[Config | None, Finding]:  # fmt: skip
    """The configuration loaded (errors name the file and key), or why not."""
    try:
        config = load_config(path, environ)
    except ConfigError as error:
        return None, Finding("fail", "configuration", str(error))
    if config.source == "built-in defaults":
        return config, Finding("warn", "configuration",
                               "no config.toml here: built-in defaults (give --config FILE)")  # fmt: skip
    extra = f", {len(config.from_environment)} setting(s) from NEEDSFIRST_* variables"
    return config, Finding("ok", "configuration",
                           config.source + (extra if config.from_environment else ""))  # fmt: skip


def database(config: Config) -> tuple[Engine | None, Finding]:
    """The database reachable and at the code's migration head; never created or migrated."""
    url, source = config.database.url, origin_of(config, "database.url")
    try:
        check_database_url(source, url)
    except ConfigError as error:
        return None, Finding("fail", "database", str(error))
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return None, Finding("fail", "database", f"there is no database at {path}")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except (OperationalError, InterfaceError) as error:
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        return None, Finding("fail", "database", f"cannot reach {describe(url)}: {reason}")
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    heads = set(scripts.get_heads())
    known = {revision.revision for revision in scripts.walk_revisions()}
    if current - known:
        return engine, Finding("fail", "database",
                               f"{describe(url)} is at {', '.join(sorted(current - known))}, "
                               "a migration this version does not have: run the newer version")  # fmt: skip
    if current != heads:
        at = ", ".join(sorted(current)) or "no migration (empty)"
        return engine, Finding("fail", "database",
                               f"{describe(url)} is not migrated: at {at}, this version needs "
                               f"{', '.join(sorted(heads))}. `needsfirst run` migrates it as "
                               "it starts")  # fmt: skip
    return engine, Finding("ok", "database", f"{describe(url)}, migrated ({', '.join(heads)})")


def scheduler_lock(config: Config, db: Engine, *, table: str, tick_seconds: int,
                   now: float | None = None) -> Finding:  # fmt: skip
    """Who holds the scheduler's lock (conversations/storage/scheduler_lock.py), and
    whether its jobs run: their every-tick next run stays in the past when none does."""
    here = "a candidate" if config.scheduler.enabled else "not a candidate"
    held, who = scheduler_lock_holder(db)
    if not held:
        return Finding("warn", "scheduler", f"no scheduler holds the lock ({who}; this "
                       f"process is {here}): rounds, alerts and broadcasts wait")  # fmt: skip
    said = f"the lock is held by {who}"
    if not inspect(db).has_table(table):
        return Finding("warn", "scheduler", f"{said}; it has stored no jobs yet")
    with db.connect() as connection:
        due = connection.execute(
            text(f"SELECT MIN(next_run_time) FROM {table} WHERE id LIKE 'tick:%'")
        ).scalar()
    if due is None:
        return Finding("warn", "scheduler", f"{said}; it has no jobs stored")
    late = (time.time() if now is None else now) - float(due)
    if late > 3 * tick_seconds:
        return Finding("warn", "scheduler", f"{said}, but its jobs are {_age(late)} overdue: "
                       "safeguarding alerts and broadcasts wait")  # fmt: skip
    return Finding("ok", "scheduler", f"{said}; its jobs are running")


def safeguarding_leads(config: Config) -> Finding:
    """At least one lead an alert can reach: on Telegram, or by email through Notify."""
    on_telegram = len(config.staff.safeguarding) if config.telegram.token else 0
    by_email = len(config.safeguarding.emails) if config.safeguarding.notify_api_key else 0
    if not (on_telegram or by_email):
        why = ("Telegram is off" if config.staff.safeguarding
               else "[staff] safeguarding and [safeguarding] emails are empty")  # fmt: skip
        return Finding("warn", "safeguarding", f"NO SAFEGUARDING LEAD CAN BE ALERTED ({why}): "
                       "disclosures of harm wait on the dashboard, unseen. Add a lead "
                       "(docs/safeguarding.md)")  # fmt: skip
    fallback = len(config.safeguarding.fallback_telegram) + len(config.safeguarding.fallback_emails)
    return Finding("ok", "safeguarding", f"{on_telegram} lead(s) on Telegram, {by_email} by "
                   f"email, {fallback} fallback(s)")  # fmt: skip


def open_flags(db: Engine, now: datetime | None = None) -> Finding:
    with Session(db) as session:
        waiting = safeguarding_flags.waiting(session=session)
    if not waiting.open:
        return Finding("ok", "safeguarding flags", "none waits for a lead")
    age = ((now or utcnow()) - waiting.oldest).total_seconds() if waiting.oldest else 0.0
    return Finding("warn", "safeguarding flags", f"{waiting.open} open (not acknowledged), the "
                   f"oldest raised {_age(age)} ago; {waiting.undelivered} reached no lead")  # fmt: skip


def accessibility_statement(config: Config, today: date | None = None) -> Finding:
    """The public statement names the council, a way to reach it, and a review in the
    last year (the accessibility regulations ask for a yearly review)."""
    organisation = config.organisation
    if organisation.incomplete:
        return Finding("warn", "accessibility", "the statement at /accessibility says it is "
                       "unfinished: set [organisation] name, and contact_email or contact_phone")  # fmt: skip
    if not organisation.statement_reviewed:
        return Finding("warn", "accessibility", "the statement has not been reviewed: read "
                       "/accessibility, then set [organisation] statement_reviewed")  # fmt: skip
    reviewed = date.fromisoformat(organisation.statement_reviewed)
    age = ((today or utcnow().date()) - reviewed).days
    if age > 365:
        return Finding("warn", "accessibility", f"the statement was last reviewed {age} days "
                       "ago: review it yearly ([organisation] statement_reviewed)")  # fmt: skip
    return Finding("ok", "accessibility", f"statement for {organisation.name}, reviewed {reviewed}")


def metrics_exposure(config: Config) -> Finding:
    metrics = config.metrics
    if not metrics.enabled:
        return Finding("ok", "metrics", "off ([metrics] enabled = false)")
    if not metrics.token:
        return Finding("warn", "metrics", "/metrics is on without a token: keep it off the "
                       "public internet at the proxy, or set [metrics] token")  # fmt: skip
    return Finding("ok", "metrics", "/metrics is on, behind a bearer token")


async def examine(path: str | None, probes: Sequence[Probe], *, scheduler_table: str,
                  tick_seconds: int, environ: Mapping[str, str] | None = None
                  ) -> list[Finding]:  # fmt: skip
    """Every finding, in order: the configuration first (without it, nothing else)."""
    config, found = configuration(path, environ)
    findings = [found]
    if config is None:
        return findings
    engine, found = await asyncio.to_thread(database, config)
    findings.append(found)
    if engine is not None:
        try:
            if found.level == "ok":
                findings.append(await asyncio.to_thread(
                    scheduler_lock, config, engine, table=scheduler_table,
                    tick_seconds=tick_seconds))  # fmt: skip
                findings.append(await asyncio.to_thread(open_flags, engine))
        finally:
            engine.dispose()
    findings.append(safeguarding_leads(config))
    findings.append(metrics_exposure(config))
    findings.append(accessibility_statement(config))
    for found_by_probe in await asyncio.gather(*(_probe(probe, config) for probe in probes)):
        findings.extend(found_by_probe)
    return findings


async def _probe(probe: Probe, config: Config) -> list[Finding]:
    name = getattr(probe, "what", getattr(probe, "__name__", "a service"))
    try:
        return await asyncio.wait_for(probe(config), PROBE_SECONDS)
    except TimeoutError:
        return [Finding("fail", str(name), f"no answer within {PROBE_SECONDS:.0f} s")]


def exit_code(findings: Sequence[Finding]) -> int:
    """0 when nothing failed (warnings are for reading), 1 otherwise."""
    return 1 if any(found.level == "fail" for found in findings) else 0


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
