"""Broadcast pages: facilitators write an invitation, preview it, confirm it and watch it go.

A broadcast goes through conversations.staff.broadcasts as from the command line and
Telegram: drafted with a count of recipients, queued on confirmation (which
writes the recipients down and is audited), or cancelled; the running service
sends it. The progress page updates itself with static/progress.js and has a
Refresh link that does the same without JavaScript.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import WhatsAppConfig
from bot.web.auth import Staff, allowed
from bot.web.dashboard import page
from bot.web.guards import staff_form, staff_post
from bot.web.keys import CONFIG_KEY, CONVERSATIONS_KEY, ENGINE_KEY
from bot.web.numbers import id_in_path
from bot.web.templating import see_other
from conversations.flow.numbers import whole_number
from conversations.flow.script import Script
from conversations.staff import broadcasts
from conversations.staff.broadcasts import MAX_WINDOW_MINUTES as MAX_WINDOW
from conversations.staff.broadcasts import BroadcastError, Progress
from conversations.staff.coverage import round_status
from conversations.storage import store
from conversations.storage.models import Broadcast, Consultation, utcnow
from conversations.storage.scripts import ScriptCache

ROLE = "facilitator"
LISTED = 50
STATUS_NAMES = {
    "draft": "Draft: not sent",
    "queued": "Queued",
    "sending": "Sending",
    "done": "Finished",
    "cancelled": "Cancelled",
}
ACTIVE = ("queued", "sending")


@dataclass(frozen=True)
class GroupChoice:
    value: str  # DIMENSION=VALUE, as broadcasts.parse_group reads it
    label: str  # "South (Marsh End, Brookvale)"
    dimension: str  # "area"
    detail: str = ""  # why it is offered: the shares, for an under-heard group
    reachable: int = 0  # residents a broadcast to it would reach now


@dataclass(frozen=True)
class Listed:
    broadcast: Broadcast
    slug: str
    group: str
    total: int
    sent: int


def _dimension_name(dimension: str) -> str:
    return dimension.replace("_", " ")


def _groups(script: Script) -> list[GroupChoice]:
    """Every group a broadcast may go to: the options of the script's profile questions."""
    return [
        GroupChoice(
            f"{dimension}={option.id}",
            option.label.get("en", script.default_language),
            _dimension_name(dimension),
        )
        for dimension, step in script.profile_dimensions().items()
        for option in step.options
    ]


def group_label(script: Script, dimension: str | None, value: str | None) -> str:
    if not dimension or not value:
        return "everyone who agreed to hear from us"
    for choice in _groups(script):
        if choice.value == f"{dimension}={value}":
            return f"{choice.label} ({choice.dimension})"
    return f"{dimension}={value}"


def _listed(session: Session, scripts: ScriptCache, rows: list[Broadcast]) -> list[Listed]:
    """Broadcasts with their consultation, group and counts (one query for the counts)."""
    ids = [b.id for b in rows if b.id is not None]
    counts = broadcasts.recipient_counts(session=session, broadcast_ids=ids)
    result = []
    for broadcast in rows:
        consultation = session.get(Consultation, broadcast.consultation_id)
        assert consultation is not None and broadcast.id is not None
        script = scripts.get(consultation)
        mine = counts.get(broadcast.id, {})
        result.append(
            Listed(
                broadcast=broadcast,
                slug=consultation.slug,
                group=group_label(script, broadcast.group_dimension, broadcast.group_value),
                total=sum(mine.values()),
                sent=mine.get("sent", 0),
            )
        )
    return result


def add_routes(app: web.Application) -> None:
    app.router.add_get("/staff/broadcasts", broadcasts_index)
    app.router.add_get("/staff/c/{slug}/broadcasts", compose_page)
    app.router.add_post("/staff/c/{slug}/broadcasts", draft_broadcast)
    app.router.add_get(r"/staff/broadcasts/{broadcast_id:[0-9]+}", broadcast_page)
    app.router.add_post(r"/staff/broadcasts/{broadcast_id:[0-9]+}/send", send_broadcast)
    app.router.add_post(r"/staff/broadcasts/{broadcast_id:[0-9]+}/cancel", cancel_broadcast)


# --- every broadcast ------------------------------------------------------------------------


async def broadcasts_index(request: web.Request) -> web.Response:
    """Recent broadcasts of every consultation, newest first, and where to start one."""
    staff = await allowed(request, ROLE)
    db, scripts = request.app[ENGINE_KEY], request.app[CONVERSATIONS_KEY].scripts

    def load() -> tuple[list[Listed], list[Consultation]]:
        with Session(db) as session:
            rows = broadcasts.recent(session=session, limit=LISTED)
            return _listed(session, scripts, rows), list(store.all_consultations(session=session))

    listed, consultations = await asyncio.to_thread(load)
    return page(request, staff, "staff/broadcasts.html", listed=listed,
                consultations=consultations, status_names=STATUS_NAMES)  # fmt: skip


# --- writing one ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compose:
    consultation: Consultation
    title: str
    round_number: int | None
    under_heard: list[GroupChoice]  # with someone to invite
    unreachable: list[GroupChoice]  # under-heard, but no one in them to invite yet
    groups: list[GroupChoice]
    listed: list[Listed]


def _compose(db: Engine, scripts: ScriptCache, slug: str) -> Compose | None:
    with Session(db) as session:
        consultation = store.consultation_by_slug(session=session, slug=slug)
        if consultation is None or consultation.id is None:
            return None
        script = scripts.get(consultation)
        groups = _groups(script)
        offered = {g.value: g for g in groups}
        current = store.current_round(session=session, consultation_id=consultation.id)
        under_heard = []
        if current is not None:
            status = round_status(session=session, script=script, round_=current,
                                  consultation_slug=slug)  # fmt: skip
            for dimension, group in status.under_heard():
                choice = offered.get(f"{dimension}={group.group}")
                if choice is not None:  # partner sources are not profile answers
                    detail = (
                        f"{group.share:.0%} of respondents, "
                        f"{group.population_share or 0:.0%} of the population"
                    )
                    reachable = len(
                        broadcasts.audience(session=session, consultation=consultation,
                                            group=(dimension, group.group))
                    )  # fmt: skip
                    under_heard.append(GroupChoice(choice.value, choice.label, choice.dimension,
                                                   detail, reachable))  # fmt: skip
        rows = broadcasts.recent(session=session, consultation_id=consultation.id, limit=LISTED)
        return Compose(
            consultation=consultation,
            title=script.title.get("en", script.default_language),
            round_number=current.number if current else None,
            under_heard=[g for g in under_heard if g.reachable],
            unreachable=[g for g in under_heard if not g.reachable],
            groups=groups,
            listed=_listed(session, scripts, rows),
        )


async def compose_page(request: web.Request) -> web.Response:
    """The form to write a broadcast, with under-heard groups offered first."""
    staff = await allowed(request, ROLE)
    chosen = request.query.get("group", "")
    return await _compose_page(request, staff, request.match_info["slug"], group=chosen)


async def _compose_page(request: web.Request, staff: Staff, slug: str, *, status: int = 200,
                        error: str = "", **typed: Any) -> web.Response:  # fmt: skip
    compose = await asyncio.to_thread(
        _compose, request.app[ENGINE_KEY], request.app[CONVERSATIONS_KEY].scripts, slug
    )
    if compose is None:
        raise web.HTTPNotFound(text="no such consultation")
    choices = {g.value for g in compose.groups}
    group = typed.get("group", "")
    if group and group not in choices:
        group = ""
    form = {"message": "", "window": "", **typed, "group": group}
    return page(
        request, staff, "staff/broadcast_new.html", status=status, compose=compose, error=error,
        form=form, c=compose.consultation, tab="broadcasts", status_names=STATUS_NAMES,
        under_heard_values={g.value for g in compose.under_heard},
    )  # fmt: skip


@staff_form(ROLE)
async def draft_broadcast(request: web.Request) -> web.Response:
    """Draft a broadcast and show its preview (facilitators; audited)."""
    staff, form = staff_post(request)
    slug = request.match_info["slug"]
    message = form.get("message", "")
    choice = form.get("group", "")
    if choice == "other":
        choice = form.get("other_group", "")
    window = whole_number(form.get("window", "").strip() or "0", maximum=MAX_WINDOW)
    typed = {"message": message, "group": choice, "window": form.get("window", "")}

    async def refused(error: str, status: int = 400) -> web.Response:
        return await _compose_page(request, staff, slug, status=status, error=error, **typed)

    if window is None:
        return await refused(
            f"The window is a whole number of minutes, from 0 (send at once) to {MAX_WINDOW}."
        )
    try:
        group = broadcasts.parse_group(choice)
    except BroadcastError as error:
        return await refused(f"{error}.")
    db, scripts = request.app[ENGINE_KEY], request.app[CONVERSATIONS_KEY].scripts

    def draft() -> int:
        with Session(db) as session, session.begin():
            consultation = store.require_consultation(session=session, slug=slug)
            offered = {g.value for g in _groups(scripts.get(consultation))}
            if group is not None and f"{group[0]}={group[1]}" not in offered:
                raise BroadcastError("choose a group from the list")
            broadcast, count = broadcasts.draft(
                session=session, slug=slug, message=message, created_by=staff.actor,
                group=group, window_minutes=window,
            )  # fmt: skip
            assert broadcast.id is not None
            store.audit(session=session, actor=staff.actor, action="broadcast.draft",
                        target=f"{slug} broadcast {broadcast.id}",
                        detail=f"{count} recipients" + (f" to {choice}" if group else ""))  # fmt: skip
            return broadcast.id

    try:
        broadcast_id = await asyncio.to_thread(draft)
    except store.StoreError:
        raise web.HTTPNotFound(text="no such consultation") from None
    except BroadcastError as error:
        return await refused(f"Nothing was drafted: {error}.", status=409)
    return see_other(f"/staff/broadcasts/{broadcast_id}")


# --- one broadcast: preview, then progress ----------------------------------------------------


@dataclass(frozen=True)
class BroadcastView:
    broadcast: Broadcast
    consultation: Consultation
    title: str
    group: str
    recipients: int  # a draft: who it would reach now; later: who it was queued for
    progress: Progress
    time_left: str  # while it is sent: the estimate the command line and Telegram show
    channels: dict[str, int]  # a draft: how many on each channel (telegram, whatsapp...)
    note: str = ""  # a draft: who will not get it after all (WhatsApp without its template)

    @property
    def active(self) -> bool:
        return self.broadcast.status in ACTIVE


def _broadcast_view(db: Engine, scripts: ScriptCache, broadcast_id: int,
                    whatsapp: WhatsAppConfig) -> BroadcastView | None:  # fmt: skip
    with Session(db) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        if broadcast is None:
            return None
        consultation = session.get(Consultation, broadcast.consultation_id)
        assert consultation is not None
        script = scripts.get(consultation)
        progress = broadcasts.progress(session=session, broadcast_id=broadcast_id,
                                       whatsapp_daily_limit=whatsapp.limit_in_force)  # fmt: skip
        recipients, channels, note = progress.total, {}, ""
        if broadcast.status == "draft":
            group = None
            if broadcast.group_dimension and broadcast.group_value:
                group = (broadcast.group_dimension, broadcast.group_value)
            reach = broadcasts.reach(session=session, consultation=consultation, group=group)
            recipients, channels = len(reach), broadcasts.per_channel(reach)
            note = broadcasts.whatsapp_note(channels, "invitation",
                                            template=whatsapp.template("invitation"))  # fmt: skip
        return BroadcastView(
            broadcast=broadcast,
            consultation=consultation,
            title=script.title.get("en", script.default_language),
            group=group_label(script, broadcast.group_dimension, broadcast.group_value),
            recipients=recipients,
            progress=progress,
            time_left=broadcasts.format_progress(progress).splitlines()[-1]
            if broadcast.status in ACTIVE
            else "",
            channels=channels,
            note=note,
        )


DONE = {
    "queued": "Confirmed: the broadcast is queued and the service is sending it.",
    "cancelled": "The broadcast is cancelled. No more invitations from it will be sent.",
}


async def broadcast_page(request: web.Request) -> web.Response:
    """A draft's preview with Send and Cancel, or a broadcast's progress."""
    staff = await allowed(request, ROLE)
    return await _broadcast_page(request, staff, id_in_path(request, "broadcast_id", "broadcast"))


async def _broadcast_page(request: web.Request, staff: Staff, broadcast_id: int, *,
                          error: str = "", status: int = 200) -> web.Response:  # fmt: skip
    view = await asyncio.to_thread(
        _broadcast_view, request.app[ENGINE_KEY], request.app[CONVERSATIONS_KEY].scripts,
        broadcast_id, request.app[CONFIG_KEY].whatsapp,
    )  # fmt: skip
    if view is None:
        raise web.HTTPNotFound(text="no such broadcast")
    return page(
        request, staff, "staff/broadcast.html", status=status, view=view, error=error,
        done=DONE.get(request.query.get("done", ""), ""), status_names=STATUS_NAMES,
        c=view.consultation, tab="broadcasts", checked=utcnow(),
    )  # fmt: skip


@staff_form(ROLE)
async def send_broadcast(request: web.Request) -> web.Response:
    """Confirm a draft: its recipients are written down and the sender takes it (audited)."""
    staff, form = staff_post(request)
    broadcast_id = id_in_path(request, "broadcast_id", "broadcast")
    if form.get("confirm") != "yes":  # the preview, saying to how many, is the confirmation
        return await _broadcast_page(request, staff, broadcast_id)
    db = request.app[ENGINE_KEY]

    def confirm() -> bool:
        with Session(db) as session, session.begin():
            if session.get(Broadcast, broadcast_id) is None:
                return False
            broadcasts.queue(session=session, broadcast_id=broadcast_id, actor=staff.actor)
            return True

    return await _changed(request, staff, broadcast_id, confirm, "queued")


@staff_form(ROLE)
async def cancel_broadcast(request: web.Request) -> web.Response:
    """Cancel a draft, or stop a broadcast being sent (audited)."""
    staff, _ = staff_post(request)
    broadcast_id = id_in_path(request, "broadcast_id", "broadcast")
    db = request.app[ENGINE_KEY]

    def cancel() -> bool:
        with Session(db) as session, session.begin():
            if session.get(Broadcast, broadcast_id) is None:
                return False
            broadcasts.cancel(session=session, broadcast_id=broadcast_id, actor=staff.actor)
            return True

    return await _changed(request, staff, broadcast_id, cancel, "cancelled")


async def _changed(request: web.Request, staff: Staff, broadcast_id: int,
                   change: Callable[[], bool], done: str) -> web.Response:  # fmt: skip
    try:
        found = await asyncio.to_thread(change)
    except BroadcastError as error:
        return await _broadcast_page(request, staff, broadcast_id, status=409,
                                     error=f"Nothing was changed: {error}.")  # fmt: skip
    if not found:
        raise web.HTTPNotFound(text="no such broadcast")
    return see_other(f"/staff/broadcasts/{broadcast_id}?done={done}")
