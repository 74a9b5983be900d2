"""Text messages and emails to residents through GOV.UK Notify, within its rate limit.

Notify allows 3,000 messages a minute per service and key type (a rolling 60
seconds) and answers 429 RateLimitError beyond it, and 429 TooManyRequestsError
past the service's daily limit. `RateWindow` keeps this process under the first
(configured a little below it, so staff's safeguarding emails still fit); a 429
means Notify did not accept the message, so trying it again later cannot send
it twice. Notify fills the template the service keeps; we send its placeholders.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from notifications_python_client.errors import APIError, HTTPError
from notifications_python_client.notifications import NotificationsAPIClient


class NotNow(RuntimeError):
    """Notify did not accept the message and asks us to wait: it was not sent."""

    def __init__(self, reason: str, *, daily: bool) -> None:
        super().__init__(reason)
        self.daily = daily  # the day's limit: nothing more goes until tomorrow


class Refused(RuntimeError):
    """Notify refused this message (a bad number, template or key): not sent."""


@dataclass(frozen=True)
class Templates:
    sms: str
    email: str


class NotifyMessages:
    """One service's API key and templates; sends run in worker threads, one client
    each (the client's requests session is not shared between threads)."""

    def __init__(self, api_key: str, templates: Templates, base_url: str, *,
                 timeout: float = 20) -> None:  # fmt: skip
        self.api_key, self.templates, self.base_url, self.timeout = (
            api_key, templates, base_url, timeout,
        )  # fmt: skip
        self._local = threading.local()

    def _client(self) -> NotificationsAPIClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
                self.api_key, base_url=self.base_url, timeout=self.timeout
            )
            self._local.client = client
        return client

    async def send(self, channel: str, address: str, personalisation: dict[str, str],
                   reference: str) -> str:  # fmt: skip
        """Send one message (channel sms or email); returns Notify's notification id."""
        return await asyncio.to_thread(self._send, channel, address, personalisation, reference)

    def _send(self, channel: str, address: str, personalisation: dict[str, str],
              reference: str) -> str:  # fmt: skip
        client = self._client()
        try:
            if channel == "sms":
                response = client.send_sms_notification(  # type: ignore[no-untyped-call]
                    phone_number=address, template_id=self.templates.sms,
                    personalisation=personalisation, reference=reference,
                )  # fmt: skip
            else:
                response = client.send_email_notification(  # type: ignore[no-untyped-call]
                    email_address=address, template_id=self.templates.email,
                    personalisation=personalisation, reference=reference,
                )  # fmt: skip
        except HTTPError as error:
            raise _classified(error) from error
        return str(response["id"])

    async def status(self, notify_id: str) -> tuple[str, str | None]:
        """A sent message's delivery status, and when it was reached (ISO time)."""
        return await asyncio.to_thread(self._status, notify_id)

    def _status(self, notify_id: str) -> tuple[str, str | None]:
        try:
            found: dict[str, Any] = self._client().get_notification_by_id(notify_id)  # type: ignore[no-untyped-call]
        except HTTPError as error:
            raise _classified(error) from error
        return str(found["status"]), found.get("completed_at") or found.get("sent_at")


def _classified(error: APIError) -> Exception:
    kinds = [e.get("error") for e in error.message if isinstance(e, dict)] if isinstance(
        error.message, list) else []  # fmt: skip
    reason = f"Notify {error.status_code}: {kinds[0] if kinds else 'error'}"
    if error.status_code == 429:
        return NotNow(reason, daily="TooManyRequestsError" in kinds)
    return Refused(reason)
