"""What Telegram refuses: sizes, field decoding, and the checks on text and keyboards.

PTB sends form fields JSON-encoded (strings raw); the fake decodes them as Telegram
does, then validates text, parse modes and keyboards with Telegram's own errors.
"""

from __future__ import annotations

import json
import re
import time
from functools import partial
from typing import Any, Final

from tests.fakes.telegram_api.errors import JSON, bad_request
from tests.fakes.telegram_api.markup import parse_html

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_CALLBACK_ANSWER_LENGTH: Final = 200

CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


# Update types Telegram withholds unless they are asked for explicitly.
NOT_DELIVERED_BY_DEFAULT: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)


# PTB JSON-encodes every non-string parameter of a form request and sends strings raw, so
# form fields are JSON-decoded, except these, which are strings even when they look like JSON.
_STRING_FIELDS: Final = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "language_code",
        "file_id",
        "document",
        "photo",
        "sticker",
        "voice",
        "emoji",
        "title",
        "name",
        "description",
        "short_description",
        "business_connection_id",
        "message_effect_id",
    }
)


_INLINE_BUTTON_ACTIONS: Final = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

TOKEN_RE: Final = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")
BOT_COMMAND_NAME_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")
SECRET_TOKEN_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

dumps: Final = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def unix_now() -> int:
    return int(time.time())


def decode_field(key: str, value: str) -> Any:
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def int_param(params: JSON, name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if value is None or value == "":
        raise bad_request(f"{name} is empty")
    if isinstance(value, bool):
        raise bad_request(f"invalid {name} specified")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def float_param(params: JSON, name: str, default: float) -> float:
    value = params.get(name, default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def message_text(
    params: JSON,
    key: str = "text",
    entities_key: str = "entities",
    limit: int = MAX_TEXT_LENGTH,
) -> tuple[str | None, list[JSON] | None]:
    """Text and entities after applying parse_mode, validated like Telegram."""
    raw = params.get(key)
    is_caption = key == "caption"
    if raw is None or raw == "":
        if is_caption:
            return None, None
        raise bad_request("message text is empty")
    text = raw if isinstance(raw, str) else str(raw)
    entities = params.get(entities_key)
    parse_mode = params.get("parse_mode") or ""
    if entities is not None:
        if not isinstance(entities, list):
            raise bad_request(f"can't parse {entities_key} JSON object")
    elif not isinstance(parse_mode, str):
        raise bad_request("unsupported parse_mode")
    elif parse_mode.lower() == "html":
        text, entities = parse_html(text)
    elif parse_mode.lower() not in ("", "markdown", "markdownv2"):
        raise bad_request("unsupported parse_mode")
    # Markdown modes are passed through unparsed; our bot uses HTML.
    if not text.strip():
        if is_caption:
            return None, None
        raise bad_request("message text is empty")
    if len(text) > limit:
        raise bad_request("message caption is too long" if is_caption else "message is too long")
    return text, entities or None


def reply_markup(params: JSON) -> JSON | None:
    markup = params.get("reply_markup")
    if markup is None or markup == "":
        return None
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            raise bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        validate_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup should be an Array')
    elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def inline_markup(params: JSON) -> JSON | None:
    markup = reply_markup(params)
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def validate_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise bad_request("can't parse inline keyboard button JSON object")
            if not isinstance(button.get("text"), str) or not button["text"]:
                raise bad_request('can\'t find field "text"')
            if not any(action in button for action in _INLINE_BUTTON_ACTIONS):
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(data.encode()) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not (isinstance(button["url"], str) and button["url"]):
                raise bad_request("BUTTON_URL_INVALID")
