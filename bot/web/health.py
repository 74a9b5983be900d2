"""The health check for load balancers: 200 when the database answers, 503 otherwise.

A part that is down but being retried (Telegram out of reach at start-up) makes the
status "degraded" with 200: the web chat and dashboard still serve, so a load
balancer must not take this worker away; monitors read the status and the details."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.web.keys import ENGINE_KEY, STATUS_KEY

log = logging.getLogger(__name__)
# Parts that may be down and being retried while the rest serves (bot/telegram/start.py).
RETRYING = {"telegram": ("starting", "unreachable")}


async def healthz(request: web.Request) -> web.Response:
    """200 with JSON when the database answers and every part is ok or off; 503 otherwise."""
    db = request.app[ENGINE_KEY]

    def ping() -> None:
        with db.connect() as connection:
            connection.execute(text("SELECT 1"))

    checks: dict[str, Any] = {}
    try:
        await asyncio.to_thread(ping)
        checks["database"] = "ok"
    except Exception as error:  # any failure means "not healthy", never a crash
        log.warning("health check: database unreachable: %s", type(error).__name__)
        checks["database"] = "unreachable"
    for name, value in request.app[STATUS_KEY].items():
        checks[name] = value
    parts = {name: value for name, value in checks.items() if "_" not in name}  # not details
    # A standby scheduler (another process holds its lock) is as it should be.
    failing = {name for name, value in parts.items() if value not in ("ok", "off", "standby")}
    if all(parts[name] in RETRYING.get(name, ()) for name in failing):
        state = "degraded" if failing else "ok"
        return web.json_response({"status": state, **checks})
    return web.json_response({"status": "unhealthy", **checks}, status=503)
