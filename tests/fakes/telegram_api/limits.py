"""Telegram's flood limits: overall, per chat, and a burst while the user is talking."""

from __future__ import annotations

import math
from collections import deque
from typing import Final

from tests.fakes.telegram_api.errors import flood_error
from tests.fakes.telegram_api.state import ServerState

#: Methods that count against the flood limits (``rate_limit``, ``per_chat_limit``).
MESSAGE_METHODS: Final = frozenset(
    {"sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)


def check_window(window: deque[float], limit: int, now: float) -> None:
    """Sliding one-second window; raises 429 with the whole seconds until a slot frees."""
    while window and now - window[0] >= 1.0:
        window.popleft()
    if len(window) >= limit:
        raise flood_error(max(1, math.ceil(1.0 - (now - window[0]))))


class FloodLimits(ServerState):
    """Sliding one-second windows; mixed into FakeBotAPI, which holds the knobs."""

    def _check_flood(self, chat_id: int) -> None:
        now = self.clock()
        if self.rate_limit is not None:
            check_window(self._global_window, self.rate_limit, now)
        limit = self.per_chat_limit
        spoke_at = self._spoke_at.get(chat_id)
        if (
            self.talking_limit is not None
            and spoke_at is not None
            and now - spoke_at < self.talking_seconds
        ):
            limit = max(limit or 0, self.talking_limit)
        if limit is not None:
            check_window(self._chat_windows.setdefault(chat_id, deque()), limit, now)

    def _count_sent(self, chat_id: int) -> None:
        now = self.clock()
        if self.rate_limit is not None:
            self._global_window.append(now)
        if self.per_chat_limit is not None or self.talking_limit is not None:
            self._chat_windows.setdefault(chat_id, deque()).append(now)
