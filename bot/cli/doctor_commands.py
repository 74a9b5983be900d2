"""`needsfirst doctor [--config FILE]`: is this deployment ready? One line a check,
"ok", "warn" or "fail"; exit 0 when nothing failed, 1 otherwise (docs/deployment.md).

The checks are bot/actions/doctor.py's; those that call a service come from the
channel that speaks to it. The public URL's health check, as the load balancer sees
it, is here: it is a plain GET.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

import aiohttp

from bot.actions.doctor import Finding, examine, exit_code
from bot.config import Config
from bot.notify.health_checks import notify
from bot.scheduling.scheduler import TICK_SECONDS
from bot.telegram.health_checks import telegram
from bot.whatsapp.health_checks import whatsapp

SCHEDULER_TABLE = "scheduler_jobs"  # the job store's table (bot/scheduling/scheduler.py)


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    doctor = commands.add_parser(
        "doctor", parents=[common],
        help="check the configuration, database, Telegram, Notify, WhatsApp and the public URL",
    )  # fmt: skip
    doctor.set_defaults(handler=_doctor)


def _doctor(_: Config, args: argparse.Namespace) -> int:
    # The Notify client logs each refusal; the finding says it once, plainly.
    logging.getLogger("notifications_python_client").setLevel(logging.ERROR)
    findings = asyncio.run(
        examine(args.config, (telegram, public_url, notify, whatsapp),
                scheduler_table=SCHEDULER_TABLE, tick_seconds=TICK_SECONDS)
    )  # fmt: skip
    for found in findings:
        print(found.line())
    return exit_code(findings)


async def public_url(config: Config) -> list[Finding]:
    """GET [web] public_url + /healthz: the service as residents and the load balancer reach it."""
    base = config.web.public_url.rstrip("/")
    if not base:
        return [Finding("warn", "public url", "[web] public_url is not set: links in "
                        "invitations and sign-ins point nowhere")]  # fmt: skip
    url = f"{base}/healthz"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session,
            session.get(url) as response,
        ):
            status = response.status
            body = await response.json(content_type=None) if status in (200, 503) else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return [Finding("fail", "public url", f"{url}: {type(error).__name__} {error}".strip())]
    state = body.get("status") if isinstance(body, dict) else None
    if status == 200 and state == "ok":
        return [Finding("ok", "public url", f"{url} answers: ok")]
    if status == 200 and state == "degraded" and isinstance(body, dict):
        parts = ", ".join(f"{k} {v}" for k, v in body.items() if v not in ("ok", "off", state)
                          and "_" not in k)  # fmt: skip
        return [Finding("warn", "public url", f"{url} answers: degraded ({parts})")]
    return [Finding("fail", "public url", f"{url} answers {status} {state or ''}".strip())]
