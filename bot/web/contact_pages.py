"""A web-chat resident leaving, or removing, a mobile number or email address to
hear back by text message or email (through GOV.UK Notify), from the end of the
conversation or the "your data" page. The web chat cannot message anyone; this
is the only way it can tell a resident about the next round or a decision.

What is typed is checked by conversations/residents/contact.py and never
written to a log; the answer is the "your data" page, with a notice.
"""

from __future__ import annotations

import asyncio
import re

from aiohttp import web
from sqlmodel import Session

from bot.web.guards import resident_device, resident_form
from bot.web.keys import ENGINE_KEY
from bot.web.templating import see_other
from conversations.residents.contact import leave_contact, remove_contact
from conversations.storage import store

CHANNEL = "web"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
NOTICES = ("contact_saved", "contact_invalid", "contact_removed", "contact_nobody")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/c/{slug}/contact", contact)


@resident_form
async def contact(request: web.Request) -> web.StreamResponse:
    """Keep ("leave") or remove the address; back to the data page with a notice."""
    slug = request.match_info["slug"]
    if not _SLUG.match(slug):
        raise web.HTTPNotFound()
    form = await request.post()
    device = resident_device(request)
    action, given, kind = form.get("action"), form.get("contact"), form.get("kind")
    if action == "leave" and isinstance(given, str):
        call = "leave"
    elif action == "remove" and (kind is None or kind in ("sms", "email")):
        call = "remove"
    else:
        raise web.HTTPBadRequest(text="nothing to do")

    def run() -> str:
        with Session(request.app[ENGINE_KEY]) as session, session.begin():
            resident = store.resident_for(
                session=session, channel=CHANNEL, external_id=device.visitor
            )
            if resident is None or resident.id is None:
                return "contact_nobody"
            if call == "leave":
                assert isinstance(given, str)
                kept = leave_contact(session=session, resident_id=resident.id, given=given)
                return "contact_saved" if kept else "contact_invalid"
            which = kind if isinstance(kind, str) else None
            remove_contact(session=session, resident_id=resident.id, kind=which)
            return "contact_removed"

    notice = await asyncio.to_thread(run)
    return see_other(f"/c/{slug}/my-data?notice={notice}#contact")
