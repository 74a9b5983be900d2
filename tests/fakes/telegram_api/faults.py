"""Faults a test injects: errors, floods or hangs served in place of the next answers."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from tests.fakes.telegram_api.state import ServerState


@dataclass(frozen=True)
class Fault:
    """A fault served instead of a normal answer; see :meth:`FakeBotAPI.inject_fault`.

    ``hang_seconds`` stalls the call first (longer than the client's timeout, it simulates
    a lost response).  ``status=None`` then processes the call normally, so the effect
    happens even though the client gave up, which is what makes real timeouts tricky.
    """

    status: int | None = 500
    description: str = "Internal Server Error"
    retry_after: int | None = None
    hang_seconds: float = 0.0

    @classmethod
    def error(cls, status: int = 500, description: str = "Internal Server Error") -> Fault:
        return cls(status=status, description=description)

    @classmethod
    def flood(cls, retry_after: int = 5) -> Fault:
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    @classmethod
    def hang(cls, seconds: float, then: Fault | None = None) -> Fault:
        """Stall for ``seconds``; then answer like ``then``, or process the call normally."""
        if then is None:
            return cls(status=None, description="", hang_seconds=seconds)
        return cls(then.status, then.description, then.retry_after, seconds)


class FaultInjection(ServerState):
    """Faults served in place of answers; mixed into FakeBotAPI."""

    def inject_fault(self, method: str, fault: Fault | None = None, times: int = 1) -> None:
        """Serve ``fault`` (default: a 500) to the next ``times`` calls of ``method``.

        ``method`` is a Bot API method name, or ``"*"`` for whatever call comes next.
        """
        name = "*" if method == "*" else self._canonical.get(method.lower(), method)
        self._faults.setdefault(name, deque()).extend([fault or Fault()] * times)

    def clear_faults(self) -> None:
        self._faults.clear()

    def _take_fault(self, name: str) -> Fault | None:
        for key in (name, "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None
