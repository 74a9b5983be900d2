"""Numbers people type: huge and non-ASCII digits in staff URLs, forms, commands and
buttons get a 404, a 400 or a usage message; never a 500. A webhook body nested
50,000 levels deep is a 400. Every parser is conversations.flow.numbers."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from conversations.flow.numbers import MAX_ID, record_id, whole_number
from tests.command_line import needsfirst
from tests.test_web_security import UPDATE, telegram_application
from tests.web_helpers import ADMIN, SECRET, sign_in, web_client, web_config
from tests.web_seed import seed_answers

HUGE = "99999999999999999999999"
# Superscript two passes str.isdigit() and fails int(); Arabic-Indic three and
# full-width one pass int(); none is a number anyone means in a URL.
ODD = ["²", "٣", "１", HUGE, str(MAX_ID + 1), "0", "-1", "1e3", " 1", ""]


def test_one_parser_takes_ascii_digits_within_a_column_only() -> None:
    assert record_id("12") == 12 and record_id(str(MAX_ID)) == MAX_ID
    for text in ODD:
        assert record_id(text) is None or text == " 1", text
    assert record_id(" 1") == 1  # surrounding spaces, as a form field may carry
    assert whole_number("0") == 0 and whole_number("5", maximum=4) is None
    assert whole_number(None) is None and whole_number(12) is None


@pytest.mark.parametrize("odd", ["²", "٣", HUGE])
async def test_staff_pages_answer_404_or_400_never_500(db: Engine, odd: str) -> None:
    config = web_config()
    # One member with every role, so that each check reaches the number.
    config = replace(config, staff=replace(config.staff, safeguarding=(ADMIN,)))
    async with web_client(db, config) as client:
        seed_answers(db)
        csrf = await sign_in(client, db, config, ADMIN)
        for path in (
            f"/staff/audit?before={odd}",
            f"/staff/broadcasts/{odd}",
            f"/staff/digests/{odd}",
            f"/staff/digests/{odd}.csv",
            f"/staff/safeguarding/{odd}",
            f"/staff/c/example/themes/{odd}/answers",
        ):
            response = await client.get(path, allow_redirects=False)
            assert response.status in (400, 404), (path, response.status)
        for path, data in (
            (f"/staff/broadcasts/{odd}/send", {}),
            (f"/staff/broadcasts/{odd}/cancel", {}),
            (f"/staff/c/example/themes/{odd}/rename", {"label": "Buses"}),
            (f"/staff/c/example/themes/{odd}/merge", {"into": "1"}),
            (f"/staff/c/example/themes/{odd}/split", {}),
            (f"/staff/c/example/themes/{odd}/accept", {}),
            (f"/staff/c/example/answers/{odd}/code", {"theme": "1"}),
            ("/staff/c/example/answers/1/code", {"theme": odd}),
            (f"/staff/safeguarding/{odd}/acknowledge", {}),
            (f"/staff/safeguarding/{odd}/note", {"note": "Called back"}),
            ("/staff/c/example/themes/1/merge", {"into": odd}),
            ("/staff/c/example/themes/analyse", {"themes": odd}),
            ("/staff/c/example/broadcasts", {"message": "Hello", "window": odd}),
        ):
            response = await client.post(path, data={"csrf": csrf, **data}, allow_redirects=False)
            assert response.status in (400, 404, 409), (path, response.status)
        # The forms say what was wrong, on the page.
        window = await client.post(
            "/staff/c/example/broadcasts", data={"csrf": csrf, "message": "Hi", "window": odd}
        )
        assert window.status == 400 and "whole number of minutes" in await window.text()


async def test_a_deeply_nested_webhook_body_is_a_400(
    db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    application = telegram_application(db)
    deep = "[" * 50_000 + "]" * 50_000
    nested_object = '{"update_id": 1, "message": ' + '{"a": ' * 50_000 + "1" + "}" * 50_001
    async with web_client(db, telegram=application) as client:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        with caplog.at_level(logging.WARNING):
            for body in (deep, nested_object):
                response = await client.post("/telegram/webhook", data=body, headers=headers)
                assert response.status == 400
        assert not any(record.exc_info for record in caplog.records)
        assert "RecursionError" in caplog.text
        # And the webhook still takes a good update afterwards.
        good = await client.post("/telegram/webhook", json=UPDATE, headers=headers)
        assert good.status == 200


@pytest.mark.parametrize("odd", ["²", "٣", HUGE])
def test_the_command_line_refuses_odd_ids_with_a_usage_message(
    tmp_path: Path, db_url: str, db: Engine, odd: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', "utf-8")
    for args in (
        ("theme", "rename", "example", odd, "Buses"),
        ("theme", "merge", "example", "1", odd),
        ("decide", "example", odd, "--text", "We will run later buses."),
        ("broadcast", "status", odd),
        ("login", odd),
    ):
        result = needsfirst(config, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr and "error: argument" in result.stderr, args
