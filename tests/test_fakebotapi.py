"""Tests of the fake Telegram Bot API, driven by a real python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from tests.fakes.telegram_api import FakeBotAPI, Fault

TOKEN = "123:ABC"
REPORT = b"need,votes\nbus shelter,12\n"
ANN = 1001
BOB = 1002

App = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE


# --------------------------------------------------------------------------- a tiny bot


async def record_update(update: Update, context: Context) -> None:
    context.bot_data.setdefault("update_ids", []).append(update.update_id)


async def echo(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    await message.reply_text(message.text or "")


async def start(update: Update, context: Context) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    await update.effective_message.reply_text(
        f"Welcome {update.effective_user.first_name}! args={context.args}"
    )


async def buttons(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    keyboard = [
        [
            InlineKeyboardButton("Yes", callback_data="choice:yes"),
            InlineKeyboardButton("No", callback_data="choice:no"),
        ]
    ]
    await update.effective_message.reply_text(
        "Pick one", reply_markup=InlineKeyboardMarkup(keyboard)
    )


async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer(f"got {query.data}")
    if query.data.startswith("choice:"):
        await query.edit_message_text(f"You chose {query.data}")


async def send_report(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_document(
        document=REPORT, filename="report.csv", caption="Your report"
    )


async def on_document(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    file = await message.document.get_file()
    data = await file.download_as_bytearray()
    await message.reply_text(f"{message.document.file_name}: {bytes(data).decode()}")


async def on_edit(update: Update, context: Context) -> None:
    assert update.edited_message is not None
    await update.edited_message.reply_text(f"edited: {update.edited_message.text}")


async def describe(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    kinds = ("sticker", "photo", "voice", "location", "contact")
    kind = next(k for k in kinds if getattr(message, k))
    await message.reply_text(f"got {kind}")


def build_app(fake: FakeBotAPI) -> App:
    app: App = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(TypeHandler(Update, record_update), group=-1)
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edit))
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("buttons", buttons))
    app.add_handler(CommandHandler("report", send_report))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(MessageHandler(filters.ALL, describe))
    return app


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def fake(fake: FakeBotAPI) -> FakeBotAPI:
    # The fake's mechanics; its Telegram-like strictness: test_strict_by_default.
    fake.relax(limits=True, unstarted=True)
    return fake


@pytest.fixture
async def app(fake: FakeBotAPI) -> AsyncIterator[App]:
    """The bot, polling the fake."""
    application = build_app(fake)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


@pytest.fixture
async def webhook_app(fake: FakeBotAPI) -> AsyncIterator[tuple[App, list[web.Request], str]]:
    """The bot fed by a small aiohttp webhook receiver; the first POST answers 500."""
    application = build_app(fake)
    requests: list[web.Request] = []

    async def receive(request: web.Request) -> web.Response:
        requests.append(request)
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != "s3cret":
            return web.Response(status=403)
        if len(requests) == 1:
            return web.Response(status=500)  # makes the fake retry
        update = Update.de_json(await request.json(), application.bot)
        await application.update_queue.put(update)
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    runner = web.AppRunner(receiver, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    await application.initialize()
    await application.start()
    try:
        yield application, requests, f"http://127.0.0.1:{port}/hook"
    finally:
        await application.stop()
        await application.shutdown()
        await runner.cleanup()


@pytest.fixture
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without it PTB warns (an error under our filterwarnings) whenever it builds RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def raw_call(fake: FakeBotAPI, method: str, **kwargs: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}{TOKEN}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


# --------------------------------------------------------------------------- polling


async def test_text_echo_round_trip(fake: FakeBotAPI, app: App) -> None:
    ann = fake.user(ANN, "Ann")
    sent = await ann.send_text("hello there")
    reply = await ann.next_message()
    assert reply["text"] == "hello there"
    assert reply["from"]["is_bot"] is True
    assert reply["chat"] == {"id": ANN, "type": "private", "first_name": "Ann"}
    # Message ids are one sequence per chat, shared by the user and the bot.
    assert reply["message_id"] == sent["message"]["message_id"] + 1
    assert fake.calls_to("getMe")
    assert fake.calls_to("sendMessage")[0].params["chat_id"] == ANN


async def test_command_entity_and_args(fake: FakeBotAPI, app: App) -> None:
    ann = fake.user(ANN, "Ann")
    update = await ann.send_command("/start", "from-flyer")
    assert update["message"]["text"] == "/start from-flyer"
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert (await ann.next_message())["text"] == "Welcome Ann! args=['from-flyer']"


async def test_many_users_concurrently(fake: FakeBotAPI, app: App) -> None:
    users = [fake.user(2000 + i, f"User{i}") for i in range(40)]

    async def converse(index: int) -> list[str]:
        user = users[index]
        for turn in range(3):
            await user.send_text(f"{index}-{turn}")
        await user.wait_for_messages(3)
        return user.texts

    results = await asyncio.gather(*(converse(i) for i in range(len(users))))
    assert results == [[f"{i}-{t}" for t in range(3)] for i in range(len(users))]


async def test_button_press_reaches_callback_handler(fake: FakeBotAPI, app: App) -> None:
    ann = fake.user(ANN, "Ann")
    await ann.send_command("/buttons")
    prompt = await ann.next_message()
    assert ann.last_keyboard_labels() == ["Yes", "No"]

    update = await ann.press("Yes")
    query = update["callback_query"]
    assert query["data"] == "choice:yes"
    assert query["message"]["message_id"] == prompt["message_id"]
    assert query["from"]["id"] == ANN and query["chat_instance"]

    await fake.wait_for_call("editMessageText")
    assert fake.answered_callbacks[0]["text"] == "got choice:yes"
    assert fake.answered_callbacks[0]["callback_query_id"] == query["id"]
    # The edit replaced the text and, not re-sending the keyboard, removed it.
    assert ann.messages[0]["text"] == "You chose choice:yes"
    assert "reply_markup" not in ann.messages[0]
    assert ann.last_keyboard_labels() == []
    with pytest.raises(LookupError):
        await ann.press("No")


async def test_press_by_callback_data_and_forged_data(fake: FakeBotAPI, app: App) -> None:
    ann = fake.user(ANN, "Ann")
    await ann.send_command("/buttons")
    await ann.next_message()
    assert (await ann.press("choice:no"))["callback_query"]["data"] == "choice:no"
    await fake.wait_for_call("editMessageText")

    forged = await ann.press_data("forged:payload", message_id=999)
    assert forged["callback_query"]["message"]["date"] == 0  # inaccessible message
    await fake.wait_for_call("answerCallbackQuery", count=2)
    assert fake.answered_callbacks[1]["data"] == "forged:payload"


async def test_send_document_keeps_bytes(fake: FakeBotAPI, app: App) -> None:
    ann = fake.user(ANN, "Ann")
    await ann.send_command("/report")
    message = await ann.next_message()
    assert message["document"]["file_name"] == "report.csv"
    assert message["document"]["mime_type"] == "text/csv"
    assert message["caption"] == "Your report"
    assert ann.documents[0].data == REPORT
    assert fake.calls_to("sendDocument")[0].files["document"].data == REPORT


async def test_user_document_is_downloadable(fake: FakeBotAPI, app: App) -> None:
    ann = fake.user(ANN, "Ann")
    await ann.send_document("notes.txt", b"more buses please")
    assert (await ann.next_message())["text"] == "notes.txt: more buses please"
    assert fake.calls_to("getFile")


async def test_other_message_kinds_and_edits(fake: FakeBotAPI, app: App) -> None:
    ann = fake.user(ANN, "Ann")
    await ann.send_sticker()
    await ann.send_photo(caption="pothole")
    await ann.send_voice()
    await ann.send_location(51.5, -0.12)
    await ann.send_contact()
    typed = await ann.send_text("typo")
    await ann.edit_text(typed["message"]["message_id"], "fixed")
    await ann.wait_for_messages(7)
    assert ann.texts == [
        "got sticker",
        "got photo",
        "got voice",
        "got location",
        "got contact",
        "typo",
        "edited: fixed",
    ]


async def test_duplicate_update_delivery(fake: FakeBotAPI, app: App) -> None:
    ann = fake.user(ANN, "Ann")
    first = await ann.send_text("only once")
    await ann.next_message()
    again = await ann.resend_last_update()
    assert again["update_id"] == first["update_id"]
    assert (await ann.next_message())["text"] == "only once"
    await ann.send_text("next")
    assert (await ann.next_message())["text"] == "next"  # no third delivery
    assert app.bot_data["update_ids"].count(first["update_id"]) == 2


# --------------------------------------------------------------------------- validation


async def test_reply_keyboard_and_read_cursor(fake: FakeBotAPI, app: App) -> None:
    ann = fake.user(ANN)
    keyboard = ReplyKeyboardMarkup([["Housing", "Transport"]], one_time_keyboard=True)
    await app.bot.send_message(ANN, "Which topic?", reply_markup=keyboard)
    await app.bot.send_message(ANN, "(or type your own)")
    assert ann.reply_keyboard_labels() == ["Housing", "Transport"]
    assert "reply_markup" not in ann.messages[0]  # Message.reply_markup is inline-only
    assert ann.unread == 2
    ann.mark_read()
    update = await ann.press("Transport")  # a reply-keyboard button sends its label
    assert update["message"]["text"] == "Transport"
    assert (await ann.next_message())["text"] == "Transport"  # echoed
    await app.bot.send_message(ANN, "Thanks", reply_markup=ReplyKeyboardRemove())
    await ann.wait_until(lambda: ann.reply_keyboard is None)


async def test_text_length_and_unknown_chat(fake: FakeBotAPI, app: App) -> None:
    ann = fake.user(ANN)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await app.bot.send_message(ANN, "x" * 4097)
    assert fake.calls_to("sendMessage")[-1].status == 400
    assert len((await app.bot.send_message(ANN, "x" * 4096)).text or "") == 4096
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await app.bot.send_message(ANN, "   ")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await app.bot.send_message(999, "hello?")
    assert ann.texts == ["x" * 4096]


async def test_callback_data_limit(fake: FakeBotAPI, app: App) -> None:
    fake.user(ANN)

    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data=data)]])

    await app.bot.send_message(ANN, "ok", reply_markup=keyboard("d" * 64))
    for data in ("d" * 65, "é" * 33):  # the limit is in bytes
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await app.bot.send_message(ANN, "no", reply_markup=keyboard(data))


async def test_edit_not_modified_and_delete(fake: FakeBotAPI, app: App) -> None:
    ann = fake.user(ANN)
    sent = await app.bot.send_message(ANN, "draft")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await app.bot.edit_message_text("draft", chat_id=ANN, message_id=sent.message_id)
    edited = await app.bot.edit_message_text("final", chat_id=ANN, message_id=sent.message_id)
    assert isinstance(edited, object) and ann.messages[0]["text"] == "final"
    assert "edit_date" in ann.messages[0]

    await app.bot.send_chat_action(ANN, "typing")
    assert ann.chat_actions == ["typing"]
    assert await app.bot.delete_message(ANN, sent.message_id)
    assert ann.visible_messages == [] and ann.deleted_message_ids == {sent.message_id}
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await app.bot.delete_message(ANN, sent.message_id)


async def test_html_parse_mode(fake: FakeBotAPI, app: App) -> None:
    fake.user(ANN)
    message = await app.bot.send_message(
        ANN, "<b>Bold</b> &amp; <a href='https://example.org'>link</a> 👍", parse_mode="HTML"
    )
    assert message.text == "Bold & link 👍"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 4),
        ("text_link", 7, 4),
    ]
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await app.bot.send_message(ANN, "1 < 2", parse_mode="HTML")


async def test_flood_limits(fake: FakeBotAPI, app: App, timedelta_retry_after: None) -> None:
    now = 100.0
    fake.clock = lambda: now
    fake.user(ANN)
    fake.user(BOB)
    fake.rate_limit = 2
    await app.bot.send_message(ANN, "1")
    await app.bot.send_message(BOB, "2")
    with pytest.raises(RetryAfter) as caught:
        await app.bot.send_message(ANN, "3")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert fake.too_many_requests == [100.0]
    now = 101.0  # the window has moved on
    await app.bot.send_message(ANN, "3")

    fake.rate_limit = None
    fake.per_chat_limit = 1
    now = 105.0
    await app.bot.send_message(ANN, "4")
    await app.bot.send_message(BOB, "4")  # another chat is not limited
    with pytest.raises(RetryAfter):
        await app.bot.send_message(ANN, "5")
    assert len(fake.too_many_requests) == 2

    # A user talking to the bot may get a short burst of answers; nobody else may.
    fake.talking_limit = 3
    now = 110.0
    ann = fake.user(ANN)
    await ann.send_text("hello")
    await ann.wait_until(lambda: "hello" in ann.texts)  # the echo: one of the three
    for n in range(2):
        await app.bot.send_message(ANN, f"answer {n}")
    with pytest.raises(RetryAfter):
        await app.bot.send_message(ANN, "one too many")
    await app.bot.send_message(BOB, "unprompted")
    with pytest.raises(RetryAfter):
        await app.bot.send_message(BOB, "unprompted again")
    now = 116.0  # Ann has not said anything for a while: one a second again
    await app.bot.send_message(ANN, "later")
    with pytest.raises(RetryAfter):
        await app.bot.send_message(ANN, "later again")
    assert len(fake.too_many_requests) == 5


async def test_blocked_user(fake: FakeBotAPI, app: App) -> None:
    fake.user(ANN)
    fake.blocked.add(ANN)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await app.bot.send_message(ANN, "hello")


async def test_injected_faults(fake: FakeBotAPI, app: App, timedelta_retry_after: None) -> None:
    ann = fake.user(ANN)
    fake.inject_fault("sendMessage", Fault.error(500))
    with pytest.raises(NetworkError) as caught:
        await app.bot.send_message(ANN, "a")
    assert caught.type is NetworkError
    await app.bot.send_message(ANN, "b")  # only the next call was affected

    fake.inject_fault("sendMessage", Fault.flood(7))
    with pytest.raises(RetryAfter) as flood:
        await app.bot.send_message(ANN, "c")
    assert flood.value.retry_after == dtm.timedelta(seconds=7)

    # A hang past the client's timeout: the client gives up, but the call still happens.
    fake.inject_fault("sendMessage", Fault.hang(0.5))
    with pytest.raises(TimedOut):
        await app.bot.send_message(ANN, "slow", read_timeout=0.05)
    await ann.wait_for_messages(2)
    assert ann.texts == ["b", "slow"]


async def test_commands_and_unknown_method(fake: FakeBotAPI, app: App) -> None:
    await app.bot.set_my_commands([("start", "Begin"), ("help", "Get help")])
    assert [c.command for c in await app.bot.get_my_commands()] == ["start", "help"]
    assert fake.my_commands()[1] == {"command": "help", "description": "Get help"}
    with pytest.raises(BadRequest):
        await app.bot.set_my_commands([("Start!", "bad")])
    await app.bot.delete_my_commands()
    assert await app.bot.get_my_commands() == ()
    with pytest.raises(EndPointNotFound):
        await app.bot.do_api_request("fooBar")


# --------------------------------------------------------------------------- raw protocol


async def test_request_encodings(fake: FakeBotAPI) -> None:
    fake.user(ANN)
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    status, body = await raw_call(
        fake, "sendMessage", json={"chat_id": ANN, "text": "json", "reply_markup": markup}
    )
    assert status == 200 and body["result"]["reply_markup"] == markup
    # Form values are JSON-decoded, except string fields such as text.
    status, body = await raw_call(
        fake,
        "sendMessage",
        data={"chat_id": str(ANN), "text": "123", "reply_markup": json.dumps(markup)},
    )
    assert body["result"]["text"] == "123" and body["result"]["reply_markup"] == markup
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.base_url}{TOKEN}/getMe") as response:
            assert (await response.json())["result"]["id"] == 123
        async with session.post(f"{fake.base_url}{TOKEN}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
    fake.inject_fault("getMe", Fault.flood(3))
    status, body = await raw_call(fake, "getMe")
    assert status == 429 and body["parameters"] == {"retry_after": 3}


async def test_get_updates_semantics(fake: FakeBotAPI) -> None:
    ann = fake.user(ANN)
    ids = [(await ann.send_text(f"m{i}"))["update_id"] for i in range(3)]
    _, body = await raw_call(fake, "getUpdates", json={"limit": 2})
    assert [u["update_id"] for u in body["result"]] == ids[:2]
    _, body = await raw_call(fake, "getUpdates", json={"offset": ids[1] + 1})
    assert [u["update_id"] for u in body["result"]] == ids[2:]
    _, body = await raw_call(fake, "getUpdates", json={"offset": ids[2] + 1})
    assert body["result"] == []

    poll = asyncio.create_task(
        raw_call(fake, "getUpdates", json={"offset": ids[2] + 1, "timeout": 30})
    )
    await fake.wait_for_call("getUpdates", count=4, answered=False)
    late = await ann.send_text("late")
    _, body = await poll
    assert body["result"] == [late]

    # allowed_updates persists and filters out other update types.
    await ann.send_text("ignored")
    await ann.press_data("wanted")
    _, body = await raw_call(
        fake,
        "getUpdates",
        json={"offset": late["update_id"] + 1, "allowed_updates": ["callback_query"]},
    )
    assert [next(iter(u.keys() - {"update_id"})) for u in body["result"]] == ["callback_query"]


async def test_pending_long_poll_is_answered_on_shutdown() -> None:
    fake = FakeBotAPI()
    await fake.start()
    poll = asyncio.create_task(raw_call(fake, "getUpdates", json={"timeout": 60}))
    await fake.wait_for_call("getUpdates", answered=False)
    await fake.stop()
    assert await poll == (200, {"ok": True, "result": []})


# --------------------------------------------------------------------------- webhook


async def test_webhook_delivery(
    fake: FakeBotAPI, webhook_app: tuple[App, list[web.Request], str]
) -> None:
    app, requests, url = webhook_app
    await app.bot.set_webhook(url, secret_token="s3cret")
    assert (await app.bot.get_webhook_info()).url == url
    ann = fake.user(ANN, "Ann")
    first = await ann.send_text("via webhook")
    await ann.send_text("in order")
    await ann.wait_for_messages(2)
    assert ann.texts == ["via webhook", "in order"]
    # The first POST got a 500 and was retried with the same update.
    attempts = [(a.update_id, a.status) for a in fake.webhook_attempts]
    assert attempts[:2] == [(first["update_id"], 500), (first["update_id"], 200)]
    assert {r.headers["X-Telegram-Bot-Api-Secret-Token"] for r in requests} == {"s3cret"}

    with pytest.raises(Conflict, match="webhook is active"):
        await app.bot.get_updates()
    await app.bot.delete_webhook()
    await ann.send_text("polled")
    assert [u.message.text for u in await app.bot.get_updates() if u.message] == ["polled"]


async def test_strict_by_default(timedelta_retry_after: None) -> None:
    """As Telegram: no first message to someone who never wrote, and the flood limits on."""
    async with FakeBotAPI() as strict, Bot(TOKEN, base_url=strict.base_url) as bot:
        now = 100.0
        strict.clock = lambda: now
        assert (strict.rate_limit, strict.per_chat_limit) == (30, 1)
        ann, bob = strict.user(ANN), strict.user(BOB, started=True)
        assert (ann.started, bob.started) == (False, True)
        with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
            await bot.send_message(ANN, "hello, stranger")
        assert ann.messages == []
        await bot.send_message(BOB, "Bob pressed Start once, before the test")
        assert bob.texts == ["Bob pressed Start once, before the test"]
        with pytest.raises(RetryAfter):
            await bot.send_message(BOB, "a second unprompted message within the second")
        now = 102.0
        await ann.send_text("hi")  # now Ann has written to the bot
        await bot.send_message(ANN, "hello, Ann")
        assert ann.texts == ["hello, Ann"]
        for n in range(35):  # 30 a second overall, to everyone
            strict.user(5000 + n, started=True)
        now = 110.0
        with pytest.raises(RetryAfter):
            for n in range(35):
                await bot.send_message(5000 + n, "bulk")
        assert sum(len(strict.user(5000 + n).messages) for n in range(35)) == 30

        strict.relax(unstarted=True)  # what a test must say to be kinder than Telegram
        carl = strict.user(3003)
        now = 120.0
        await bot.send_message(3003, "delivered unprompted")
        assert carl.texts == ["delivered unprompted"]
