"""The front page: the open consultations, each with a link to its web chat."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlmodel import Session

from bot.web.chat import preferred_language
from bot.web.keys import CONFIG_KEY, ENGINE_KEY, STATUS_KEY
from bot.web.templating import render
from conversations.storage import store
from conversations.storage.models import Consultation


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", front_page)


async def front_page(request: web.Request) -> web.Response:
    """Open consultations with links to their chats, and how to turn Telegram on."""
    db = request.app[ENGINE_KEY]
    config = request.app[CONFIG_KEY]

    def load() -> list[Consultation]:
        with Session(db) as session:
            return [c for c, _ in store.open_consultations(session=session)]

    consultations = await asyncio.to_thread(load)
    return render(
        request,
        "front.html",
        lang=preferred_language(request),
        consultations=consultations,
        telegram_on=request.app[STATUS_KEY].get("telegram") == "ok",
        bot_username=config.telegram.bot_username,
    )
