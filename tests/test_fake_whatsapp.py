"""Tests of the fake WhatsApp Cloud API, driven by plain aiohttp calls and a tiny receiver
standing in for the bot's webhook (no Needs First code)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.fakes.whatsapp_api import OTHER_KINDS, FakeWhatsApp, NoSuchButton

ANN = "447700900001"
BOB = "447700900002"
DAY = 24 * 60 * 60
VERIFY_TOKEN = "needs-first-verify"
JSON = dict[str, Any]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Post:
    body: bytes
    headers: dict[str, str]

    @property
    def value(self) -> JSON:
        value: JSON = json.loads(self.body)["entry"][0]["changes"][0]["value"]
        return value


@dataclass
class Receiver:
    """The bot's webhook, reduced to recording: answers 200, or the next of ``answers``;
    401 for a bad signature once ``secret`` is set."""

    url: str = ""
    secret: str = ""
    posts: list[Post] = field(default_factory=list)
    answers: deque[int] = field(default_factory=deque)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.posts.append(Post(body, dict(request.headers)))
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        if self.secret and request.headers.get("X-Hub-Signature-256") != expected:
            return web.Response(status=401)
        return web.Response(status=self.answers.popleft() if self.answers else 200)

    async def verify(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == VERIFY_TOKEN:
            return web.Response(text=query["hub.challenge"])
        return web.Response(status=403)

    def messages(self) -> list[JSON]:
        return [m for p in self.posts for m in p.value.get("messages", [])]

    def statuses(self) -> list[JSON]:
        return [s for p in self.posts for s in p.value.get("statuses", [])]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/whatsapp/webhook", found.handle)
    app.router.add_get("/whatsapp/webhook", found.verify)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/whatsapp/webhook"
    yield found
    await runner.cleanup()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def fake(receiver: Receiver, clock: Clock) -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp(
        webhook_url=receiver.url, clock=clock, retry_delays=(0.01, 0.01)
    ) as started:
        receiver.secret = started.app_secret
        yield started


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(
    http: aiohttp.ClientSession, fake: FakeWhatsApp, body: Any, *, token: str | None = None,
    url: str | None = None,
) -> tuple[int, JSON]:  # fmt: skip
    headers = {"Authorization": f"Bearer {fake.access_token if token is None else token}"}
    async with http.post(url or fake.messages_url, json=body, headers=headers) as response:
        return response.status, await response.json()


def text_to(to: str, body: str = "Hello") -> JSON:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def buttons_to(to: str, *buttons: tuple[str, str], body: str = "Pick one") -> JSON:
    return {
        "messaging_product": "whatsapp", "to": to, "type": "interactive",
        "interactive": {"type": "button", "body": {"text": body}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": i, "title": t}} for i, t in buttons]}},
    }  # fmt: skip


def list_to(to: str, sections: list[JSON], button: str = "Choose") -> JSON:
    return {
        "messaging_product": "whatsapp", "to": to, "type": "interactive",
        "interactive": {"type": "list", "body": {"text": "Which?"},
                        "action": {"button": button, "sections": sections}},
    }  # fmt: skip


def template_to(to: str, name: str, language: str, *params: str) -> JSON:
    components = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}]
    return {"messaging_product": "whatsapp", "to": to, "type": "template",
            "template": {"name": name, "language": {"code": language},
                         "components": components}}  # fmt: skip


def error_of(answer: JSON) -> tuple[int, str]:
    error = answer["error"]
    assert set(error) >= {"message", "type", "code", "error_data", "fbtrace_id"}
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["fbtrace_id"].startswith("A")
    return error["code"], error["error_data"]["details"]


# --------------------------------------------------------------------------- the API


async def test_a_reply_inside_the_window_is_delivered_with_its_statuses(
    fake: FakeWhatsApp, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    wamid = await fake.send_text(ANN, "Hi there", name="Ann")
    [inbound] = receiver.messages()
    assert inbound == {"from": ANN, "id": wamid, "timestamp": str(int(fake.clock())),
                       "type": "text", "text": {"body": "Hi there"}}  # fmt: skip
    value = receiver.posts[0].value
    assert value["contacts"] == [{"profile": {"name": "Ann"}, "wa_id": ANN}]
    assert value["metadata"] == {"display_phone_number": fake.display_phone_number,
                                 "phone_number_id": fake.phone_number_id}  # fmt: skip
    envelope = json.loads(receiver.posts[0].body)
    assert envelope["object"] == "whatsapp_business_account"
    assert envelope["entry"][0]["id"] == fake.waba_id
    assert envelope["entry"][0]["changes"][0]["field"] == "messages"

    status, answer = await post(http, fake, text_to(ANN, "Welcome to Needs First"))
    assert status == 200
    reply_id = answer["messages"][0]["id"]
    assert answer == {"messaging_product": "whatsapp", "contacts": [{"input": ANN, "wa_id": ANN}],
                      "messages": [{"id": reply_id}]}  # fmt: skip
    assert reply_id.startswith("wamid.") and reply_id != wamid
    assert fake.texts_to(ANN) == ["Welcome to Needs First"]
    await fake.wait_for(lambda: len(receiver.statuses()) == 2, what="two statuses")
    assert [s["status"] for s in receiver.statuses()] == ["sent", "delivered"]
    assert {s["id"] for s in receiver.statuses()} == {reply_id}
    assert fake.statuses_of(reply_id) == ["sent", "delivered"]


async def test_the_access_token_the_number_and_the_version_are_checked(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    status, answer = await post(http, fake, text_to(ANN), token="EAAwrong")
    assert status == 401 and error_of(answer)[0] == 190
    assert answer["error"]["type"] == "OAuthException"
    async with http.post(fake.messages_url, json=text_to(ANN)) as response:
        assert response.status == 401
    other = f"{fake.base_url}/{fake.api_version}/999/messages"
    status, answer = await post(http, fake, text_to(ANN), url=other)
    assert status == 400 and error_of(answer)[0] == 100
    assert "999" in answer["error"]["message"]
    status, answer = await post(http, fake, text_to(ANN), url=f"{fake.base_url}/v1.0/"
                                f"{fake.phone_number_id}/messages")  # fmt: skip
    assert status == 400 and error_of(answer)[0] == 2500
    assert fake.sent == [] and fake.errors_by_code == {190: 2, 100: 1, 2500: 1}


BAD_BODIES = [
    ({"to": ANN, "type": "text", "text": {"body": "x"}}, 100, "messaging_product"),
    (text_to("+447700900001"), 100, "to"),
    (text_to("1234567"), 100, "to"),
    ({**text_to(ANN), "type": "sticker"}, 100, "type"),
    ({"messaging_product": "whatsapp", "to": ANN, "text": {"body": "x"}}, 100, "type"),
    (text_to(ANN, "x" * 4097), 131009, "text['body']"),
    (text_to(ANN, ""), 131009, "text['body']"),
    ({**text_to(ANN), "text": {}}, 131008, "text['body']"),
    (buttons_to(ANN, *[(f"b{i}", f"B{i}") for i in range(4)]), 131009, "['buttons']"),
    (buttons_to(ANN, ("a", "x" * 21)), 131009, "['buttons'][0]['reply']['title']"),
    (buttons_to(ANN, ("a", "Yes"), ("a", "No")), 131009, "ids must be unique"),
    (buttons_to(ANN, ("a", "Yes"), ("b", "Yes")), 131009, "titles must be unique"),
    (buttons_to(ANN, ("a", "Yes"), body="x" * 1025), 131009, "['body']['text']"),
    (buttons_to(ANN, ("x" * 257, "Yes")), 131009, "['reply']['id']"),
    (list_to(ANN, [{"rows": [{"id": f"r{i}", "title": "T"} for i in range(11)]}]), 131009,
     "['rows']"),
    (list_to(ANN, [{"title": "A", "rows": [{"id": f"a{i}", "title": "T"} for i in range(6)]},
                   {"title": "B", "rows": [{"id": f"b{i}", "title": "T"} for i in range(5)]}]),
     131009, "at most 10 rows"),
    (list_to(ANN, [{"rows": [{"id": "r", "title": "x" * 25}]}]), 131009, "['title']"),
    (list_to(ANN, [{"rows": [{"id": "r", "title": "T", "description": "d" * 73}]}]), 131009,
     "['description']"),
    (list_to(ANN, [{"rows": [{"id": "r", "title": "T"}]}, {"rows": [{"id": "s", "title": "U"}]}]),
     131008, "['sections'][0]['title']"),
    (list_to(ANN, [{"rows": [{"id": "r", "title": "T"}]}], button="x" * 21), 131009,
     "['action']['button']"),
    (list_to(ANN, [{"rows": [{"id": "r", "title": "T"}, {"id": "r", "title": "U"}]}]), 131009,
     "Row ids must be unique"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "code", "field"), BAD_BODIES)
async def test_what_meta_refuses_is_refused_naming_the_field(
    fake: FakeWhatsApp, http: aiohttp.ClientSession, body: JSON, code: int, field: str
) -> None:
    fake.user_wrote(ANN)
    status, answer = await post(http, fake, body)
    assert status == 400
    found_code, details = error_of(answer)
    assert (found_code, field in details) == (code, True), details
    assert fake.sent == [] and fake.chats == {}


async def test_headers_footers_and_the_largest_valid_messages_pass(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.user_wrote(ANN)
    fake.pair_burst = 10
    assert (await post(http, fake, text_to(ANN, "é" * 4096)))[0] == 200
    body = buttons_to(ANN, *[(f"{i}" * 256, f"Title {i}".ljust(20, "!")) for i in range(3)])
    body["interactive"] |= {"header": {"type": "text", "text": "h" * 60},
                            "footer": {"text": "f" * 60}}  # fmt: skip
    assert (await post(http, fake, body))[0] == 200
    rows = [{"id": "r" * 200, "title": "t" * 24, "description": "d" * 72}]
    sections = [{"title": "s" * 24, "rows": rows}] + [
        {"title": f"S{i}", "rows": [{"id": f"id{i}", "title": "x"}]} for i in range(9)
    ]
    assert (await post(http, fake, list_to(ANN, sections, button="b" * 20)))[0] == 200
    body["interactive"]["header"] = {"type": "image", "image": {"id": "1"}}
    assert (await post(http, fake, body))[0] == 400  # the fake knows text headers only
    [_, buttons, menu] = fake.messages_to(ANN)
    assert (buttons.header, buttons.footer) == ("h" * 60, "f" * 60)
    assert len(menu.rows) == 10 and menu.row_descriptions == {"r" * 200: "d" * 72}
    assert fake.last_buttons(ANN) == list(menu.rows)


# --------------------------------------------------------------------------- the rules


async def test_throughput_beyond_the_number_s_rate_is_refused_for_that_second(
    clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with FakeWhatsApp(throughput=5, clock=clock, send_statuses=False) as fake:
        users = [f"4477009{n:05d}" for n in range(7)]
        for user in users:
            fake.user_wrote(user)
        answers = [await post(http, fake, text_to(user)) for user in users[:6]]
        assert [status for status, _ in answers] == [200] * 5 + [400]
        assert error_of(answers[5][1])[0] == 130429
        assert answers[5][1]["error"]["message"] == "(#130429) Rate limit hit"
        clock.advance(0.5)
        assert (await post(http, fake, text_to(users[6])))[0] == 400
        clock.advance(0.5)
        assert (await post(http, fake, text_to(users[6])))[0] == 200
        assert fake.errors_by_code[130429] == 2
        assert [(e.time, e.code, e.http_status) for e in fake.errors] == [
            (1_800_000_000.0, 130429, 400), (1_800_000_000.5, 130429, 400)]  # fmt: skip
        assert len(fake.sent) == 6


async def test_the_pair_rate_allows_a_burst_then_one_message_per_period(
    clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with FakeWhatsApp(pair_burst=3, pair_rate_seconds=6.0, clock=clock) as fake:
        fake.user_wrote(ANN)
        fake.user_wrote(BOB)
        statuses = [(await post(http, fake, text_to(ANN)))[0] for _ in range(4)]
        assert statuses == [200, 200, 200, 400]
        answer = (await post(http, fake, text_to(ANN)))[1]
        assert error_of(answer)[0] == 131056 and "pair rate limit" in answer["error"]["message"]
        assert (await post(http, fake, text_to(BOB)))[0] == 200  # per user
        clock.advance(3.0)
        assert (await post(http, fake, text_to(ANN)))[0] == 400
        clock.advance(3.0)  # one message's worth refilled
        assert [(await post(http, fake, text_to(ANN)))[0] for _ in range(2)] == [200, 400]
        clock.advance(60.0)  # refilled to the burst, no further
        assert fake.pair_tokens(ANN) == 3.0
        assert fake.errors_by_code[131056] == 4 and len(fake.texts_to(ANN)) == 4


async def test_free_form_messages_fail_by_webhook_outside_the_24_hour_window(
    fake: FakeWhatsApp, receiver: Receiver, clock: Clock, http: aiohttp.ClientSession
) -> None:
    fake.add_template("hello", "en_GB", "Hello {{1}}")
    status, answer = await post(http, fake, text_to(ANN, "Never wrote"))
    assert status == 200
    wamid = answer["messages"][0]["id"]
    await fake.wait_for(lambda: bool(receiver.statuses()), what="failed status")
    [failed] = receiver.statuses()
    assert failed["id"] == wamid and failed["status"] == "failed"
    assert failed["recipient_id"] == ANN
    [error] = failed["errors"]
    assert (error["code"], error["title"]) == (131047, "Re-engagement message")
    assert set(error) == {"code", "title", "message", "error_data", "href"}
    assert fake.texts_to(ANN) == [] and [s.error_code for s in fake.failed_to(ANN)] == [131047]
    assert (fake.errors[-1].code, fake.errors[-1].http_status) == (131047, None)

    assert (await post(http, fake, template_to(ANN, "hello", "en_GB", "Ann")))[0] == 200
    await fake.send_text(ANN, "Hello back")
    clock.advance(DAY)
    assert (await post(http, fake, text_to(ANN, "Just in time")))[0] == 200
    clock.advance(1)
    assert (await post(http, fake, text_to(ANN, "Too late")))[0] == 200
    assert fake.texts_to(ANN) == ["Hello Ann", "Just in time"]
    assert fake.errors_by_code[131047] == 2


async def test_templates_need_their_name_language_and_parameters(
    fake: FakeWhatsApp, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    fake.add_template("reminder", "en_GB", "Hi {{1}}, the {{2}} closes soon.",
                      buttons=("Carry on", "Stop"))  # fmt: skip
    fake.add_template("reminder", "cy", "Helo {{1}}, mae'r {{2}} yn cau cyn bo hir.")
    cases = [
        (template_to(ANN, "reminder", "en_GB", "Ann"), 132000, "number of localizable_params (1)"),
        (template_to(ANN, "remind", "en_GB", "Ann", "x"), 132001, "(remind) does not exist"),
        (template_to(ANN, "reminder", "fr", "Ann", "x"), 132001, "does not exist in fr"),
        (template_to(ANN, "reminder", "en_GB", "Ann\nB", "x"), 132018, "new-line"),
        (template_to(ANN, "reminder", "en_GB", "Ann     B", "x"), 132018, "consecutive spaces"),
        (template_to(ANN, "reminder", "en_GB", "A", "x" * 1010), 132005, "1024"),
    ]  # fmt: skip
    for body, code, details in cases:
        status, answer = await post(http, fake, body)
        assert (status, *error_of(answer)[:1]) == (400, code)
        assert details in error_of(answer)[1]
    assert fake.errors_by_code[132001] == 2 and fake.sent == []
    assert answer["error"]["message"] == "(#132005) Translated text too long"

    status, answer = await post(http, fake, template_to(ANN, "reminder", "en_GB", "Ann", "survey"))
    assert status == 200 and answer["messages"][0]["message_status"] == "accepted"
    [sent] = fake.messages_to(ANN)
    assert (sent.template, sent.language, sent.parameters) == (
        "reminder",
        "en_GB",
        ("Ann", "survey"),
    )
    assert fake.texts_to(ANN) == ["Hi Ann, the survey closes soon."]
    assert fake.last_buttons(ANN) == [("Carry on", "Carry on"), ("Stop", "Stop")]
    await fake.press(ANN, "Stop")
    tap = receiver.messages()[-1]
    assert tap["type"] == "button" and tap["button"] == {"payload": "Stop", "text": "Stop"}
    assert tap["context"] == {"from": fake.display_phone_number, "id": sent.wamid}
    welsh = template_to(BOB, "reminder", "cy", "Bob", "arolwg")
    assert (await post(http, fake, welsh))[0] == 200
    assert fake.texts_to(BOB) == ["Helo Bob, mae'r arolwg yn cau cyn bo hir."]


async def test_the_messaging_limit_counts_unique_users_reached_first_per_24_hours(
    receiver: Receiver, clock: Clock, http: aiohttp.ClientSession
) -> None:
    async with FakeWhatsApp(daily_limit=2, clock=clock, webhook_url=receiver.url,
                            send_statuses=False) as fake:  # fmt: skip
        fake.add_template("invite", "en_GB", "Join us")
        users = ["447700900011", "447700900012", "447700900013", "447700900014"]
        fake.user_wrote(users[3])  # inside the window: no new business conversation
        for user in [users[0], users[1], users[0], users[2], users[3]]:
            assert (await post(http, fake, template_to(user, "invite", "en_GB")))[0] == 200
        [breach] = fake.limit_breaches
        assert breach.to == users[2] and breach.template == "invite"
        assert [u for u in users if fake.texts_to(u)] == [users[0], users[1], users[3]]
        await fake.wait_for(lambda: bool(receiver.statuses()), what="failed status")
        [failed] = receiver.statuses()
        assert failed["errors"][0]["code"] == 131048 and failed["id"] == breach.wamid
        assert fake.conversations_open() == 2
        clock.advance(DAY)
        assert (await post(http, fake, template_to(users[2], "invite", "en_GB")))[0] == 200
        assert fake.texts_to(users[2]) == ["Join us"] and len(fake.limit_breaches) == 1


async def test_a_user_who_blocked_the_business_gets_nothing(
    fake: FakeWhatsApp, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    await fake.send_text(ANN, "Hello")
    fake.block(ANN)
    assert (await post(http, fake, text_to(ANN, "Are you there?")))[0] == 200
    await fake.wait_for(lambda: bool(receiver.statuses()), what="failed status")
    assert receiver.statuses()[0]["errors"][0]["code"] == 131026
    assert receiver.statuses()[0]["errors"][0]["title"] == "Message undeliverable"
    fake.unblock(ANN)
    assert (await post(http, fake, text_to(ANN, "Again")))[0] == 200
    assert fake.texts_to(ANN) == ["Again"]


async def test_injected_faults_answer_the_next_sends(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    fake.user_wrote(ANN)
    fake.inject_fault(times=2)
    fake.inject_fault(code=130429)
    answers = [await post(http, fake, text_to(ANN)) for _ in range(4)]
    assert [(status, error_of(a)[0] if status != 200 else None) for status, a in answers] == [
        (500, 131000), (500, 131000), (400, 130429), (200, None)]  # fmt: skip
    assert fake.texts_to(ANN) == ["Hello"]


async def test_latency_is_added_to_every_answer(http: aiohttp.ClientSession) -> None:
    async with FakeWhatsApp(latency=0.05) as fake:
        fake.user_wrote(ANN)
        started = time.monotonic()
        assert (await post(http, fake, text_to(ANN)))[0] == 200
        assert time.monotonic() - started >= 0.05


# --------------------------------------------------------------------------- documents


async def upload(
    http: aiohttp.ClientSession, fake: FakeWhatsApp, data: bytes, mime: str
) -> tuple[int, JSON]:
    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    form.add_field("type", mime)
    form.add_field("file", data, filename="your-data.txt", content_type=mime)
    headers = {"Authorization": f"Bearer {fake.access_token}"}
    async with http.post(fake.media_url, data=form, headers=headers) as response:
        return response.status, await response.json()


async def test_a_document_is_uploaded_then_sent_by_its_media_id(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    await fake.send_text(ANN, "Send me my data")
    status, answer = await upload(http, fake, b"need,votes\nbus shelter,12\n", "text/plain")
    assert status == 200 and set(answer) == {"id"}
    media_id = answer["id"]
    attachment: JSON = {"id": media_id, "filename": "your-data.txt",
                        "caption": "Everything we hold about you"}  # fmt: skip
    document = {"messaging_product": "whatsapp", "to": ANN, "type": "document",
                "document": attachment}  # fmt: skip
    assert (await post(http, fake, document))[0] == 200
    [sent] = fake.messages_to(ANN)
    assert (sent.type, sent.filename, sent.text) == ("document", "your-data.txt",
                                                     "Everything we hold about you")  # fmt: skip
    assert fake.media[sent.media_id or ""].data == b"need,votes\nbus shelter,12\n"

    attachment["id"] = "123456789"
    status, answer = await post(http, fake, document)
    assert status == 400 and error_of(answer)[0] == 131053
    attachment |= {"id": media_id, "caption": "c" * 1025}
    assert error_of((await post(http, fake, document))[1])[0] == 131009
    status, answer = await upload(http, fake, b"{}", "application/json")
    assert status == 400 and error_of(answer)[0] == 100
    assert "application/json" in error_of(answer)[1]


# --------------------------------------------------------------------------- webhooks


async def test_every_webhook_is_signed_over_its_raw_bytes_as_meta_encodes_them(
    fake: FakeWhatsApp, receiver: Receiver
) -> None:
    await fake.send_text(ANN, "Café at 12/3 — ok? 🚌", name="Zoë")
    [post_] = receiver.posts
    expected = hmac.new(fake.app_secret.encode(), post_.body, hashlib.sha256).hexdigest()
    assert post_.headers["X-Hub-Signature-256"] == f"sha256={expected}"
    assert post_.headers["Content-Type"] == "application/json"
    assert post_.body.isascii() and b"12\\/3" in post_.body and b"\\u00e9" in post_.body
    assert receiver.messages()[0]["text"]["body"] == "Café at 12/3 — ok? 🚌"
    assert [d.status for d in fake.deliveries] == [200] and fake.refused == []

    assert await fake.forge(ANN, "I am Ann, honest") == 401
    assert fake.refused[-1].status == 401 and fake.refused[-1].kind == "forged"
    assert len(receiver.posts) == 2  # a forgery is not retried
    signature = receiver.posts[1].headers["X-Hub-Signature-256"]
    assert signature.startswith("sha256=") and signature != post_.headers["X-Hub-Signature-256"]
    assert await fake.deliver_raw(b"not json") == 200  # the signature is right; the body odd
    assert await fake.deliver_raw({"object": "page"}, signature="sha256=00") == 401
    assert not fake.window_open(BOB)


async def test_a_refused_delivery_is_retried_and_any_event_can_come_again(
    fake: FakeWhatsApp, receiver: Receiver
) -> None:
    receiver.answers.extend([500, 503])
    wamid = await fake.send_text(ANN, "Hello")
    assert [(d.attempt, d.status) for d in fake.deliveries] == [(1, 500), (2, 503), (3, 200)]
    assert [d.status for d in fake.refused] == [500, 503] and fake.undelivered == []
    assert len({p.body for p in receiver.posts}) == 1

    assert await fake.redeliver(wamid)
    assert receiver.posts[-1].body == receiver.posts[0].body
    assert receiver.posts[-1].headers["X-Hub-Signature-256"] == receiver.posts[0].headers[
        "X-Hub-Signature-256"]  # fmt: skip
    assert [m["id"] for m in receiver.messages()] == [wamid] * 4

    receiver.answers.extend([500] * 3)
    assert await fake.send_text(BOB, "Nobody home?")
    assert len(fake.undelivered) == 1 and fake.undelivered[0].wamids == (fake.events[-1].wamids)
    assert fake.window_open(BOB)  # the resident wrote, whatever the bot did


async def test_an_unreachable_bot_is_retried_then_given_up(clock: Clock) -> None:
    async with FakeWhatsApp(webhook_url="http://127.0.0.1:9/whatsapp/webhook", clock=clock,
                            retry_delays=(0.01,)) as fake:  # fmt: skip
        await fake.send_text(ANN, "Hello")
        assert [(d.attempt, d.status) for d in fake.deliveries] == [(1, None), (2, None)]
        assert fake.deliveries[0].error and len(fake.undelivered) == 1


async def test_the_subscription_check_wants_the_challenge_back(
    fake: FakeWhatsApp, receiver: Receiver
) -> None:
    assert await fake.verify(VERIFY_TOKEN)
    assert not await fake.verify("wrong token")


# --------------------------------------------------------------------------- residents


async def test_residents_press_buttons_and_list_rows_of_the_last_menu(
    fake: FakeWhatsApp, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    await fake.send_text(ANN, "Hi")
    with pytest.raises(NoSuchButton):
        await fake.press(ANN, "yes")
    _, answer = await post(http, fake, buttons_to(ANN, ("yes", "Yes please"), ("no", "No")))
    buttons_wamid = answer["messages"][0]["id"]
    await fake.press(ANN, "yes")
    reply = receiver.messages()[-1]
    assert reply["type"] == "interactive" and reply["interactive"] == {
        "type": "button_reply", "button_reply": {"id": "yes", "title": "Yes please"}}  # fmt: skip
    assert reply["context"] == {"from": fake.display_phone_number, "id": buttons_wamid}
    rows = [{"id": "bus", "title": "Buses", "description": "Routes and stops"},
            {"id": "bins", "title": "Bins"}]  # fmt: skip
    await post(http, fake, list_to(ANN, [{"rows": rows}]))
    with pytest.raises(NoSuchButton):
        await fake.press(ANN, "yes")  # not on the last menu
    await fake.press_row(ANN, "bus")
    await fake.press(ANN, "Bins")  # by title
    assert [m["interactive"]["list_reply"] for m in receiver.messages()[-2:]] == [
        {"id": "bus", "title": "Buses", "description": "Routes and stops"},
        {"id": "bins", "title": "Bins"}]  # fmt: skip
    await fake.press(ANN, "no", on=buttons_wamid)  # an older message's button, on purpose
    assert receiver.messages()[-1]["interactive"]["button_reply"]["id"] == "no"
    with pytest.raises(NoSuchButton):
        await fake.press_row(ANN, "no", on=buttons_wamid)


async def test_residents_send_every_other_kind_of_message(
    fake: FakeWhatsApp, receiver: Receiver
) -> None:
    for kind in OTHER_KINDS:
        await fake.send_other(ANN, kind)
    messages = receiver.messages()
    assert [m["type"] for m in messages] == list(OTHER_KINDS)
    by_kind = {m["type"]: m for m in messages}
    assert by_kind["audio"]["audio"]["voice"] is True
    assert by_kind["audio"]["audio"]["mime_type"].startswith("audio/ogg")
    assert {"latitude", "longitude"} <= set(by_kind["location"]["location"])
    assert by_kind["contacts"]["contacts"][0]["phones"][0]["wa_id"] == "447700900999"
    assert by_kind["unsupported"]["errors"][0]["code"] == 131051
    assert set(by_kind["image"]["image"]) == {"mime_type", "sha256", "id"}
    await fake.send_other(BOB, "image", caption="The broken shelter")
    assert receiver.messages()[-1]["image"]["caption"] == "The broken shelter"
    with pytest.raises(ValueError, match="kind must be one of"):
        await fake.send_other(ANN, "hologram")


async def test_read_receipts_both_ways(
    fake: FakeWhatsApp, receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    wamid = await fake.send_text(ANN, "Hello")
    mark = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
    assert await post(http, fake, mark) == (200, {"success": True})
    assert fake.read_marks == [wamid]
    status, answer = await post(http, fake, mark | {"message_id": "wamid.nope"})
    assert status == 400 and error_of(answer)[0] == 100
    _, answer = await post(http, fake, text_to(ANN, "Thanks"))
    sent_id = answer["messages"][0]["id"]
    assert await fake.read(ANN) == [sent_id]
    await fake.drain()
    assert fake.statuses_of(sent_id) == ["sent", "delivered", "read"]
    assert fake.messages_to(ANN)[0].status == "read"


async def test_tests_can_wait_for_what_the_bot_says(
    fake: FakeWhatsApp, http: aiohttp.ClientSession
) -> None:
    await fake.send_text(ANN, "Hi")

    async def bot_replies() -> None:
        await asyncio.sleep(0.02)
        await post(http, fake, text_to(ANN, "First"))
        await post(http, fake, text_to(ANN, "Second question?"))

    task = asyncio.create_task(bot_replies())
    found = await fake.wait_for_text(ANN, "question", timeout=2.0)
    assert found.text == "Second question?"
    assert (await fake.next_message(ANN)).text == "First"
    assert (await fake.next_message(ANN)).text == "Second question?"
    await task
    with pytest.raises(TimeoutError, match="never read 'nothing'"):
        await fake.wait_for_text(ANN, "nothing", timeout=0.05)


async def test_a_send_whose_answer_is_lost_is_still_sent(receiver: Receiver, clock: Clock) -> None:
    # The client gives up well after the request is out (even on a loaded machine) and
    # well before the fake answers.
    async with FakeWhatsApp(latency=1.0, clock=clock, webhook_url=receiver.url) as fake:
        fake.user_wrote(ANN)
        timeout = aiohttp.ClientTimeout(total=0.3)
        async with aiohttp.ClientSession(timeout=timeout) as impatient:
            with pytest.raises(TimeoutError):
                await post(impatient, fake, text_to(ANN, "Did this go?"))
        await fake.wait_for(lambda: len(receiver.statuses()) == 2, what="its statuses")
        assert fake.texts_to(ANN) == ["Did this go?"]
