"""Assembles the web application: resident chat, staff dashboard, health, Telegram webhook.

Everything a handler needs is set on the application here, from the Config and
the composition root's objects; no module keeps connections or settings of its
own, and no state lives in process memory between requests.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from bot.actions.public_results import results_url_pattern
from bot.actions.staff_roster import StaffRoster
from bot.config import Config
from bot.web import (
    accessibility,
    broadcast_pages,
    chat,
    coding_pages,
    dashboard,
    data_pages,
    decision_pages,
    devices,
    digest_pages,
    email_sign_in,
    front_page,
    import_pages,
    link_pages,
    metrics,
    pack_pages,
    priority_pages,
    results_pages,
    round_pages,
    safeguarding_pages,
    sign_in_pages,
    theme_pages,
    theme_run_pages,
)
from bot.web.guards import guard_unsafe_methods
from bot.web.health import healthz
from bot.web.keys import (
    ANALYSIS_KEY,
    CONFIG_KEY,
    CONVERSATIONS_KEY,
    DEVICE_KEY,
    ENGINE_KEY,
    ROSTER_KEY,
    SIGN_IN_MAILER_KEY,
    STATUS_KEY,
    TELEGRAM_KEY,
    TEMPLATES_KEY,
    WHATSAPP_KEY,
)
from bot.web.security import add_security_headers
from bot.web.templating import template_environment
from bot.web.webhook import telegram_webhook, whatsapp_verify, whatsapp_webhook
from conversations.residents.service import ConversationService

STATIC = Path(__file__).resolve().parent / "static"
MAX_REQUEST_BYTES = 1_000_000  # a Telegram update or a form; answers are capped far below


def build_web_app(db: Engine, config: Config, *, telegram: object | None = None,
                  status: dict[str, Any] | None = None,
                  conversations: ConversationService | None = None,
                  roster: StaffRoster | None = None,
                  whatsapp: object | None = None,
                  sign_in_mailer: object | None = None) -> web.Application:  # fmt: skip
    """The aiohttp application for one worker; any number may serve the same database."""
    # Every POST passes its route's declared guard first; an undeclared route is refused.
    app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=[guard_unsafe_methods])
    app[ENGINE_KEY] = db
    app[CONFIG_KEY] = config
    app[ROSTER_KEY] = roster or StaffRoster(config)
    app[CONVERSATIONS_KEY] = conversations or ConversationService(
        db, results_url=results_url_pattern(config)
    )
    app[TEMPLATES_KEY] = template_environment()
    app[TELEGRAM_KEY] = telegram
    app[WHATSAPP_KEY] = whatsapp
    app[SIGN_IN_MAILER_KEY] = sign_in_mailer
    app[STATUS_KEY] = status if status is not None else {}
    app[DEVICE_KEY] = devices.DeviceKey(db, config)
    # One analysis at a time per worker: each is CPU-bound, and a second click waits.
    app[ANALYSIS_KEY] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analysis")
    app.on_cleanup.append(stop_analysis)
    app.on_response_prepare.append(add_security_headers)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/telegram/webhook", telegram_webhook)
    app.router.add_get("/whatsapp/webhook", whatsapp_verify)
    app.router.add_post("/whatsapp/webhook", whatsapp_webhook)
    app.router.add_static("/static/", STATIC, append_version=False)
    results_pages.add_routes(app)  # before the chat's /c/{slug}/{source}
    data_pages.add_routes(app)  # before chat's /c/{slug}/{source}
    front_page.add_routes(app)
    accessibility.add_routes(app)  # and the footer's link to it on every page
    chat.add_routes(app)
    sign_in_pages.add_routes(app)
    email_sign_in.add_routes(app)
    app.on_shutdown.append(email_sign_in.finish_sending)
    dashboard.add_routes(app)
    round_pages.add_routes(app)
    theme_pages.add_routes(app)
    theme_run_pages.add_routes(app)
    coding_pages.add_routes(app)
    priority_pages.add_routes(app)
    pack_pages.add_routes(app)
    broadcast_pages.add_routes(app)
    digest_pages.add_routes(app)
    link_pages.add_routes(app)
    decision_pages.add_routes(app)
    safeguarding_pages.add_routes(app)
    import_pages.add_routes(app)
    metrics.add_routes(app)  # [metrics] enabled
    return app


async def stop_analysis(app: web.Application) -> None:
    """Drop queued analyses at shutdown; one already running finishes in its thread."""
    app[ANALYSIS_KEY].shutdown(wait=False, cancel_futures=True)
