"""A consultation's public results page: "We asked, you said, we did".

GET only and open to anyone, with no sign-in and no cookie set: what was asked, how
many took part and who was under-heard, the reviewed themes with scrubbed quotes,
what residents prioritised and what was decided (bot/actions/public_results.py).
The language is the reader's choice (`?lang=`), else their web chat's, else their
browser's, as the chat page picks it. Built afresh on every request.
"""

from __future__ import annotations

import asyncio
import re

from aiohttp import web
from sqlmodel import Session

from bot.actions.public_results import public_results_of
from bot.web import devices
from bot.web.chat import preferred_language
from bot.web.keys import CONVERSATIONS_KEY, DEVICE_KEY, ENGINE_KEY
from bot.web.templating import render
from conversations.locale import LANGUAGES
from conversations.locale.catalogues import language_name
from conversations.residents.texts import a_date
from conversations.storage import store

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")  # as the chat's


def add_routes(app: web.Application) -> None:
    app.router.add_get("/c/{slug}/results", results_page)


async def reader_language(request: web.Request) -> str:
    """`?lang=`, else the language this device's resident chose in the chat, else the
    browser's."""
    asked = request.query.get("lang", "")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get(devices.COOKIE, "")
    device = devices.recognised(await request.app[DEVICE_KEY].get(), cookie) if cookie else None
    if device is not None:
        db = request.app[ENGINE_KEY]

        def known() -> str | None:
            with Session(db) as session:
                resident = store.resident_for(
                    session=session, channel="web", external_id=device.visitor
                )
                return resident.language if resident is not None else None

        chosen = await asyncio.to_thread(known)
        if chosen in LANGUAGES:
            return str(chosen)
    return preferred_language(request)


async def results_page(request: web.Request) -> web.Response:
    """What was asked, who took part, what was heard and what was done about it."""
    slug = request.match_info["slug"]
    language = await reader_language(request)
    results = None
    if SLUG.match(slug):
        results = await asyncio.to_thread(
            public_results_of, request.app[ENGINE_KEY], slug, language,
            request.app[CONVERSATIONS_KEY].scripts,
        )  # fmt: skip
    if results is None:
        return render(request, "not_found.html", status=404, lang=language)
    return render(
        request,
        "results.html",
        lang=language,
        results=results,
        date=lambda moment: a_date(moment, language, with_time=False),
        moment=lambda moment: a_date(moment, language),
        language_names={code: language_name(code) for code in LANGUAGES},
        other_languages=[code for code in LANGUAGES if code != language],
    )
