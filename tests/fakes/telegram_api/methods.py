"""The Bot API methods the bot calls: messages, edits, commands, callbacks.

Each handler is synchronous, so each call is applied atomically."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.fakes.telegram_api.chats import FakeUser
from tests.fakes.telegram_api.errors import JSON, ApiError, bad_request, not_modified
from tests.fakes.telegram_api.files import FileStore, Upload
from tests.fakes.telegram_api.limits import FloodLimits
from tests.fakes.telegram_api.rules import (
    BOT_COMMAND_NAME_RE,
    CHAT_ACTIONS,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CAPTION_LENGTH,
    inline_markup,
    int_param,
    message_text,
    reply_markup,
    unix_now,
)


class BotMethods(FloodLimits, FileStore):
    """Method handlers and what they share; mixed into FakeBotAPI, which holds the chats."""

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id or 0,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _new_callback_id(self) -> str:
        return str(4_000_000_000_000_000 + next(self._callback_ids))

    def _chat(self, params: JSON) -> FakeUser:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        user: FakeUser | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            user = self._users.get(raw)
        elif isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip()):
            user = self._users.get(int(raw))
        if user is None:
            raise bad_request("chat not found")
        if user.id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not (user.started or self.deliver_unstarted):
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return user

    def _reply_to(self, user: FakeUser, params: JSON) -> JSON | None:
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            allow = bool(reply_parameters.get("allow_sending_without_reply"))
        else:
            message_id = params.get("reply_to_message_id")
            allow = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        target = user._find_message(int_param({"message_id": message_id}, "message_id"))
        if target is None:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        # Telegram does not nest replies inside reply_to_message.
        return {k: v for k, v in target.items() if k != "reply_to_message"}

    def _new_bot_message(self, user: FakeUser, content: JSON, markup: JSON | None) -> JSON:
        message: JSON = {
            "message_id": user._new_message_id(),
            "from": self._bot_user(),
            "chat": user.chat,
            "date": unix_now(),
        }
        message.update({k: v for k, v in content.items() if v is not None})
        # Message.reply_markup only ever carries inline keyboards.
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        user._add_bot_message(message, markup)
        self._count_sent(user.id)
        return message

    def _editable(self, params: JSON) -> tuple[FakeUser, JSON]:
        if params.get("inline_message_id") and not params.get("chat_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        user = self._chat(params)
        if params.get("message_id") in (None, ""):
            raise bad_request("message identifier is not specified")
        message_id = int_param(params, "message_id")
        message = user._bot_messages.get(message_id)
        if message is None or message_id in user.deleted_message_ids:
            if message_id in user._own_messages:
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return user, message

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), str(language_code or "")

    def my_commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return list(self.commands.get(self._commands_key(scope, language_code), []))

    def _true(self, params: JSON, files: dict[str, Upload]) -> bool:
        return True

    def _get_me(self, params: JSON, files: dict[str, Upload]) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _set_my_commands(self, params: JSON, files: dict[str, Upload]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not BOT_COMMAND_NAME_RE.match(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self.commands[key] = cleaned
        return True

    def _delete_my_commands(self, params: JSON, files: dict[str, Upload]) -> bool:
        self.commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    def _get_my_commands(self, params: JSON, files: dict[str, Upload]) -> list[JSON]:
        return self.my_commands(params.get("scope"), params.get("language_code") or "")

    def _send_message(self, params: JSON, files: dict[str, Upload]) -> JSON:
        user = self._chat(params)
        text, entities = message_text(params)
        markup = reply_markup(params)
        reply_to = self._reply_to(user, params)
        self._check_flood(user.id)
        content = {"text": text, "entities": entities, "reply_to_message": reply_to}
        return self._new_bot_message(user, content, markup)

    def _send_document(self, params: JSON, files: dict[str, Upload]) -> JSON:
        user = self._chat(params)
        caption, caption_entities = message_text(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH
        )
        markup = reply_markup(params)
        reply_to = self._reply_to(user, params)
        stored = self._document_input(params, files)
        self._check_flood(user.id)
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if stored.filename:
            document["file_name"] = stored.filename
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        content = {
            "document": document,
            "caption": caption,
            "caption_entities": caption_entities,
            "reply_to_message": reply_to,
        }
        return self._new_bot_message(user, content, markup)

    def _edit_message_text(self, params: JSON, files: dict[str, Upload]) -> JSON:
        user, message = self._editable(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text, entities = message_text(params)
        markup = inline_markup(params)
        if (text, entities, markup) == (
            message["text"],
            message.get("entities"),
            message.get("reply_markup"),
        ):
            raise not_modified()
        self._check_flood(user.id)
        # Omitting reply_markup removes the inline keyboard, as on Telegram.
        user._edit_bot_message(
            message, {"text": text, "entities": entities, "reply_markup": markup}
        )
        self._count_sent(user.id)
        return message

    def _edit_message_reply_markup(self, params: JSON, files: dict[str, Upload]) -> JSON:
        user, message = self._editable(params)
        markup = inline_markup(params)
        if markup == message.get("reply_markup"):
            raise not_modified()
        self._check_flood(user.id)
        user._edit_bot_message(message, {"reply_markup": markup})
        self._count_sent(user.id)
        return message

    def _delete_message(self, params: JSON, files: dict[str, Upload]) -> bool:
        user = self._chat(params)
        message_id = int_param(params, "message_id")
        if user._find_message(message_id) is None:
            raise bad_request("message to delete not found")
        user._delete(message_id)
        return True

    def _send_chat_action(self, params: JSON, files: dict[str, Upload]) -> bool:
        user = self._chat(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        user.chat_actions.append(str(action))
        return True

    def _answer_callback_query(self, params: JSON, files: dict[str, Upload]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        query = self._open_callbacks.pop(query_id, None)
        if query is None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self.answered_callbacks.append(
            {
                "callback_query_id": query_id,
                "user_id": query["from"]["id"],
                "data": query.get("data"),
                "text": text,
                "show_alert": bool(params.get("show_alert", False)),
                "url": params.get("url"),
                "cache_time": params.get("cache_time", 0),
                "time": self.clock(),
            }
        )
        return True
