"""The health check for load balancers: 200 when the database answers, 503 otherwise."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from sqlalchemy import text

from bot.web.keys import ENGINE_KEY, STATUS_KEY

log = logging.getLogger(__name__)


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
    healthy = all(value in ("ok", "off") for value in checks.values())
    return web.json_response(
        {"status": "ok" if healthy else "unhealthy", **checks}, status=200 if healthy else 503
    )
