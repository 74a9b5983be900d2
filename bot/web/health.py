"""The web server: health check, Telegram webhook route and a front page.

The webhook route only checks the secret and puts the update on the
Application's queue (as python-telegram-bot's custom-webhook example does).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from aiohttp import web
from sqlalchemy import Engine, text
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)
MAX_UPDATE_BYTES = 1_000_000

ENGINE_KEY = web.AppKey("engine", Engine)
TELEGRAM_KEY = web.AppKey("telegram", object)
SECRET_KEY = web.AppKey("secret", str)
STATUS_KEY = web.AppKey("status", dict[str, Any])


def build_web_app(db: Engine, *, telegram: Application | None = None, secret_token: str = "",  # type: ignore[type-arg]
                  status: dict[str, Any] | None = None) -> web.Application:  # fmt: skip
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app[ENGINE_KEY] = db
    app[TELEGRAM_KEY] = telegram
    app[SECRET_KEY] = secret_token
    app[STATUS_KEY] = status if status is not None else {}
    app.router.add_get("/", front_page)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/telegram/webhook", telegram_webhook)
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise (for load balancers)."""
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
    return web.json_response({"status": "ok" if healthy else "unhealthy", **checks},
                             status=200 if healthy else 503)  # fmt: skip


async def telegram_webhook(request: web.Request) -> web.Response:
    """Telegram's webhook: checks the secret header, then queues the update."""
    application = request.app[TELEGRAM_KEY]
    secret = request.app[SECRET_KEY]
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not isinstance(application, Application) or not secret:
        raise web.HTTPNotFound()
    if not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning("refused a webhook call without the right secret token")
        raise web.HTTPForbidden()
    try:
        data = await request.json()
        update = Update.de_json(data, application.bot)
    except (json.JSONDecodeError, ValueError, TypeError, KeyError) as error:
        log.warning("refused a malformed webhook update: %s", type(error).__name__)
        raise web.HTTPBadRequest() from error
    await application.update_queue.put(update)
    return web.Response(text="ok")


async def front_page(request: web.Request) -> web.Response:
    status = request.app[STATUS_KEY]
    telegram = status.get("telegram", "off")
    note = (
        "The Telegram bot is running."
        if telegram == "ok"
        else "Telegram is off: set <code>[telegram] token</code> in config.toml "
        "(or the NEEDSFIRST_TELEGRAM_TOKEN environment variable) to a token from @BotFather."
    )
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Needs First</title></head>
<body><main><h1>Needs First</h1>
<p>A needs-first consultation service is running here.</p>
<p>{note}</p>
<p><a href="/healthz">Health check</a></p>
</main></body></html>"""
    return web.Response(text=body, content_type="text/html")
