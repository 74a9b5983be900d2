"""Rounds on the dashboard: open the next round (an answer round or a prioritise round),
close the open one (after a confirmation), and schedule when the next one opens and closes.

Each goes through the same actions as `needsfirst round open|close|schedule` and the
Telegram /open, /close and /schedule (bot.actions.priorities.open_round and
conversations.staff.rounds.Rounds, which audit), so each rule lives in one place; a
typed time is read as bot/actions/round_times.py reads it, in the [digest] time zone.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.actions.priorities import open_round
from bot.actions.round_times import EXAMPLE, in_utc, typed_time
from bot.web.dashboard import consultation_response
from bot.web.guards import staff_form, staff_post
from bot.web.keys import CONFIG_KEY, CONVERSATIONS_KEY, ENGINE_KEY
from bot.web.templating import see_other
from conversations.staff.rounds import ROUND_KINDS, Rounds
from conversations.storage import store

ROLES = ("facilitator", "admin")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/staff/c/{slug}/round", change_round)
    app.router.add_post("/staff/c/{slug}/round/schedule", schedule_round)


@staff_form(*ROLES)
async def change_round(request: web.Request) -> web.Response:
    """Open the next round (of the kind chosen) or close the open one (audited)."""
    staff, form = staff_post(request)
    slug = request.match_info["slug"]
    action, kind = form.get("action"), form.get("kind") or "needs"
    if action not in ("open", "close"):
        raise web.HTTPBadRequest(text="action must be open or close")
    if kind not in ROUND_KINDS:
        return await consultation_response(request, staff, slug, status=400,
                                           error="Choose an answer round or a prioritise round.")  # fmt: skip
    if action == "close" and form.get("confirm") != "yes":
        # Closing cannot be undone for the residents part-way through: ask first.
        return await consultation_response(request, staff, slug, confirm_close=True)
    db = request.app[ENGINE_KEY]
    if action == "open":
        change = partial(open_round, db, slug, kind=kind, actor=staff.actor)
    else:
        rounds = Rounds(db, request.app[CONVERSATIONS_KEY].scripts)
        change = partial(rounds.close, slug, actor=staff.actor)
    try:
        await asyncio.to_thread(change)
    except store.StoreError as error:
        return await consultation_response(request, staff, slug, error=f"{error}.", status=409)
    return see_other(f"/staff/c/{slug}?done={'opened' if action == 'open' else 'closed'}")


def _typed(form: dict[str, str], name: str, zone: ZoneInfo) -> datetime | None:
    """A date and time from the form (a browser's datetime-local, or typed); None if empty."""
    text = form.get(name, "").strip()
    return in_utc(typed_time(text), zone) if text else None


@staff_form(*ROLES)
async def schedule_round(request: web.Request) -> web.Response:
    """Set when the next round opens and closes and what kind it is, or only when the
    open round closes; the scheduler does the rest (audited)."""
    staff, form = staff_post(request)
    slug = request.match_info["slug"]
    typed = {k: form.get(k, "") for k in ("opens", "closes", "kind", "form")}
    next_round = form.get("form") == "next"

    async def refused(error: str, status: int = 400) -> web.Response:
        return await consultation_response(request, staff, slug, error=error, status=status,
                                           typed=typed)  # fmt: skip

    zone = ZoneInfo(request.app[CONFIG_KEY].digest.timezone)
    try:
        opens = _typed(form, "opens", zone) if next_round else None
        closes = _typed(form, "closes", zone)
    except ValueError:
        return await refused(f"Write each time as a date and time, such as {EXAMPLE}.")
    kind = form.get("kind") if next_round else None
    if next_round and opens is None:
        return await refused("Say when the next round opens (or open it now, above).")
    if kind is not None and kind not in ROUND_KINDS:
        return await refused("Choose an answer round or a prioritise round.")
    rounds = Rounds(request.app[ENGINE_KEY], request.app[CONVERSATIONS_KEY].scripts)
    schedule = partial(rounds.schedule, slug, actor=staff.actor, opens_at=opens,
                       closes_at=closes, kind=kind)  # fmt: skip
    try:
        await asyncio.to_thread(schedule)
    except store.StoreError as error:
        return await refused(f"Nothing was scheduled: {error}.", status=409)
    return see_other(f"/staff/c/{slug}?done=scheduled")
