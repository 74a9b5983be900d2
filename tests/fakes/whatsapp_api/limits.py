"""Meta's sending rules: throughput, pair rate, the 24-hour window and the limit tier.

Throughput and pair rate refuse the request (HTTP 400, codes 130429 and 131056); the
window, the limit tier and blocked users let the request through and fail the message
afterwards, by status webhook (131047, 131048, 131026), as Meta does.
"""

from __future__ import annotations

from typing import Final

from tests.fakes.whatsapp_api.errors import (
    PAIR_RATE_LIMIT,
    RATE_LIMIT_HIT,
    REENGAGEMENT,
    SPAM_RATE_LIMIT,
    UNDELIVERABLE,
    GraphError,
)
from tests.fakes.whatsapp_api.records import LimitBreach, Sent
from tests.fakes.whatsapp_api.state import FakeState

DAY: Final = 24 * 60 * 60.0


class Limits(FakeState):
    """The rules; mixed into FakeWhatsApp, which holds the knobs."""

    def window_open(self, wa_id: str) -> bool:
        """Whether the 24-hour customer service window with this user is open now."""
        last = self._last_inbound.get(wa_id)
        return last is not None and self.clock() - last <= DAY

    def user_wrote(self, wa_id: str, at: float | None = None) -> None:
        """Say the user wrote to the business at ``at`` (default now) without delivering
        anything to the bot: it opens the 24-hour window, as a message before the test."""
        self._last_inbound[wa_id] = self.clock() if at is None else at

    def pair_tokens(self, wa_id: str) -> float:
        """Messages the number may send this user right now (the pair-rate bucket)."""
        tokens, at = self._buckets.get(wa_id, (float(self.pair_burst), self.clock()))
        refill = max(0.0, self.clock() - at) / self.pair_rate_seconds
        return min(float(self.pair_burst), tokens + refill)

    def conversations_open(self) -> int:
        """Business-initiated conversations started in the last 24 hours (the tier count)."""
        now = self.clock()
        return sum(1 for started in self._conversations.values() if now - started < DAY)

    def _check_rates(self, to: str) -> None:
        """Refuse a send past the number's throughput or the pair rate (not counted)."""
        now = self.clock()
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        if len(self._window) >= self.throughput:
            raise GraphError(RATE_LIMIT_HIT)
        if self.pair_tokens(to) < 1.0:
            raise GraphError(PAIR_RATE_LIMIT)

    def _count_send(self, to: str) -> None:
        now = self.clock()
        self._window.append(now)
        self._buckets[to] = (self.pair_tokens(to) - 1.0, now)

    def _failure(self, sent: Sent) -> int | None:
        """Why an accepted message will fail (a code for its status webhook), or None.

        In this order: a free-form message outside the 24-hour window (131047); a user
        who blocked the business (131026); a template that would start a business-
        initiated conversation past ``daily_limit`` unique users in 24 hours (131048).
        """
        is_template = sent.type == "template"
        window = self.window_open(sent.to)
        if not is_template and not window:
            return REENGAGEMENT
        if sent.to in self.blocked:
            return UNDELIVERABLE
        if is_template and not window:
            now = self.clock()
            started = self._conversations.get(sent.to)
            if started is not None and now - started < DAY:
                return None  # that conversation is already counted
            if self.daily_limit is not None and self.conversations_open() >= self.daily_limit:
                self.limit_breaches.append(
                    LimitBreach(now, sent.to, sent.template or "", sent.wamid)
                )
                return SPAM_RATE_LIMIT
            self._conversations[sent.to] = now
        return None
