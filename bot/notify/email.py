"""Email through GOV.UK Notify, with its maintained client (notifications-python-client).

The client is synchronous (requests), so each send runs in a worker thread. Notify
fills a template the service keeps; we send only its placeholders' values."""

from __future__ import annotations

import asyncio
from typing import Any

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient


class EmailFailed(RuntimeError):
    """Notify refused or could not be reached; `retry` is false when trying again is futile."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.retry = retry


class NotifyEmail:
    """Sends one template's emails with one API key."""

    def __init__(self, api_key: str, template_id: str, base_url: str, *, timeout: float = 20
                 ) -> None:  # fmt: skip
        self.api_key = api_key
        self.template_id = template_id
        self.base_url = base_url
        self.timeout = timeout

    async def send(self, address: str, personalisation: dict[str, Any], reference: str) -> str:
        """Send one email; returns Notify's notification id."""
        return await asyncio.to_thread(self._send, address, personalisation, reference)

    def _send(self, address: str, personalisation: dict[str, Any], reference: str) -> str:
        # A client per send: the client is not thread-safe, and alerts are few.
        client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
            self.api_key, base_url=self.base_url, timeout=self.timeout
        )
        try:
            response = client.send_email_notification(  # type: ignore[no-untyped-call]
                email_address=address,
                template_id=self.template_id,
                personalisation=personalisation,
                reference=reference,
            )
        except APIError as error:
            # 400 and 403 are our mistakes (template, key, address): retrying will not
            # help until the configuration changes, but it is retried slowly anyway.
            raise EmailFailed(f"Notify {error.status_code}: {_first_error(error)}",
                              retry=error.status_code in (429, 500, 502, 503, 504)) from error  # fmt: skip
        finally:
            client.request_session.close()
        return str(response["id"])


def _first_error(error: APIError) -> str:
    message = error.message
    if isinstance(message, list) and message and isinstance(message[0], dict):
        return str(message[0].get("message", ""))[:150]
    return str(message)[:150]
