"""A Bot that speaks plain data on the hot path: residents' updates in, replies out.

`Bot.send_message` turns each reply's keyboard into objects, serialises them, and
parses Telegram's answer into a `Message`; for a resident's reply we need none of
that, and at a few hundred replies a second it was a fifth of the bot's CPU.
`LeanBot.call` posts plain data through the same request, rate limiter and error
handling (Forbidden, RetryAfter, BadRequest) and returns Telegram's raw result.

`LeanBot.get_updates` keeps each batch in the durable inbox before anything else
sees it, and reads residents' answers and presses as `ResidentUpdate`s (see
bot/telegram/updates.py). Each update is read on its own: one that cannot be read
becomes an empty update with its id, so it is confirmed and forgotten instead of
failing the whole batch on every poll.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.error import NetworkError
from telegram.ext import ExtBot
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram.updates import ResidentUpdate, read_any
from conversations.flow.messages import Message

if TYPE_CHECKING:
    from bot.telegram.durable_updates import DurableInbox

log = logging.getLogger(__name__)


class LeanBot(ExtBot[None]):
    """An ExtBot with a raw call for replies and a lean, durable getUpdates."""

    def __init__(self, token: str, *, inbox: DurableInbox | None = None, **kwargs: Any) -> None:
        super().__init__(token, **kwargs)
        self._inbox = inbox

    async def call(self, method: str, payload: dict[str, Any]) -> Any:
        """Post `payload` to the Bot API `method`; return its raw `result`.

        Straight to the request (whose status-to-error mapping PTB's own calls use),
        through the rate limiter: `_post`'s defaults, per-field conversion and three
        layers of wrappers cost a quarter of a reply's request, for plain data that
        needs none of them."""
        request = self._request[1]
        url = f"{self.base_url}/{method}"

        async def post() -> Any:
            return await request.post(url, request_data=_plain(payload))

        limiter = self.rate_limiter
        if limiter is None:
            return await post()
        return await limiter.process_request(
            callback=post, args=(), kwargs={}, endpoint=method, data=payload, rate_limit_args=None
        )

    async def get_updates(  # type: ignore[override]  # also yields ResidentUpdates
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,  # noqa: ASYNC109  # PTB's signature
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update | ResidentUpdate, ...]:
        """The next batch, kept in the durable inbox first; residents' updates read lean."""
        # As Bot.get_updates: a long poll may take its timeout on top of the read timeout.
        base = (
            self._request[0].read_timeout
            if isinstance(read_timeout, DefaultValue)
            else read_timeout
        )
        waits = timeout.total_seconds() if isinstance(timeout, timedelta) else (timeout or 0)
        data: JSONDict = {
            "timeout": timeout,
            "offset": offset,
            "limit": limit,
            "allowed_updates": allowed_updates,
        }
        result = await self._post(
            "getUpdates",
            data,
            read_timeout=(base or 0) + waits,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        batch = [item for item in result if _has_id(item)] if isinstance(result, list) else []
        if self._inbox is not None and batch:
            try:
                await self._inbox.keep(batch)
            except Exception as error:  # not confirmed: Telegram sends the batch again
                raise NetworkError(f"could not keep updates in the inbox: {error}") from error
        return tuple(read_any(item, self) or Update(item["update_id"]) for item in batch)


def _plain(payload: dict[str, Any]) -> RequestData:
    """Parameters that are plain JSON data already: wrapped, not converted."""
    return RequestData([RequestParameter(name, value, None) for name, value in payload.items()])


def _has_id(item: Any) -> bool:
    update_id = item.get("update_id") if isinstance(item, dict) else None
    if isinstance(update_id, int) and not isinstance(update_id, bool):
        return True
    log.warning("dropped an update without an id")  # Telegram could not confirm it anyway
    return False


def keyboard(message: Message) -> dict[str, Any] | None:
    """A message's buttons as Bot API inline keyboard data."""
    if not message.buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": b.label, "callback_data": b.data} for b in row] for row in message.buttons
        ]
    }
