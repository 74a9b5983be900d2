"""Evidence packs on the dashboard: the reviewed themes with a pack each, and one for
the whole consultation, in HTML, PDF, CSV and XLSX (officers and facilitators).

A pack quotes residents (scrubbed), so each one made is audited with who made it
(bot/actions/packs.py). The HTML pack is a document of its own, with inline styles
and charts as data URIs: it is served with the digest's policy, which allows those
and nothing else (no scripts at all).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlmodel import Session

from bot.actions.packs import FORMATS, PackFile, make_pack
from bot.web.auth import Staff, signed_in
from bot.web.dashboard import page
from bot.web.digest_pages import REPORT_POLICY
from bot.web.keys import CONFIG_KEY, ENGINE_KEY
from bot.web.numbers import id_in_path
from conversations.staff import public_results
from conversations.storage import store

READERS = ("officer", "facilitator")


@dataclass(frozen=True)
class PackLink:
    label: str
    path: str  # without the extension: "/staff/c/SLUG/pack/3"
    answers: int | None


def add_routes(app: web.Application) -> None:
    app.router.add_get("/staff/c/{slug}/pack", packs_page)
    app.router.add_get(r"/staff/c/{slug}/pack/all.{fmt:html|pdf|csv|xlsx}", whole_pack)
    app.router.add_get(
        r"/staff/c/{slug}/pack/{theme_id:[0-9]+}.{fmt:html|pdf|csv|xlsx}", theme_pack
    )


async def _reader(request: web.Request) -> Staff:
    staff = await signed_in(request)
    if not any(staff.can(role) for role in READERS):
        raise web.HTTPForbidden(text="evidence packs are for officers and facilitators")
    return staff


async def packs_page(request: web.Request) -> web.Response:
    """The consultation's reviewed themes, each with its pack, and the whole consultation's."""
    staff = await _reader(request)
    slug = request.match_info["slug"]
    db = request.app[ENGINE_KEY]

    def load() -> tuple[str, list[PackLink]]:
        with Session(db) as session:
            consultation = store.consultation_by_slug(session=session, slug=slug)
            if consultation is None or consultation.id is None:
                raise web.HTTPNotFound(text="no such consultation")
            reviewed = public_results.reviewed_themes(
                session=session, consultation_id=consultation.id
            )
            links = [PackLink(f"{t.theme_id}. {t.label}", f"/staff/c/{slug}/pack/{t.theme_id}", t.size)
                     for t in reviewed]  # fmt: skip
            return consultation.title, links

    title, links = await asyncio.to_thread(load)
    whole = PackLink("The whole consultation", f"/staff/c/{slug}/pack/all", None)
    return page(request, staff, "staff/packs.html", c={"slug": slug}, title=title, tab="pack",
                links=links, whole=whole, formats=FORMATS)  # fmt: skip


async def _made(request: web.Request, theme_id: int | None) -> web.Response:
    staff = await _reader(request)
    slug, fmt = request.match_info["slug"], request.match_info["fmt"]
    zone = ZoneInfo(request.app[CONFIG_KEY].digest.timezone)

    def make() -> PackFile:
        return make_pack(request.app[ENGINE_KEY], slug, theme_id=theme_id, fmt=fmt,
                         actor=staff.actor, zone=zone)  # fmt: skip

    try:
        made = await asyncio.to_thread(make)
    except store.StoreError as error:
        raise web.HTTPNotFound(text=str(error)) from None
    if fmt == "html":
        return web.Response(
            body=made.content,
            content_type="text/html",
            charset="utf-8",
            headers={"Content-Security-Policy": REPORT_POLICY},
        )
    return web.Response(
        body=made.content,
        content_type=made.media_type,
        headers={"Content-Disposition": f'attachment; filename="{made.name}"'},
    )


async def whole_pack(request: web.Request) -> web.Response:
    """The whole consultation's evidence pack."""
    return await _made(request, None)


async def theme_pack(request: web.Request) -> web.Response:
    """One reviewed theme's evidence pack."""
    return await _made(request, id_in_path(request, "theme_id", "theme"))
