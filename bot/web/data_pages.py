"""The web-chat resident's data: the "your data" page and file (everything held,
as Telegram's /mydata sends it), and leaving or removing a mobile number or email
address to hear back by text message or email (through GOV.UK Notify), from the end
of the conversation or the "your data" page. The web chat cannot message anyone;
this is the only way it can tell a resident about the next round or a decision.

What is typed is checked by conversations/residents/contact.py and never
written to a log; the answer is the "your data" page, with a notice.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from sqlmodel import Session

from bot.web.chat import CHANNEL, SLUG, device_of, not_found, preferred_language, remember
from bot.web.devices import Device
from bot.web.guards import resident_device, resident_form
from bot.web.keys import CONVERSATIONS_KEY, ENGINE_KEY
from bot.web.templating import render, see_other
from bot.web.wording import DATA_NOTICES, notice_text
from conversations.flow.messages import Message
from conversations.locale import LANGUAGES
from conversations.residents.contact import leave_contact, remove_contact
from conversations.residents.service import Who
from conversations.staff.broadcasts import REACHABLE_CHANNELS
from conversations.storage import store


def add_routes(app: web.Application) -> None:
    app.router.add_get("/c/{slug}/my-data", my_data_page)
    app.router.add_get("/c/{slug}/my-data.json", my_data_file)
    app.router.add_post("/c/{slug}/contact", contact)


@resident_form
async def contact(request: web.Request) -> web.StreamResponse:
    """Keep ("leave") or remove the address; back to the data page with a notice."""
    slug = request.match_info["slug"]
    if not SLUG.match(slug):
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


# --- what is held -----------------------------------------------------------------


async def _my_data(request: web.Request) -> tuple[Device, Message]:
    device = await device_of(request)
    who = Who(CHANNEL, device.visitor, CHANNEL, preferred_language(request))
    service = request.app[CONVERSATIONS_KEY]
    (message,) = await asyncio.to_thread(service.my_data, who)
    return device, message


async def my_data_page(request: web.Request) -> web.Response:
    """Everything held about this device's resident, as a readable page."""
    slug = request.match_info["slug"]
    if not SLUG.match(slug):
        return not_found(request)
    device, message = await _my_data(request)
    record: dict[str, Any] | None = None
    if message.attachment is not None:
        record = json.loads(message.attachment.content)
    language = record["language"] if record and record["language"] in LANGUAGES else "en"
    if record is None:
        language = preferred_language(request)
    # Invitations and decisions reach only some channels: never say "On" to someone
    # whom nothing can reach.
    reachable = record is not None and any(
        channel in REACHABLE_CHANNELS for channel in record.get("channels", [])
    )
    notice = request.query.get("notice")
    response = render(
        request, "my_data.html", lang=language, slug=slug, record=record,
        reachable=reachable or bool(record and record.get("contact")), csrf=device.csrf,
        notice=notice_text(notice, language, DATA_NOTICES),
    )  # fmt: skip
    remember(request, response, device)
    return response


async def my_data_file(request: web.Request) -> web.Response:
    """The same, as the JSON file Telegram residents receive."""
    _, message = await _my_data(request)
    if message.attachment is None:
        raise web.HTTPNotFound(text="We don't hold any information about you.")
    return web.Response(
        body=message.attachment.content,
        content_type="application/json",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{message.attachment.filename}"'},
    )
