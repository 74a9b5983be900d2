"""WhatsApp's messages read and written without I/O: the webhook's payloads, the
signature, the engine's messages within WhatsApp's limits, commands as words."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from typing import Any

import pytest

from bot.config import ConfigError, WhatsAppConfig
from bot.config_whatsapp import check_whatsapp
from bot.whatsapp import outbound
from bot.whatsapp.inbound import read, signed
from bot.whatsapp.residents import command_of
from conversations.flow.messages import Attachment, ButtonSpec, Message

NUMBER = "100000000000001"


def call(*messages: Any, number: str = NUMBER, statuses: list[Any] | None = None
         ) -> dict[str, Any]:  # fmt: skip
    value: dict[str, object] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "447700900000", "phone_number_id": number},
        "contacts": [{"profile": {"name": "A Resident"}, "wa_id": "447700900123"}],
        "messages": list(messages),
    }
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


def text(body: str, key: str = "wamid.1", at: str = "1700000000") -> dict[str, Any]:
    return {"from": "447700900123", "id": key, "timestamp": at, "type": "text",
            "text": {"body": body}}  # fmt: skip


def test_a_text_a_button_a_list_row_and_a_template_button_are_read() -> None:
    button = {"from": "447700900123", "id": "wamid.2", "timestamp": "1700000001",
              "type": "interactive",
              "interactive": {"type": "button_reply", "button_reply": {"id": "a:1", "title": "Yes"}}}  # fmt: skip
    row = {"from": "447700900123", "id": "wamid.3", "timestamp": "1700000002",
           "type": "interactive",
           "interactive": {"type": "list_reply", "list_reply": {"id": "a:2", "title": "South"}}}  # fmt: skip
    quick = {"from": "447700900123", "id": "wamid.4", "timestamp": "1700000003",
             "type": "button", "button": {"payload": "join:example", "text": "Take part"}}  # fmt: skip
    messages, statuses = read(call(text("hello"), button, row, quick), NUMBER)
    assert [(m.kind, m.text, m.data) for m in messages] == [
        ("text", "hello", ""), ("press", "Yes", "a:1"), ("press", "South", "a:2"),
        ("press", "Take part", "join:example"),
    ]  # fmt: skip
    assert statuses == []


def test_messages_in_one_call_are_taken_oldest_first_and_voice_is_told_apart() -> None:
    voice = {"from": "447700900123", "id": "wamid.v", "timestamp": "1700000000",
             "type": "audio", "audio": {"id": "m", "voice": True}}  # fmt: skip
    sticker = {"from": "447700900123", "id": "wamid.s", "timestamp": "1700000005",
               "type": "sticker", "sticker": {"id": "m"}}  # fmt: skip
    later = text("second", "wamid.b", "1700000009")
    messages, _ = read(call(later, sticker, voice), NUMBER)
    assert [(m.key, m.other) for m in messages] == [
        ("wamid.v", "voice"),
        ("wamid.s", "sticker"),
        ("wamid.b", ""),
    ]


def test_odd_and_foreign_payloads_are_ignored_or_refused() -> None:
    with pytest.raises(ValueError):
        read({"object": "page", "entry": []}, NUMBER)
    with pytest.raises(ValueError):
        read(["not", "an", "object"], NUMBER)
    assert read(call(text("hi"), number="999"), NUMBER) == ([], [])  # another number's
    odd = [{"from": "not digits", "id": "x", "type": "text"}, {"id": "", "from": "1"}, "junk",
           {"from": "447700900123", "id": "wamid.r", "type": "reaction", "reaction": {}},
           {"from": "447700900123", "id": "wamid.t", "timestamp": "soon", "type": "text",
            "text": "not an object"}]  # fmt: skip
    messages, _ = read(call(*odd), NUMBER)
    assert [(m.key, m.text, m.timestamp) for m in messages] == [("wamid.t", "", 0)]


def test_statuses_are_read_with_their_error_code() -> None:
    failed = {"id": "wamid.9", "status": "failed", "timestamp": "1", "recipient_id": "4477",
              "errors": [{"code": 131047, "title": "Re-engagement message"}]}  # fmt: skip
    _, statuses = read(call(statuses=[failed, {"id": "wamid.8", "status": "read"}]), NUMBER)
    assert [(s.wamid, s.status, s.error_code) for s in statuses] == [
        ("wamid.9", "failed", 131047),
        ("wamid.8", "read", None),
    ]


def test_only_the_app_secrets_signature_of_the_exact_body_is_accepted() -> None:
    body = json.dumps(call(text("hi"))).encode()
    good = "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert signed(body, good, "secret")
    assert not signed(body + b" ", good, "secret")
    assert not signed(body, good, "other secret")
    assert not signed(body, good.replace("sha256=", "sha1="), "secret")
    assert not signed(body, "sha256=Ω", "secret")
    assert not signed(body, good, "")


def buttons(*labels: str) -> tuple[tuple[ButtonSpec, ...], ...]:
    return (tuple(ButtonSpec(label, f"a:q:{i}") for i, label in enumerate(labels)),)


def test_three_short_buttons_are_reply_buttons_carrying_the_engines_data() -> None:
    [sent] = outbound.render(Message("Is that right?", buttons("Yes", "No", "Change it")), "en")
    assert isinstance(sent, dict)
    interactive = sent["interactive"]
    assert interactive["type"] == "button"
    assert [b["reply"] for b in interactive["action"]["buttons"]] == [
        {"id": "a:q:0", "title": "Yes"}, {"id": "a:q:1", "title": "No"},
        {"id": "a:q:2", "title": "Change it"},
    ]  # fmt: skip


def test_many_or_long_options_become_lists_numbered_in_full_in_the_text() -> None:
    labels = [f"Option number {i} with a long label" for i in range(12)]
    sent = outbound.render(Message("Which?", buttons(*labels)), "cy")
    assert len(sent) == 2  # ten rows a list
    first, second = (s["interactive"] for s in sent if isinstance(s, dict))
    assert first["type"] == "list" and first["action"]["button"] == "Dewis"
    assert "12. Option number 11 with a long label" in first["body"]["text"]
    rows = first["action"]["sections"][0]["rows"] + second["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [f"a:q:{i}" for i in range(12)]
    for row in rows:
        assert len(row["title"]) <= outbound.ROW_TITLE_MOST
        assert len(row.get("description", "")) <= outbound.ROW_DESCRIPTION_MOST
    assert rows[0]["title"].startswith("1. ")
    assert second["body"]["text"] == "Rhagor o ddewisiadau (2/2)"


def test_a_long_text_with_buttons_keeps_every_word_within_the_limits() -> None:
    long = "word " * 1500  # 7,500 characters
    sent = outbound.render(Message(long, buttons("Yes", "No")), "en")
    shown = "".join(
        s["text"]["body"] if s["type"] == "text" else s["interactive"]["body"]["text"]
        for s in sent if isinstance(s, dict)
    )  # fmt: skip
    assert long.strip() in shown.replace("Choose one:", "")
    for s in sent:
        assert isinstance(s, dict)
        body = s["text"]["body"] if s["type"] == "text" else s["interactive"]["body"]["text"]
        assert len(body) <= 4096


def test_a_file_goes_as_a_document_with_its_caption() -> None:
    file = Attachment("my-data.json", b"{}")
    [document] = outbound.render(Message("Here it is", attachment=file), "en")
    assert document == outbound.Document(file, "Here it is")


@pytest.mark.parametrize(
    ("typed", "command"),
    [("mydata", ("mydata", None)), ("/forget", ("forget", None)), ("  STOP ", ("stop", None)),
     ("Fy nata", ("mydata", None)), ("iaith", ("language", None)), ("help", ("help", None)),
     ("start example--library", ("start", "example--library")), ("start", ("start", None)),
     ("JĘZYK", ("language", None)), ("jezyk", ("language", None)), ("Moje dane", ("mydata", None)),
     ("Zapomnij", ("forget", None)), ("زبان", ("language", None)), ("میرا ڈیٹا", ("mydata", None)),
     ("شروع example--library", ("start", "example--library")), ("بند", ("stop", None)),
     ("stop the potholes", None), ("I need help with my rent", None), ("start of it all", None)],
)  # fmt: skip
def test_a_message_that_is_only_a_commands_word_is_that_command(
    typed: str, command: tuple[str, str | None] | None
) -> None:
    assert command_of(typed) == command


def test_whatsapp_settings_fail_at_start_up_naming_the_key() -> None:
    good = WhatsAppConfig(phone_number_id="123", access_token="t", app_secret="s",
                          verify_token="v" * 16)  # fmt: skip
    check_whatsapp("config.toml", good)
    check_whatsapp("config.toml", WhatsAppConfig())  # off
    wrongs: list[tuple[dict[str, Any], str]] = [
        ({"phone_number_id": "+44 7700"}, "whatsapp.phone_number_id"),
        ({"app_secret": ""}, "whatsapp.app_secret"),
        ({"verify_token": "short"}, "whatsapp.verify_token"),
        ({"throughput": 5000}, "whatsapp.throughput"),
        ({"daily_limit": 300}, "whatsapp.daily_limit"),
        ({"invitation_template": "Invite Me"}, "whatsapp.invitation_template"),
        ({"template_languages": ("cy=cy",)}, "whatsapp.template_languages"),
        ({"template_languages": ("en",)}, "whatsapp.template_languages"),
        ({"base_url": "http://graph.example"}, "whatsapp.base_url"),
    ]
    for wrong, key in wrongs:
        with pytest.raises(ConfigError, match=f"config.toml: {key}"):
            check_whatsapp("config.toml", replace(good, **wrong))
