"""Reading updates: residents' answers and presses lean, everything else as PTB's Update."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.telegram.updates import ResidentUpdate, read_any, read_resident_update

ANN = {"id": 42, "is_bot": False, "first_name": "Ann", "language_code": "cy"}
PRIVATE = {"id": 42, "type": "private"}


def message(**fields: Any) -> dict[str, Any]:
    return {"message_id": 7, "date": 1_700_000_000, "chat": PRIVATE, "from": ANN, **fields}


def press(data: str | None = "a:area:1:north", **on: Any) -> dict[str, Any]:
    query: dict[str, Any] = {"id": "q1", "from": ANN, "chat_instance": "c"}
    if data is not None:
        query["data"] = data
    query["message"] = message(text="Which area?", **on)
    return query


def test_a_typed_answer_is_read_lean() -> None:
    update = read_resident_update({"update_id": 5, "message": message(text="The buses")})
    assert update == ResidentUpdate(5, 42, 42, "cy", text="The buses", message_id=7)


def test_a_button_press_is_read_lean() -> None:
    update = read_resident_update({"update_id": 6, "callback_query": press()})
    assert update == ResidentUpdate(
        6, 42, 42, "cy", query_id="q1", data="a:area:1:north", message_id=7
    )


def command(length: int) -> dict[str, Any]:
    return {"type": "bot_command", "offset": 0, "length": length}


@pytest.mark.parametrize(
    ("text", "argument"),
    [("/start", None), ("/start example--tenants", "example--tenants"), ("/start  a b", "a")],
)
def test_start_is_read_lean_with_its_argument(text: str, argument: str | None) -> None:
    update = read_resident_update(
        {"update_id": 9, "message": message(text=text, entities=[command(6)])}
    )
    assert update == ResidentUpdate(9, 42, 42, "cy", message_id=7, starting=True, argument=argument)


def test_a_press_on_a_message_telegram_no_longer_shows_cannot_edit_it() -> None:
    query = press()
    query["message"] = {"message_id": 7, "date": 0, "chat": PRIVATE}  # InaccessibleMessage
    update = read_resident_update({"update_id": 8, "callback_query": query})
    assert update is not None and update.message_id is None and update.data == "a:area:1:north"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            {"update_id": 1, "message": message(text="/help", entities=[command(5)])},
            id="another command",
        ),
        pytest.param(
            {"update_id": 1, "message": message(text="/start example")},
            id="/start not marked as a command",
        ),
        pytest.param(
            {"update_id": 1, "message": message(text="/start@OtherBot x", entities=[command(15)])},
            id="/start addressed by name",
        ),
        pytest.param(
            {"update_id": 1, "message": message(text="/startle", entities=[command(8)])},
            id="a longer command",
        ),
        pytest.param(
            {"update_id": 1, "message": message(text="/close x", entities=[command(6)])},
            id="another command as long as /start",
        ),
        pytest.param({"update_id": 1, "message": message()}, id="no text (a sticker, say)"),
        pytest.param({"update_id": 1, "message": message(text="")}, id="empty text"),
        pytest.param(
            {"update_id": 1, "message": message(text="hi", chat={"id": -5, "type": "group"})},
            id="a group",
        ),
        pytest.param(
            {"update_id": 1, "message": message(text="hi", **{"from": {**ANN, "is_bot": True}})},
            id="from a bot",
        ),
        pytest.param({"update_id": 1, "edited_message": message(text="hi")}, id="an edit"),
        pytest.param({"update_id": 1, "callback_query": press("s:bc:1:go")}, id="staff button"),
        pytest.param({"update_id": 1, "callback_query": press(None)}, id="press without data"),
        pytest.param(
            {"update_id": 1, "callback_query": {**press(), "message": None}}, id="inline message"
        ),
        pytest.param(
            {"update_id": 1, "message": message(text="hi"), "callback_query": press()},
            id="two kinds at once",
        ),
        pytest.param({"update_id": True, "message": message(text="hi")}, id="id not a number"),
        pytest.param({"update_id": 1, "message": message(text=5)}, id="text not a string"),
        pytest.param({"update_id": 1, "message": message(text="hi", chat="?")}, id="bad chat"),
    ],
)
def test_anything_else_is_left_to_python_telegram_bot(data: dict[str, Any]) -> None:
    assert read_resident_update(data) is None


def test_read_any_gives_ptb_updates_for_the_rest_and_none_for_junk() -> None:
    assert isinstance(read_any({"update_id": 1, "message": message(text="/help")}, None), Update)
    assert isinstance(
        read_any({"update_id": 2, "edited_message": message(text="hi")}, None), Update
    )
    assert isinstance(
        read_any({"update_id": 3, "message": message(text="hi")}, None), ResidentUpdate
    )
    assert (
        read_any({"update_id": 4, "message": {"message_id": 1, "chat": 5, "date": 0}}, None) is None
    )
