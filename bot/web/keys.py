"""What the web application carries for its handlers (set once by bot.web.app)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web
from jinja2 import Environment
from sqlalchemy import Engine

from bot.actions.staff_roster import StaffRoster
from bot.config import Config
from bot.web.devices import DeviceKey
from conversations.residents.service import ConversationService

ENGINE_KEY = web.AppKey("engine", Engine)
CONFIG_KEY = web.AppKey("config", Config)
# [staff] as the configuration file says it now (re-read when the file changes).
ROSTER_KEY = web.AppKey("roster", StaffRoster)
CONVERSATIONS_KEY = web.AppKey("conversations", ConversationService)
TEMPLATES_KEY = web.AppKey("templates", Environment)
# The python-telegram-bot Application, when Telegram is on (typed loosely: PTB's generics).
TELEGRAM_KEY = web.AppKey("telegram", object)
# The WhatsApp webhook (bot/whatsapp/webhook.py), when WhatsApp is on.
WHATSAPP_KEY = web.AppKey("whatsapp", object)
STATUS_KEY = web.AppKey("status", dict[str, Any])
# The key that signs web chat devices and their forms (bot/web/devices.py).
DEVICE_KEY = web.AppKey("device_key", DeviceKey)
# Threads for theme analysis: minutes of CPU that must not hold up the default
# executor, which with SQLite is the one thread every database call goes through.
ANALYSIS_KEY = web.AppKey("analysis", ThreadPoolExecutor)
# Sends a staff address its sign-in link ((address, link) -> None), when [staff] has
# email addresses and Notify is set up; bot.app passes it in (bot/web/email_sign_in.py).
SIGN_IN_MAILER_KEY = web.AppKey("sign_in_mailer", object)
