"""The channels' webhooks. Telegram's: check the secret header, then put the update on
PTB's queue. WhatsApp's: bot/whatsapp/webhook.py checks Meta's signature.

As python-telegram-bot's custom-webhook example does, the route does nothing
else; the Application's handlers do the work, with all state in the database,
so any of several workers behind a load balancer can take any update.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram.ext import Application

from bot.telegram.durable_updates import DurableInbox
from bot.telegram.updates import read_any
from bot.web.guards import exempt
from bot.web.keys import CONFIG_KEY, TELEGRAM_KEY, WHATSAPP_KEY
from bot.whatsapp.webhook import WhatsAppWebhook

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@exempt("Telegram has no session or form: the handler checks the secret header")
async def telegram_webhook(request: web.Request) -> web.Response:
    """An update from Telegram: 403 without the configured secret, else queued."""
    secret = request.app[CONFIG_KEY].telegram.secret_token
    given = request.headers.get(SECRET_HEADER, "")
    if not secret or not hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8")):
        log.warning("refused a webhook call without the right secret token")
        raise web.HTTPForbidden(text="forbidden")
    application = request.app[TELEGRAM_KEY]
    if not isinstance(application, Application):
        raise web.HTTPServiceUnavailable(text="Telegram is not running in this process")
    try:
        data = await request.json()
        if not isinstance(data, dict):
            raise TypeError("an update is a JSON object")
        update = read_any(data, application.bot)
        if update is None:
            raise TypeError("not an update the bot can read")
    # RecursionError: a body nested thousands of levels deep, which json cannot read.
    except (
        json.JSONDecodeError, ValueError, TypeError, KeyError, AttributeError, RecursionError
    ) as error:  # fmt: skip
        log.warning("refused a malformed webhook update: %s", type(error).__name__)
        raise web.HTTPBadRequest(text="malformed update") from error
    durable = application.bot_data.get("durable")
    # Written down before Telegram hears "ok", so a crash cannot lose it.
    if isinstance(durable, DurableInbox) and not await durable.keep_delivered(data):
        raise web.HTTPServiceUnavailable(text="not kept: send it again")
    await application.update_queue.put(update)
    return web.Response(text="ok")


def _whatsapp(request: web.Request) -> WhatsAppWebhook:
    webhook = request.app[WHATSAPP_KEY]
    if not isinstance(webhook, WhatsAppWebhook):
        raise web.HTTPNotFound(text="WhatsApp is not on")
    return webhook


async def whatsapp_verify(request: web.Request) -> web.Response:
    """Meta's subscription check (GET)."""
    return await _whatsapp(request).verify(request)


@exempt("Meta signs each call: the handler checks X-Hub-Signature-256")
async def whatsapp_webhook(request: web.Request) -> web.Response:
    """Residents' WhatsApp messages and our messages' statuses."""
    return await _whatsapp(request).receive(request)
