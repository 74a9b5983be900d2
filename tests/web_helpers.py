"""Helpers for the web tests: the app on a test server, pages read as a browser would.

A page is parsed with the standard library's HTMLParser into its forms (fields
and submit buttons) and its transcript, so tests press buttons by their labels.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.staff_access import create_login_link
from bot.config import Config, NotifyConfig, StaffConfig, TelegramConfig, WebConfig
from bot.web.app import build_web_app
from bot.web.auth import COOKIE as STAFF_COOKIE
from conversations.storage.models import StaffSession

FACILITATOR, OFFICER, ADMIN, SAFEGUARDING = 11, 22, 33, 44
SECRET = "a-webhook-secret-of-some-length"
# A key in Notify's shape, so that the web chat offers to keep in touch (nothing is sent:
# the web app alone starts no sender).
NOTIFY_KEY = "test-" + "26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0"


def web_config(**web: str) -> Config:
    return Config(
        staff=StaffConfig(
            facilitators=(FACILITATOR,),
            officers=(OFFICER,),
            admins=(ADMIN,),
            safeguarding=(SAFEGUARDING,),
        ),
        telegram=TelegramConfig(secret_token=SECRET),
        web=WebConfig(**web),  # type: ignore[arg-type]
        notify=NotifyConfig(api_key=NOTIFY_KEY),
    )


@asynccontextmanager
async def web_client(db: Engine, config: Config | None = None, *, telegram: object = None,
                     status: dict[str, str] | None = None) -> AsyncIterator[TestClient]:  # fmt: skip
    """The example consultation (round 1 open) served on a test server."""
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    app = build_web_app(db, config or web_config(), telegram=telegram, status=status)
    async with TestClient(TestServer(app)) as client:
        yield client


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, label
    has_text: bool = False


@dataclass
class Page:
    html: str
    forms: list[Form]
    messages: list[tuple[str, str]]  # (sender, text)

    def form_with(self, label: str) -> tuple[Form, tuple[str, str, str]]:
        for form in self.forms:
            for button in form.buttons:
                if label in button[2]:
                    return form, button
        raise AssertionError(f"no button {label!r}; messages: {self.messages[-3:]}")

    def text_form(self) -> Form:
        for form in self.forms:
            if form.has_text:
                return form
        raise AssertionError(f"no answer box; messages: {self.messages[-3:]}")

    @property
    def bot_texts(self) -> list[str]:
        return [text for sender, text in self.messages if sender == "bot"]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.messages: list[tuple[str, str]] = []
        self._form: Form | None = None
        self._button: tuple[str, str] | None = None
        self._label: list[str] = []
        self._sender: str | None = None
        self._in_text = False
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(action=a.get("action", ""))
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and a.get("name"):
            self._form.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea" and self._form is not None:
            self._form.has_text = True
        elif tag == "button" and self._form is not None:
            self._button = (a.get("name", ""), a.get("value", ""))
            self._label = []
        elif tag == "li" and "message" in a.get("class", ""):
            self._sender = "bot" if "from-bot" in a["class"] else "resident"
        elif tag == "p" and self._sender is not None and "text" in a.get("class", ""):
            self._in_text, self._text = True, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "button" and self._button is not None and self._form is not None:
            self._form.buttons.append((*self._button, "".join(self._label).strip()))
            self._button = None
        elif tag == "p" and self._in_text and self._sender is not None:
            self.messages.append((self._sender, "".join(self._text)))
            self._in_text, self._sender = False, None

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._label.append(data)
        if self._in_text:
            self._text.append(data)


def parse(html: str) -> Page:
    parser = _Parser()
    parser.feed(html)
    return Page(html, parser.forms, parser.messages)


class WebResident:
    """A resident using the web chat through a test client (which keeps the cookie)."""

    def __init__(self, client: TestClient, path: str = "/c/example") -> None:
        self.client = client
        self.path = path
        self.page = Page("", [], [])

    async def open(self, path: str | None = None) -> Page:
        response = await self.client.get(path or self.path)
        assert response.status == 200, response.status
        self.page = parse(await response.text())
        return self.page

    async def submit(self, form: Form, extra: dict[str, str]) -> int:
        response = await self.client.post(form.action, data={**form.fields, **extra})
        if response.status == 200:
            self.page = parse(await response.text())
        return response.status

    async def press(self, label: str) -> Page:
        form, (name, value, _) = self.page.form_with(label)
        assert await self.submit(form, {name: value}) == 200
        return self.page

    async def say(self, words: str) -> Page:
        assert await self.submit(self.page.text_form(), {"text": words}) == 200
        return self.page

    @property
    def last(self) -> str:
        return self.page.bot_texts[-1]

    @property
    def cookie(self) -> str:
        for morsel in self.client.session.cookie_jar:
            if morsel.key == "nf_device":
                return morsel.value
        raise AssertionError("no device cookie")


async def complete_example(resident: WebResident, need: str = "The buses stop at 7pm.") -> None:
    """The example consultation, start to finish, as in tests/test_service.py."""
    await resident.open()
    await resident.press("Take part")
    assert "Are you happy to take part?" in resident.last
    await resident.press("happy to take part")
    await resident.press("North")
    await resident.press("35 to 64")
    await resident.say(need)
    await resident.press("My family")
    await resident.press("Done")
    await resident.say("I could get to work.")
    await resident.press("that's right")
    await resident.press("No")
    await resident.press("No, that's all")


async def sign_in(client: TestClient, db: Engine, config: Config, staff_id: int) -> str:
    """Follow a one-time link as staff; returns the session's CSRF token."""
    link = create_login_link(db, config, staff_id)
    path = re.sub(r"^https?://[^/]+", "", link)
    assert (await client.get(path)).status == 200
    response = await client.post(path)
    assert response.status == 200 and response.url.path == "/staff/", response.status
    with Session(db) as session:
        found = session.exec(select(StaffSession).where(StaffSession.staff_id == staff_id)).all()
    return found[-1].csrf_token


def staff_cookie(client: TestClient) -> str | None:
    for morsel in client.session.cookie_jar:
        if morsel.key == STAFF_COOKIE:
            return morsel.value
    return None
