"""The dashboard's priorities page: how residents ranked the themes in a prioritise round."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlmodel import Session

from bot.actions.priorities import PriorityReport, priorities_report
from bot.web.auth import signed_in
from bot.web.dashboard import page
from bot.web.keys import ENGINE_KEY
from conversations.storage import store

READERS = ("officer", "facilitator")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/staff/c/{slug}/priorities", priorities_page)


async def priorities_page(request: web.Request) -> web.Response:
    """Overall priorities with uncertainty, agreement, common ground and divisive themes."""
    staff = await signed_in(request)
    if not any(staff.can(role) for role in READERS):
        raise web.HTTPForbidden(text="priorities are for officers and facilitators")
    slug = request.match_info["slug"]
    db = request.app[ENGINE_KEY]

    def load() -> PriorityReport | None:
        with Session(db) as session:
            if store.consultation_by_slug(session=session, slug=slug) is None:
                raise web.HTTPNotFound(text="no such consultation")
        try:
            return priorities_report(db, slug)
        except store.StoreError:
            # No prioritise round yet. The error is worded for the command line; the
            # page says it in its own words, for the dashboard.
            return None

    report = await asyncio.to_thread(load)
    return page(request, staff, "staff/priorities.html", slug=slug, report=report, tab="priorities")
