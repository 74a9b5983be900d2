"""Fuzzing with Hypothesis: arbitrary inputs to the engine and the service, arbitrary
raw Telegram updates to the real bot, arbitrary scripts to the validator. No unhandled
exception, no corrupted state."""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import itertools
import json
import logging
import tomllib
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.config import StaffConfig, TelegramConfig
from bot.telegram.application import build_application
from bot.telegram.updates import read_update
from conversations.flow import engine
from conversations.flow.inputs import (
    Begin,
    ChoiceInput,
    EditedText,
    Input,
    SetLanguage,
    TextInput,
    Unsupported,
)
from conversations.flow.script import Script, ScriptError
from conversations.flow.script_toml import load_script, parse_script
from conversations.flow.state import ConversationState, new_state
from conversations.residents.service import ConversationService, Who
from conversations.storage.models import Consultation, Conversation, PendingUpdate, Resident, Round
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_harness import bot_config, running_bot
from tests.web_helpers import ADMIN, SECRET, sign_in, web_client, web_config

EXAMPLE = load_script(EXAMPLE_SCRIPT)
STEP_IDS = [s.id for s in EXAMPLE.steps] + ["_consent", "nope", ""]
OPTION_IDS = [o.id for s in EXAMPLE.steps for o in s.options] + [
    "_agree", "_decline", "_skip", "_done", "_yes", "_no", "_c0", "_c1", "_c9", "x",
]  # fmt: skip

texts = st.text(max_size=300) | st.sampled_from(
    ["yes", "No", "  ", "Done", "65 or over", "Skip", "🙂"]
)
inputs = st.one_of(
    st.builds(Begin),
    st.builds(TextInput, texts, st.one_of(st.none(), st.text(max_size=5))),
    st.builds(EditedText, texts, st.text(max_size=5)),
    st.builds(
        ChoiceInput,
        st.sampled_from(STEP_IDS),
        st.integers(min_value=-1, max_value=4),
        st.sampled_from(OPTION_IDS),
    ),
    st.builds(Unsupported, st.sampled_from(["voice", "sticker", "photo", "?"])),
    st.builds(SetLanguage, st.sampled_from(["en", "cy", "fr", ""])),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(inputs, max_size=40))
def test_the_engine_survives_any_inputs(script_inputs: list[Input]) -> None:
    state = new_state(EXAMPLE, "en")
    for given_input in script_inputs:
        outcome = engine.step(EXAMPLE, state, given_input)
        # The state is plain data that survives a round trip, and still makes sense.
        state = ConversationState.from_dict(json.loads(json.dumps(outcome.state.to_dict())))
        assert state.phase in ("consent", "steps", "done", "declined")
        if state.phase == "steps":
            assert state.step is not None and EXAMPLE.has_step(state.step)
        assert all(len(reply.text) <= 4096 for reply in outcome.replies)
        for answer in outcome.answers:
            assert EXAMPLE.has_step(answer.step_id) and answer.iteration >= 1
        assert outcome.replies or isinstance(given_input, EditedText)


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _mutations() -> st.SearchStrategy[dict[str, Any]]:
    base = tomllib.loads(EXAMPLE_SCRIPT.read_text(encoding="utf-8"))
    keys = st.sampled_from(
        ["slug", "title", "area", "languages", "consent", "steps", "population", "colour"]
    )

    def mutate(change: tuple[str, Any], step_change: tuple[int, str, Any]) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(json.dumps(base))
        key, value = change
        document[key] = value
        index, step_key, step_value = step_change
        if isinstance(document.get("steps"), list) and document["steps"]:
            target = document["steps"][index % len(document["steps"])]
            if isinstance(target, dict):
                target[step_key] = step_value
        return document

    step_keys = st.sampled_from(
        ["id", "kind", "text", "next", "options", "items", "back_to", "max", "profile", "multi"]
    )
    return st.builds(
        mutate, st.tuples(keys, toml_values), st.tuples(st.integers(0, 20), step_keys, toml_values)
    )


def _to_toml(value: Any) -> str:
    """Enough TOML for the fuzzer: JSON values written inline."""
    lines = []
    for key, item in value.items():
        lines.append(f"{json.dumps(str(key))} = {_inline(item)}")
    return "\n".join(lines)


def _inline(item: Any) -> str:
    if item is None:
        return '""'
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return str(item)
    if isinstance(item, str):
        return json.dumps(item)
    if isinstance(item, list):
        return "[" + ", ".join(_inline(i) for i in item) + "]"
    return "{" + ", ".join(f"{json.dumps(str(k))} = {_inline(v)}" for k, v in item.items()) + "}"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations())
def test_the_validator_accepts_or_explains_any_script(document: dict[str, Any]) -> None:
    try:
        script = parse_script(_to_toml(document), "fuzz.toml")
    except ScriptError as error:
        assert str(error).startswith("fuzz.toml: ") and error.problem
        return
    assert isinstance(script, Script)
    engine.step(script, new_state(script, None), Begin())


def test_service_survives_junk(db: Engine) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(db)

    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        st.lists(
            st.one_of(
                st.tuples(st.just("start"), st.one_of(st.none(), st.text(max_size=80))),
                st.tuples(st.just("press"), st.text(max_size=100)),
                st.tuples(st.just("text"), texts),
            ),
            max_size=12,
        ),
        st.integers(1, 5),
    )
    def run(actions: list[tuple[str, Any]], user: int) -> None:
        who = Who("telegram", str(user), str(user), "en")
        for kind, value in actions:
            if kind == "start":
                messages = service.start(who, value)
            elif kind == "press":
                messages = service.press(who, value)
            else:
                messages = service.receive(who, TextInput(value))
            assert all(len(m.text) <= 4096 for m in messages)
            assert all(
                len(b.data.encode()) <= 64 for m in messages for row in m.buttons for b in row
            )

    run()


# --- hostile characters (issue 17): stored clean, exported defused, on both databases --

UNSAFE_CHARACTERS = (
    [chr(c) for c in range(0x20) if c not in (0x09, 0x0A)] + ["\x7f", "\x85", "\x9b"]
    + ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
    + ["\ud800", "\udfff"]
)  # fmt: skip
hostile_text = st.text(
    alphabet=st.sampled_from(UNSAFE_CHARACTERS) | st.sampled_from(list("=+-@ ab\t\n")),
    min_size=1, max_size=40,
) | st.sampled_from(["=HYPERLINK(\"http://x\",\"y\")", "\x00", "a\x00b", "\x1b[31mred"])  # fmt: skip


def _unsafe(text: str) -> bool:
    return any(ch in text for ch in UNSAFE_CHARACTERS)


def test_hostile_characters_are_stored_clean_and_exported_defused(db: Engine) -> None:
    from conversations.staff.export import export_columns, export_records, write_export
    from conversations.storage.models import Answer, InboxEntry

    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(db)
    keys = itertools.count()

    @settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(st.lists(hostile_text, min_size=1, max_size=6), st.integers(1, 4))
    def run(said: list[str], user: int) -> None:
        who = Who("web", f"hostile-{user}", "web", "en")
        service.start(who, "example", update_key=f"h{next(keys)}")
        service.press(who, "a:_consent:1:_agree", update_key=f"h{next(keys)}")
        for text in said:  # with update keys: the fast path takes the plain answers
            service.receive(who, TextInput(text), update_key=f"h{next(keys)}")
            service.receive(who, TextInput(text))

    run()
    with Session(db) as session:
        stored = [a.value for a in session.exec(select(Answer)).all()]
        stored += [a.display for a in session.exec(select(Answer)).all()]
        stored += [e.replies_json for e in session.exec(select(InboxEntry)).all()]
        assert not any(_unsafe(value) for value in stored)
        consultation = session.exec(select(Consultation)).one()
        handle = io.StringIO()
        records = export_records(session=session, consultation=consultation, script=EXAMPLE)
        write_export(handle, "csv", export_columns(EXAMPLE), records)
    for row in csv.reader(io.StringIO(handle.getvalue())):
        for cell in row:
            assert not _unsafe(cell) and cell[:1] not in ("=", "+", "-", "@", "\t", "\r")


async def test_the_web_chat_takes_hostile_characters_on_both_databases(db: Engine) -> None:
    from conversations.storage.models import WebTranscriptEntry
    from tests.web_helpers import WebResident, web_client

    samples = ["a\x00b", "\x07\x1b[2J\u202eevil", "=1+1\x00", "\t\r=cmd", "x" + "".join(
        c for c in UNSAFE_CHARACTERS if c not in ("\ud800", "\udfff"))]  # fmt: skip
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()
        await ann.press("Take part")
        await ann.press("happy to take part")
        for text in samples:
            status = await ann.submit(
                ann.page.text_form() if _has_text(ann) else _any(ann), {"text": text}
            )
            assert status == 200, text
    with Session(db) as session:
        lines = [t.text for t in session.exec(select(WebTranscriptEntry)).all()]
    assert lines and not any(_unsafe(line) for line in lines)


def _has_text(resident: Any) -> bool:
    return any(form.has_text for form in resident.page.forms)


def _any(resident: Any) -> Any:
    return next(form for form in resident.page.forms if "csrf" in form.fields)


# --- raw Telegram updates to the real bot --------------------------------------------

FUZZ_USERS = list(range(7001, 7007))  # the fake knows their chats, so replies can arrive
FACILITATOR = 7001  # staff commands with junk arguments, too
GROUPS = [-1001, -1002]  # group chats: the bot must say nothing there
SENTINEL = 7999
PHASES = ("consent", "steps", "done", "declined")
# Kinds the bot polls for go through the fake Bot API's getUpdates (and the durable
# inbox); the rest Telegram withholds from this bot, so they go straight to
# Application.process_update, as if it asked for them.
POLLED = ("message", "edited_message", "callback_query")
OTHER_KINDS = (
    "channel_post", "edited_channel_post", "inline_query", "chosen_inline_result",
    "my_chat_member", "poll", "poll_answer", "message_reaction", "chat_join_request",
    "shipping_query", "pre_checkout_query", "business_message", "a_kind_from_the_future",
)  # fmt: skip
# Every command the bot knows, and some it does not. /analyse and /digest are left
# out: they are heavy, and their arguments are checked like the others'.
COMMAND_NAMES = [
    "start", "help", "language", "mydata", "forget", "stop", "staff", "login",
    "consultations", "status", "open", "priorities", "close", "schedule", "links",
    "themes", "rename", "merge", "split", "decide", "broadcast", "nope", "START",
]  # fmt: skip

# Numbers as people (and attackers) type them: beyond any database column, in other
# scripts' digits ("٣", "１") and digit-like symbols ("²", which passes str.isdigit()
# and fails int()), signed, spaced and empty.
odd_numbers = st.one_of(
    st.integers(min_value=2**31 - 2, max_value=10**40).map(str),
    st.integers(-(10**6), 10**6).map(str),
    st.text(alphabet=st.characters(categories=["Nd", "No"]), min_size=1, max_size=6),
    st.sampled_from(["²", "٣", "１２", "99999999999999999999999", "1e3", "0x10", "", " 7 ", "+1"]),
)

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
odd_text = st.one_of(
    texts,
    st.sampled_from(
        [
            "",
            "\u200b",
            "👍🏽",
            "/",
            "//start",
            "@",
            "\x00",
            "a\nb",
            "<b>x</b>",
            "a\x00b",
            "\x07\x1b[2J",
            "\u202eevil",
            "=1+1",
            "\t=cmd",
            "\r\n",
        ]
    ),
    # Longer than Telegram allows, as a resident's text could never be; echoes must fit.
    st.builds(
        lambda piece, n: (piece * n)[:5000], st.text(min_size=1, max_size=4), st.integers(900, 2500)
    ),
)
command_text = st.builds(
    lambda name, tail: f"/{name}{tail}",
    st.sampled_from(COMMAND_NAMES),
    st.one_of(
        st.just(""),
        st.sampled_from(["@needs_first_test_bot", "@another_bot", " example", " example--x"]),
        st.text(max_size=60).map(lambda args: " " + args),
        st.builds(lambda a, b: f" example {a} {b} words", odd_numbers, odd_numbers),
        st.builds(lambda a: f" example window={a} Hello", odd_numbers),
    ),
)
callback_junk = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["a:area:1:north", "a:need:1:_skip", "a:x:999:y", "j:example", "j:nope",
                     "f:yes", "f:no", "l:cy", "l:fr", "s:bc:1:go", "s:bc:99999999999:no"]),
    st.builds(lambda n: f"s:bc:{n}:go", odd_numbers),
    st.builds(lambda n, o: f"a:area:{n}:{o}", odd_numbers, st.sampled_from(["north", "_c²", "_c٣"])),
)  # fmt: skip


MEDIA: list[dict[str, Any]] = [
    {"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1,
                 "height": 1, "is_animated": False, "is_video": False}},
    {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]},
    {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}},
    {"location": {"latitude": 51.5, "longitude": -0.1}},
    {"contact": {"phone_number": "+15550100", "first_name": "A"}},
    {"document": {"file_id": "d", "file_unique_id": "d", "file_name": "a.pdf"}},
    {"new_chat_members": [{"id": 5, "is_bot": True, "first_name": "B"}]},
    {},  # nothing a bot can read
]  # fmt: skip


def _person(user_id: int, language: str | None) -> dict[str, Any]:
    person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Fuzz"}
    if language is not None:
        person["language_code"] = language
    return person


@st.composite
def messages(draw: st.DrawFn, user_id: int) -> dict[str, Any]:
    chat_id = draw(st.sampled_from([user_id] * 6 + GROUPS + FUZZ_USERS))
    chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup", "title": "g"}
    content = draw(
        st.one_of(
            odd_text.map(lambda t: {"text": t}),
            command_text.map(
                lambda t: {
                    "text": t,
                    "entities": [{"type": "bot_command", "offset": 0, "length": len(t.split()[0])}],
                }
            ),
            st.sampled_from(MEDIA),
        )
    )
    message = {
        "message_id": draw(st.integers(1, 10_000)),
        "from": _person(user_id, draw(st.sampled_from(["en", "cy", "fr", None]))),
        "chat": chat,
        "date": 1_795_000_000,
        **content,
    }
    if draw(st.booleans()):
        message["edit_date"] = 1_795_000_001
    return message


@st.composite
def payloads(
    draw: st.DrawFn, kind: str, user_id: int, keyboard: dict[str, Any] | None
) -> dict[str, Any]:
    """A plausible payload of `kind`, from `user_id`, pressing a button of `keyboard`
    (the bot's latest message to them that has buttons) now and then.

    What is drawn never depends on the bot's state, only what it means: Hypothesis
    replays examples, and the state has moved on by then."""
    if kind in ("message", "edited_message", "channel_post", "edited_channel_post",
                "business_message"):  # fmt: skip
        return draw(messages(user_id))
    if kind == "callback_query":
        real, index, junk_data = (
            draw(st.integers(0, 3)),
            draw(st.integers(0, 99)),
            draw(callback_junk),
        )
        message, attached = draw(messages(user_id)), draw(st.integers(0, 4))
        query: dict[str, Any] = {
            "id": str(draw(st.integers(1, 10**9))),
            "from": _person(user_id, "en"),
            "chat_instance": "c",
            "data": junk_data,
        }
        if attached and keyboard is not None:
            query["message"] = copy.deepcopy(keyboard)
            if real:
                data = _button_data(keyboard)
                query["data"] = data[index % len(data)]
        elif attached:
            query["message"] = message
        return query
    person = _person(user_id, "en")
    chat = {"id": user_id, "type": "private", "first_name": "Fuzz"}
    member = {"status": "member", "user": person}
    others: dict[str, dict[str, Any]] = {
        "inline_query": {"id": "q", "from": person, "query": draw(odd_text), "offset": ""},
        "chosen_inline_result": {"result_id": "r", "from": person, "query": draw(odd_text)},
        "my_chat_member": {"chat": chat, "from": person, "date": 1_795_000_000,
                           "old_chat_member": member, "new_chat_member": {**member, "status": "kicked"}},
        "message_reaction": {"chat": chat, "message_id": 1, "user": person, "date": 1_795_000_000,
                             "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]},
        "chat_join_request": {"chat": chat, "from": person, "user_chat_id": user_id,
                              "date": 1_795_000_000},
        "poll_answer": {"poll_id": "p", "user": person, "option_ids": [0]},
    }  # fmt: skip
    return others.get(kind, {"id": "x", "from": person, "chat": chat, "text": draw(odd_text)})


def _button_data(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def _places(document: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Places (object, key) in a payload that a mutation can delete or replace."""
    places: list[tuple[dict[str, Any], str]] = []
    stack: list[Any] = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            places += [(item, key) for key in item]
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
    return places


@st.composite
def raw_updates(
    draw: st.DrawFn, keyboards: dict[int, dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    """(kind, payload): plausible, then perhaps broken: keys gone, values of wrong types,
    unknown keys. Ids stay integers: Telegram's always are, and bots rely on it."""
    # Mostly what residents send, and presses of the bot's own buttons, to get deep
    # into conversations; now and then something else.
    kind = draw(st.sampled_from(["message"] * 3 + ["callback_query"] * 4 + ["edited_message", ""]))
    kind = kind or draw(st.sampled_from(OTHER_KINDS))
    user_id = draw(st.sampled_from(FUZZ_USERS))
    payload = draw(payloads(kind, user_id, keyboards.get(user_id)))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        index, change, value = draw(st.integers(0, 10**6)), draw(st.integers(0, 2)), draw(junk)
        added = draw(st.sampled_from(["zzz", "is_topic_message", "quote", "via_bot", "text"]))
        places = _places(payload)
        if not places:
            continue
        target, key = places[index % len(places)]
        if change == 0:
            del target[key]
        elif change == 1 and key != "id":
            target[key] = value
        else:
            target[added] = value
    return kind, payload


class Problems(logging.Handler):
    """Every warning or error logged while the bot runs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def crashes(self) -> list[str]:
        """All but the expected: a malformed update, skipped (bot/telegram/updates.py)."""
        return [
            f"{r.name}: {r.getMessage()}"
            + (f" ({r.exc_info[1]!r})" if r.exc_info and r.exc_info[1] else "")
            for r in self.records
            if r.name != "bot.telegram.updates"
        ]


def _keyboards(fake: FakeBotAPI) -> dict[int, dict[str, Any]]:
    """Each fuzz user's latest message from the bot that has buttons."""
    found: dict[int, dict[str, Any]] = {}
    for user_id in FUZZ_USERS:
        for message in reversed(fake.user(user_id).messages):
            if _button_data(message):
                found[user_id] = message
                break
    return found


def _check_stored_state(db: Engine) -> None:
    """Each resident's conversation state parses and points to a real step."""
    with Session(db) as session:
        rows = session.exec(
            select(Conversation, Round, Consultation)
            .join(Round, col(Round.id) == col(Conversation.round_id))
            .join(Consultation, col(Consultation.id) == col(Round.consultation_id))
        ).all()
        scripts: dict[str, Script] = {}
        for conversation, round_, consultation in rows:
            if consultation.script_hash not in scripts:
                scripts[consultation.script_hash] = parse_script(consultation.script_toml, "db")
            script = scripts[consultation.script_hash].for_round(round_.kind)
            state = ConversationState.from_dict(json.loads(conversation.state_json))
            assert state.phase in PHASES, state
            if state.phase == "steps":
                assert state.step is not None and script.has_step(state.step), state
        conversations = {c.id for c, _, _ in rows}
        for resident in session.exec(select(Resident)).all():
            assert resident.current_conversation_id in conversations | {None}


def test_the_bot_survives_any_raw_updates(db: Engine, db_url: str) -> None:
    """Arbitrary update JSON through the real Application: no crash reaches the error
    handler, nothing is said in groups, the bot keeps answering, stored state stays sound."""
    # Hypothesis runs examples synchronously, so the bot gets its own event loop, run
    # while an example delivers its updates and paused in between.
    runner = asyncio.Runner()
    resources = AsyncExitStack()
    problems = Problems()
    direct_ids = itertools.count(10**9)
    try:
        fake = runner.run(resources.enter_async_context(FakeBotAPI()))
        config = replace(bot_config(fake, db_url), staff=StaffConfig(facilitators=(FACILITATOR,)))
        service = runner.run(resources.enter_async_context(running_bot(config)))
        application = service.telegram
        assert application is not None
        bot = application.bot
        # Updates go straight to the application, past the fake, which then neither knows
        # these users wrote nor paces their replies as a conversation: say both here. (The
        # groups count as started too, so that a message to one would arrive and be seen.)
        fake.relax(limits=True)
        for chat_id in [*FUZZ_USERS, *GROUPS, SENTINEL]:
            fake.user(chat_id, started=True)
        logging.getLogger().addHandler(problems)

        async def deliver(updates: list[tuple[str, dict[str, Any]]]) -> None:
            for kind, payload in updates:
                if kind in POLLED:
                    # Into the fake's own queue: fetched by getUpdates, as from Telegram.
                    fake._push(fake.user(FUZZ_USERS[0]), kind, payload)
                    continue
                # Checked as the webhook route and the poller check theirs.
                update = read_update({"update_id": next(direct_ids), kind: payload}, bot)
                if update is not None:
                    await application.process_update(update)
            await _settled(fake, db)

        @settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(st.data())
        def run(data: st.DataObject) -> None:
            updates = data.draw(st.lists(raw_updates(_keyboards(fake)), min_size=1, max_size=5))
            problems.records.clear()
            runner.run(deliver(updates))
            assert problems.crashes() == []
            assert all(fake.user(group).messages == [] for group in GROUPS)
            _check_stored_state(db)

        run()
        sentinel = fake.user(SENTINEL)
        runner.run(sentinel.send_command("/help"))
        runner.run(sentinel.wait_for_messages(1, timeout=30))  # still answering
    finally:
        logging.getLogger().removeHandler(problems)
        runner.run(resources.aclose())
        runner.close()


async def _settled(fake: FakeBotAPI, db: Engine) -> None:
    """Wait until every update was fetched, handled and forgotten by the durable inbox."""

    def pending() -> int:
        with Session(db) as session:
            return len(session.exec(select(PendingUpdate.update_key)).all())

    async with asyncio.timeout(15):
        # Polled: the database has no event to wait on.
        while fake.pending_update_count or await asyncio.to_thread(pending):  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_an_unreadable_update_neither_stops_polling_nor_a_restart(
    db: Engine, db_url: str
) -> None:
    """Found by the fuzzer: PTB reads a getUpdates batch in one go, so one update it
    cannot read failed the batch on every poll and the bot answered nobody again; and
    the durable inbox, having kept it, replayed it at start-up, which then failed."""
    async with FakeBotAPI() as fake:
        ann = fake.user(7101)
        async with running_bot(bot_config(fake, db_url)):
            broken = {"message_id": 1, "chat": "?", "date": "?", "text": 5}
            fake._push(ann, "message", broken)  # the fake has no public way to send junk
            await ann.send_command("/help")
            await ann.wait_for_messages(1, timeout=30)
        with Session(db) as session, session.begin():  # as an older version kept them
            session.add(PendingUpdate(channel="telegram", update_key="1", payload='{"x'))
            bad = {"update_id": 2, "message": {"message_id": 1, "chat": 5, "date": 0}}
            session.add(PendingUpdate(channel="telegram", update_key="2", payload=json.dumps(bad)))
        async with running_bot(bot_config(fake, db_url)):
            await ann.send_command("/help")
            await ann.wait_for_messages(2, timeout=30)
    with Session(db) as session:
        assert session.exec(select(PendingUpdate)).all() == []


# --- staff URLs and forms, and deep nesting, through the web app --------------------

STAFF_PATHS = [
    ("GET", "/staff/audit?before={n}"),
    ("GET", "/staff/broadcasts/{n}"),
    ("GET", "/staff/digests/{n}"),
    ("GET", "/staff/digests/{n}.csv"),
    ("POST", "/staff/broadcasts/{n}/send"),
    ("POST", "/staff/broadcasts/{n}/cancel"),
    ("POST", "/staff/c/example/themes/{n}/rename"),
    ("POST", "/staff/c/example/themes/{n}/merge"),
    ("POST", "/staff/c/example/themes/{n}/split"),
    ("POST", "/staff/c/example/themes/{n}/accept"),
    ("GET", "/staff/c/example/themes/{n}/answers"),
    ("GET", "/staff/c/example/themes/unthemed/answers?page={n}"),
    ("POST", "/staff/c/example/answers/{n}/code"),
    ("GET", "/staff/safeguarding/{n}"),
    ("POST", "/staff/safeguarding/{n}/acknowledge"),
    ("POST", "/staff/safeguarding/{n}/note"),
    ("POST", "/staff/safeguarding/{n}/outcome"),
]
STAFF_FORMS = [
    ("/staff/c/example/themes/1/merge", "into"),
    ("/staff/c/example/themes/analyse", "themes"),
    ("/staff/c/example/broadcasts", "window"),
]


def test_staff_urls_and_forms_survive_any_numbers(db: Engine) -> None:
    """Huge and non-ASCII digits in every staff URL and form: 4xx, never a 500."""
    config = web_config()
    # One member with every role, so that each check reaches the number.
    config = replace(config, staff=replace(config.staff, safeguarding=(ADMIN,)))
    runner = asyncio.Runner()
    resources = AsyncExitStack()
    try:
        client = runner.run(resources.enter_async_context(web_client(db, config)))
        csrf = runner.run(sign_in(client, db, config, ADMIN))

        async def visit(number: str) -> list[tuple[str, int]]:
            statuses = []
            for method, template in STAFF_PATHS:
                path = template.format(n=quote(number, safe=""))
                data = {"csrf": csrf, "label": "x", "into": "1"} if method == "POST" else None
                response = await client.request(method, path, data=data, allow_redirects=False)
                statuses.append((path, response.status))
            for path, field_name in STAFF_FORMS:
                data = {"csrf": csrf, "message": "Hello", field_name: number}
                response = await client.post(path, data=data, allow_redirects=False)
                statuses.append((f"{path} {field_name}={number!r}", response.status))
            return statuses

        @settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(odd_numbers)
        def run(number: str) -> None:
            failures = [(p, code) for p, code in runner.run(visit(number)) if code >= 500]
            assert failures == []

        run()
    finally:
        runner.run(resources.aclose())
        runner.close()


@st.composite
def nested_json(draw: st.DrawFn) -> str:
    """A JSON document nested far deeper than any parser's recursion allows."""
    depth = draw(st.integers(900, 60_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"b":', "}]")]))
    inner = draw(st.sampled_from(["1", "null", '"x"', "[]"]))
    return '{"update_id": 1, "message": ' + opener * depth + inner + closer * depth + "}"


def test_deeply_nested_webhook_bodies_are_refused(db: Engine) -> None:
    """Nesting 900 to 60,000 levels deep: 400 or 200 (when it parses), never a 500."""
    telegram = TelegramConfig(token="123456:TEST", mode="webhook", secret_token=SECRET)
    application = build_application(telegram, ConversationService(db))
    runner = asyncio.Runner()
    resources = AsyncExitStack()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    try:
        client = runner.run(resources.enter_async_context(web_client(db, telegram=application)))

        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(nested_json())
        def run(body: str) -> None:
            async def post() -> int:
                response = await client.post("/telegram/webhook", data=body, headers=headers)
                return response.status

            assert runner.run(post()) in (200, 400)

        run()
    finally:
        runner.run(resources.aclose())
        runner.close()
