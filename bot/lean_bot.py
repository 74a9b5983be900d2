"""Replies sent without building python-telegram-bot objects we never read.

`Bot.send_message` turns each reply's keyboard into objects, serialises them, and
parses Telegram's answer into a `Message`; for a resident's reply we need none of
that, and at a few hundred replies a second it was a fifth of the bot's CPU.
`LeanBot.call` posts plain data through the same request, rate limiter and error
handling (Forbidden, RetryAfter, BadRequest) and returns Telegram's raw result.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import ExtBot

from conversations.messages import Message


class LeanBot(ExtBot[None]):
    """An ExtBot with a raw call for the replies residents wait for."""

    async def call(self, method: str, payload: dict[str, Any]) -> Any:
        """Post `payload` to the Bot API `method`; return its raw `result`."""
        return await self._post(method, payload)


def keyboard(message: Message) -> dict[str, Any] | None:
    """A message's buttons as Bot API inline keyboard data."""
    if not message.buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": b.label, "callback_data": b.data} for b in row] for row in message.buttons
        ]
    }
