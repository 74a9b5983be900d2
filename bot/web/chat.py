"""The resident's web chat: the same conversation as Telegram, as server-rendered forms.

A device is known by a cookie the server issued and signed (bot/web/devices.py);
only its SHA-256 is stored (as the web ChannelIdentity's external_id), and it is
replaced when the device becomes a resident, on "start afresh" and on erasure.
Every form carries an idempotency key, used as the service's update key so a
double submit is handled once, and a CSRF token keyed by the server's secret.
Each POST redirects back to the page (POST-redirect-GET), so the page works
without JavaScript; static/chat.js only keeps focus and scroll where they help.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session

from bot.channels.metrics import ChannelMeter
from bot.web import devices, transcript
from bot.web.devices import COOKIE, Device
from bot.web.guards import resident_device, resident_form
from bot.web.keys import (
    CONFIG_KEY,
    CONVERSATIONS_KEY,
    DEVICE_KEY,
    ENGINE_KEY,
)
from bot.web.security import new_form_key, set_cookie, valid_form_key
from bot.web.templating import render, see_other
from bot.web.wording import CHAT_NOTICES, notice_text
from conversations.flow import callbacks
from conversations.flow.inputs import TextInput
from conversations.flow.messages import ButtonSpec, Message
from conversations.locale import LANGUAGES, language_of
from conversations.locale.catalogues import language_name
from conversations.residents.service import ConversationService, Who
from conversations.residents.texts import a_date
from conversations.screening.cleaning import clean_text
from conversations.storage import store, web_devices, web_transcript
from conversations.storage.models import Conversation, Round

CHANNEL = "web"
METER = ChannelMeter(CHANNEL)
COOKIE_AGE = 365 * 24 * 3600
MAX_TEXT = 4096
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
_SOURCE = re.compile(r"^[a-z0-9_-]{1,40}$")


async def device_of(request: web.Request) -> Device:
    """The device this browser's cookie names, or a new one if it names none we issued."""
    secret = await request.app[DEVICE_KEY].get()
    cookie = request.cookies.get(COOKIE, "")
    device = devices.recognised(secret, cookie)
    if device is None and cookie:
        device = await asyncio.to_thread(devices.upgraded, request.app[ENGINE_KEY], secret, cookie)
    return device or devices.issue(secret)


def remember(request: web.Request, response: web.StreamResponse, device: Device) -> None:
    if device.is_new:
        set_cookie(response, request, COOKIE, device.token, max_age=COOKIE_AGE, same_site="Lax")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/c/{slug}/send", send)
    app.router.add_post("/c/{slug}/afresh", afresh)
    app.router.add_get("/c/{slug}", chat_page)
    app.router.add_get("/c/{slug}/{source}", chat_page)


# --- the chat page ----------------------------------------------------------------


@dataclass(frozen=True)
class ChatView:
    slug: str
    title: str
    description: str
    is_open: bool
    language: str
    languages: tuple[str, ...]
    joined: bool
    lines: list[web_transcript.Line]
    next_round: Round | None = None  # scheduled to open, when this one is closed
    # Offered to leave a number or address to hear back (only where Notify is set up).
    completed: bool = False

    @property
    def latest_key(self) -> str | None:
        return self.lines[-1].update_key if self.lines else None

    @property
    def choices(self) -> list[tuple[web_transcript.Line, tuple[tuple[ButtonSpec, ...], ...]]]:
        """The buttons still on offer: those sent with the latest reply."""
        return [(line, line.buttons) for line in self.lines
                if line.update_key == self.latest_key and line.buttons]  # fmt: skip


def _chat_view(db: Engine, service: ConversationService, slug: str, visitor: str,
               preferred: str) -> ChatView | None:  # fmt: skip
    with Session(db) as session:
        consultation = store.consultation_by_slug(session=session, slug=slug)
        if consultation is None or consultation.id is None:
            return None
        script = service.scripts.get(consultation)
        resident = store.resident_for(session=session, channel=CHANNEL, external_id=visitor)
        language = resident.language if resident is not None else preferred
        joined = completed = False
        if resident is not None and resident.current_conversation_id is not None:
            conversation = session.get(Conversation, resident.current_conversation_id)
            round_ = session.get(Round, conversation.round_id) if conversation else None
            joined = round_ is not None and round_.consultation_id == consultation.id
            if joined and round_ is not None and round_.status != "open":
                # Their round has closed: "Take part" again when another round is open.
                joined = (
                    store.open_round_of(session=session, consultation_id=consultation.id) is None
                )
            # A resident who said no is offered "Take part" again, as /start does in Telegram.
            if joined and conversation is not None:
                joined = json.loads(conversation.state_json).get("phase") != "declined"
                completed = joined and conversation.completed_at is not None
        return ChatView(
            slug=slug,
            title=script.title.get(language, script.default_language, CHANNEL),
            description=script.description.get(language, script.default_language, CHANNEL)
            if script.description
            else "",
            is_open=store.open_round_of(session=session, consultation_id=consultation.id)
            is not None,
            language=language if language in LANGUAGES else "en",
            languages=tuple(code for code in script.languages if code in LANGUAGES),
            joined=joined,
            lines=web_transcript.lines(session=session, visitor=visitor),
            next_round=store.next_scheduled_round(session=session, consultation_id=consultation.id),
            completed=completed,
        )


def preferred_language(request: web.Request) -> str:
    """The first language the browser lists that we speak ("fr, pl;q=0.8" -> "pl"; browsers
    list them most wanted first); English otherwise."""
    for entry in request.headers.get("Accept-Language", "").split(","):
        tag, _, weight = entry.strip().lower().partition(";")
        if weight.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            continue  # "not this one"
        if (language := language_of(tag)) is not None:
            return language
    return "en"


async def chat_page(request: web.Request) -> web.Response:
    """The conversation so far, the reply forms, and the resident's rights."""
    slug = request.match_info["slug"]
    source = request.match_info.get("source")
    if not SLUG.match(slug) or (source is not None and not _SOURCE.match(source)):
        return not_found(request)
    device = await device_of(request)
    view = await asyncio.to_thread(
        _chat_view, request.app[ENGINE_KEY], request.app[CONVERSATIONS_KEY], slug,
        device.visitor, preferred_language(request),
    )  # fmt: skip
    if view is None:
        return not_found(request)
    if not request.app[CONFIG_KEY].notify.api_key:  # nothing could send them a message
        view = replace(view, completed=False)
    notice = request.query.get("notice")
    response = render(
        request,
        "chat.html",
        lang=view.language,
        view=view,
        source=source or "",
        csrf=device.csrf,
        new_key=new_form_key,
        notice=notice_text(notice, view.language, CHAT_NOTICES),
        language_names={code: language_name(code) for code in view.languages},
        language_data=callbacks.language_data,
        moment=lambda moment: a_date(moment, view.language),
    )
    remember(request, response, device)
    return response


def not_found(request: web.Request) -> web.Response:
    language = preferred_language(request)
    return render(request, "not_found.html", status=404, lang=language)


# --- what the resident sends ------------------------------------------------------


@resident_form
async def send(request: web.Request) -> web.StreamResponse:
    """One form: a button, typed text or a data action; handled once per form key."""
    received = time.monotonic()
    slug = request.match_info["slug"]
    if not SLUG.match(slug):
        raise web.HTTPNotFound()
    form = await request.post()
    device = resident_device(request)
    key = form.get("key")
    if not valid_form_key(key):
        raise web.HTTPBadRequest(text="this form has no valid key; reload the page")
    assert isinstance(key, str)
    page = f"/c/{slug}"
    service = request.app[CONVERSATIONS_KEY]
    who = Who(CHANNEL, device.visitor, CHANNEL, preferred_language(request))
    said: str | None = None
    erasing = False
    call: Callable[[], list[Message]]
    action, button, text = form.get("action"), form.get("button"), form.get("text")
    may_join = action == "start" or isinstance(text, str)  # what can make a new resident
    if isinstance(button, str) and button:
        press = callbacks.parse(button)
        erasing = isinstance(press, callbacks.ForgetPress) and press.confirmed
        may_join = not isinstance(press, callbacks.ForgetPress)
        call = lambda: service.press(who, button, update_key=key)  # noqa: E731
    elif isinstance(text, str):
        # Cleaned here, before the transcript or the service sees it: the one way in.
        text = clean_text(text)
        if not text.strip():
            return see_other(f"{page}?notice=empty#reply")
        if len(text) > MAX_TEXT:
            return see_other(f"{page}?notice=too_long#reply")
        said = text
        given = TextInput(text, ref=key)
        call = lambda: service.receive(who, given, update_key=key)  # noqa: E731
    elif action == "start":
        source = form.get("source")
        argument = slug
        if isinstance(source, str) and _SOURCE.match(source):
            argument = f"{slug}--{source}"
        call = lambda: service.start(who, argument, update_key=key)  # noqa: E731
    elif action == "stop":
        call = lambda: service.stop(who, update_key=key)  # noqa: E731
    elif action == "forget":
        call = lambda: service.forget_request(who, update_key=key)  # noqa: E731
    else:
        raise web.HTTPBadRequest(text="nothing to send")
    db = request.app[ENGINE_KEY]
    label = transcript.pressed_label(button) if isinstance(button, str) else None
    arrival = (
        devices.arrival(request, device.secret, request.app[CONFIG_KEY].web) if may_join else None
    )
    handled = await asyncio.to_thread(
        _handle, db, service, device.visitor, key, call, said, label, erasing, arrival
    )  # fmt: skip
    if handled is _BUSY:
        return see_other(f"{page}?notice=busy#reply")
    METER.replied(received)  # the reply is the page the browser is sent to next
    if erasing:
        # Everything about this device is gone; give it a new identity too.
        response = see_other(f"{page}?notice=forgotten")
        remember(request, response, devices.issue(device.secret))
        return response
    response = see_other(f"{page}#latest")
    if isinstance(handled, Device):
        remember(request, response, handled)  # a new resident: a new device, as at sign-in
    return response


_BUSY = object()  # too many new residents from this address: nothing was handled


def _handle(db: Engine, service: ConversationService, visitor: str, key: str,
            call: Callable[[], list[Message]], said: str | None,
            label: Callable[[list[web_transcript.Line]], str | None] | None,
            erasing: bool, arrival: devices.Arrival | None) -> object:  # fmt: skip
    """Run the service call, then record it on the page and mark it delivered.

    Returns the device's new identity if it became a resident, or _BUSY if its
    address brought too many new residents lately (and nothing was done)."""
    place: devices.NewcomerPlace | None = None
    with Session(db) as session, session.begin():
        known = store.resident_for(session=session, channel=CHANNEL, external_id=visitor)
        if label is not None:
            said = label(web_transcript.lines(session=session, visitor=visitor))
        if known is None and arrival is not None:
            # Held before the call, so that two requests at once cannot both take the
            # address's last place; given back below if no resident came of it.
            place = devices.hold_newcomer_place(
                session, key=arrival.address_key, limit=arrival.limit,
                window_minutes=arrival.window_minutes,
            )  # fmt: skip
            if place is None:
                return _BUSY
    renewed: Device | None = None
    try:
        messages = call()
    except BaseException:
        if place is not None:
            with Session(db) as session, session.begin():
                devices.give_back(session, place)
        raise
    with Session(db) as session, session.begin():
        resident = store.resident_for(session=session, channel=CHANNEL, external_id=visitor)
        language = resident.language if resident is not None else "en"
        if said is not None and messages and all(m.updates_prompt for m in messages):
            said = None  # a tick on a multiple choice: the redrawn prompt says it
        web_transcript.record(
            session=session, visitor=visitor, update_key=key, said=said,
            messages=messages, language=language,
        )  # fmt: skip
        if erasing and resident is None:
            # Erased: nothing about this device may stay behind, not even "deleted".
            web_transcript.clear(session=session, visitor=visitor)
        if place is not None and resident is None:
            devices.give_back(session, place)
        if known is None and resident is not None and arrival is not None:
            # Just became a resident (their place stays taken): move them to a device
            # issued now, so that a cookie planted on this browser earlier leads nowhere.
            renewed = devices.issue(arrival.secret)
            web_devices.move_web_device(session=session, old=visitor, new=renewed.visitor)
    service.mark_delivered(CHANNEL, key)
    return renewed


@resident_form
async def afresh(request: web.Request) -> web.StreamResponse:
    """Start afresh on this device: clear its transcript and give it a new cookie."""
    slug = request.match_info["slug"]
    if not SLUG.match(slug):
        raise web.HTTPNotFound()
    device = resident_device(request)
    db = request.app[ENGINE_KEY]

    def clear() -> None:
        with Session(db) as session, session.begin():
            web_transcript.clear(session=session, visitor=device.visitor)

    await asyncio.to_thread(clear)
    response = see_other(f"/c/{slug}?notice=afresh")
    remember(request, response, devices.issue(device.secret))
    return response
