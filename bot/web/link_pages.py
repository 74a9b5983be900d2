"""Partners' links: a link for each partner organisation (a "source"), with QR codes and
a poster to print, and who has come through each source so far.

The links are the ones `needsfirst links` and Telegram's /links give
(conversations.staff.rounds.partner_links, which also checks the source's name): the
web chat, Telegram's deep link when [telegram] bot_username is set, and WhatsApp's
wa.me link when [whatsapp] display_number is set. Making one is audited ("links.make").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web
from markupsafe import Markup
from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.staff_access import public_base_url
from bot.config import Config
from bot.web.auth import Staff, allowed
from bot.web.dashboard import page
from bot.web.guards import staff_form, staff_post
from bot.web.keys import CONFIG_KEY, CONVERSATIONS_KEY, ENGINE_KEY
from bot.web.qr_codes import qr_svg
from bot.web.templating import see_other
from conversations.staff.coverage import GroupCoverage, round_status
from conversations.staff.rounds import partner_links
from conversations.storage import store
from conversations.storage.models import Consultation
from conversations.storage.scripts import ScriptCache

ROLE = "facilitator"
CHANNELS = {
    "web": ("Web chat", "Opens the conversation in a web browser: nothing to install."),
    "telegram": ("Telegram", "Opens the conversation in the Telegram app."),
    "whatsapp": ("WhatsApp", "Opens WhatsApp with a first message ready to send."),
}


@dataclass(frozen=True)
class Partners:
    consultation: Consultation
    title: str
    description: str
    round_number: int | None
    sources: list[GroupCoverage]  # who came through each partner's link this round


@dataclass(frozen=True)
class Link:
    channel: str
    label: str
    how: str
    url: str
    qr: Markup


def add_routes(app: web.Application) -> None:
    app.router.add_get("/staff/c/{slug}/links", links_page)
    app.router.add_post("/staff/c/{slug}/links", make_links)
    app.router.add_get("/staff/c/{slug}/links/{source}", source_page)
    app.router.add_get("/staff/c/{slug}/links/{source}/poster", poster_page)


def _partners(db: Engine, scripts: ScriptCache, slug: str) -> Partners | None:
    with Session(db) as session:
        consultation = store.consultation_by_slug(session=session, slug=slug)
        if consultation is None or consultation.id is None:
            return None
        script = scripts.get(consultation)
        current = store.current_round(session=session, consultation_id=consultation.id)
        sources: list[GroupCoverage] = []
        if current is not None:
            status = round_status(session=session, script=script, round_=current,
                                  consultation_slug=slug)  # fmt: skip
            sources = [g for g in status.coverage.get("source", []) if g.group != "direct"]
        description = (
            script.description.get("en", script.default_language) if script.description else ""
        )
        return Partners(consultation, script.title.get("en", script.default_language),
                        description, current.number if current else None, sources)  # fmt: skip


async def _load(request: web.Request) -> tuple[Staff, Partners]:
    staff = await allowed(request, ROLE)
    partners = await asyncio.to_thread(
        _partners, request.app[ENGINE_KEY], request.app[CONVERSATIONS_KEY].scripts,
        request.match_info["slug"],
    )  # fmt: skip
    if partners is None:
        raise web.HTTPNotFound(text="no such consultation")
    return staff, partners


def links_for(config: Config, partners: Partners, source: str) -> list[Link]:
    """Each channel's link for the source, with its QR code; StoreError for a bad name."""
    found = partner_links(
        slug=partners.consultation.slug, source=source, bot_username=config.telegram.bot_username,
        public_url=public_base_url(config), whatsapp_number=config.whatsapp.display_number,
    )  # fmt: skip
    links = []
    for channel, url in found.items():
        label, how = CHANNELS[channel]
        alt = f"QR code: {label} link for {partners.title}, {url}"
        links.append(Link(channel, label, how, url, qr_svg(url, alt)))
    return links


async def links_page(request: web.Request) -> web.Response:
    """Partners so far, with their respondents, and the form to make a new link."""
    staff, partners = await _load(request)
    return _links_page(request, staff, partners)


def _links_page(request: web.Request, staff: Staff, partners: Partners, *, source: str = "",
                error: str = "", status: int = 200) -> web.Response:  # fmt: skip
    config = request.app[CONFIG_KEY]
    return page(
        request, staff, "staff/links.html", status=status, partners=partners, error=error,
        source=source, c=partners.consultation, tab="links",
        telegram=bool(config.telegram.bot_username), whatsapp=bool(config.whatsapp.display_number),
    )  # fmt: skip


@staff_form(ROLE)
async def make_links(request: web.Request) -> web.Response:
    """Check a partner's name and show its links (facilitators; audited)."""
    staff, form = staff_post(request)
    _, partners = await _load(request)
    source = form.get("source", "").strip().lower()
    try:
        links_for(request.app[CONFIG_KEY], partners, source)
    except store.StoreError as error:
        return _links_page(request, staff, partners, source=form.get("source", ""), status=400,
                           error=f"No link was made: {error}.")  # fmt: skip
    db, slug = request.app[ENGINE_KEY], partners.consultation.slug

    def audit() -> None:
        with Session(db) as session, session.begin():
            store.audit(session=session, actor=staff.actor, action="links.make", target=slug,
                        detail=f"source {source}")  # fmt: skip

    await asyncio.to_thread(audit)
    return see_other(f"/staff/c/{slug}/links/{source}")


async def _source(request: web.Request) -> tuple[Staff, Partners, str, list[Link]]:
    staff, partners = await _load(request)
    source = request.match_info["source"]
    try:
        return staff, partners, source, links_for(request.app[CONFIG_KEY], partners, source)
    except store.StoreError as error:
        raise web.HTTPNotFound(text=f"no such partner link: {error}") from None


async def source_page(request: web.Request) -> web.Response:
    """One partner's links, each with its QR code and a poster to print."""
    staff, partners, source, links = await _source(request)
    came = next((g.respondents for g in partners.sources if g.group == source), 0)
    return page(request, staff, "staff/link_source.html", partners=partners, source=source,
                links=links, came=came, c=partners.consultation, tab="links")  # fmt: skip


async def poster_page(request: web.Request) -> web.Response:
    """An A4 poster for one channel's link: the title, an invitation, the QR code large,
    and the address in words for those who cannot scan it."""
    staff, partners, source, links = await _source(request)
    chosen = request.query.get("channel", "web")
    link = next((k for k in links if k.channel == chosen), None)
    if link is None:
        raise web.HTTPNotFound(text=f"no {chosen} link: see the partner's page for the others")
    return page(request, staff, "staff/link_poster.html", partners=partners, source=source,
                link=link, c=partners.consultation, poster=True)  # fmt: skip
