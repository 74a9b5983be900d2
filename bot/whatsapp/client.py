"""A thin client of the WhatsApp Cloud API: send a message, upload a file, read the number.

Why not the maintained library pywa: it wraps the same two endpoints in its own
message types, sends with httpx, and brings its own webhook dispatch with handlers
and filters. Needs First already has, for every channel, the parts that must be its
own: the durable inbox written before Meta hears 200, each resident's messages in
order, answers committed in groups, one send rate shared by replies and broadcasts,
and the reading of each Graph error code (wait a second, wait a day, or stop). What
is left is two POSTs on the aiohttp session the service already runs, which this
module is, and its errors as one exception that carries Meta's code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

# Graph error codes that say "not now" rather than "never" (see pacing in sender.py).
THROUGHPUT = 130429  # the number's messages a second
PAIR_RATE = 131056  # too many to one resident in a short time
SPAM_RATE = 131048
TEMPORARY = frozenset({THROUGHPUT, PAIR_RATE, 1, 2, 4, 80007, 131000, 131016})
RE_ENGAGEMENT = 131047  # outside the 24-hour window: only a template may be sent
UNDELIVERABLE = 131026


@dataclass(frozen=True)
class CloudError(Exception):
    """The Cloud API refused a call; `code` is Meta's (0: no answer from Meta)."""

    code: int
    status: int
    detail: str

    def __str__(self) -> str:
        return f"WhatsApp error {self.code} (HTTP {self.status}): {self.detail}"

    @property
    def temporary(self) -> bool:
        return self.code in TEMPORARY or self.status >= 500 or self.status == 0


class CloudApi:
    """The Graph API for one business phone number."""

    def __init__(self, session: aiohttp.ClientSession, *, base_url: str, version: str,
                 phone_number_id: str, access_token: str) -> None:  # fmt: skip
        self.session = session
        self.root = f"{base_url.rstrip('/')}/{version}/{phone_number_id}"
        self.headers = {"Authorization": f"Bearer {access_token}"}

    async def send(self, payload: dict[str, Any]) -> str:
        """Send one message (`payload` without messaging_product); its wamid."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **payload}
        answer = await self._post("messages", json=body)
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as error:
            raise CloudError(0, 200, "an answer without a message id") from error

    async def upload(self, content: bytes, filename: str, mime_type: str) -> str:
        """Upload a file for a document message; its media id."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", content, filename=filename, content_type=mime_type)
        answer = await self._post("media", data=form)
        if not isinstance(answer.get("id"), str):
            raise CloudError(0, 200, "an upload answered without a media id")
        return str(answer["id"])

    async def phone_number(self) -> dict[str, Any]:
        """The number as Meta has it: display_phone_number, verified_name, quality_rating."""
        fields = "display_phone_number,verified_name,quality_rating"
        return await self._call("GET", "", params={"fields": fields})

    async def _post(self, path: str, **body: Any) -> dict[str, Any]:
        return await self._call("POST", f"/{path}", **body)

    async def _call(self, method: str, path: str, **body: Any) -> dict[str, Any]:
        try:
            async with self.session.request(
                method, f"{self.root}{path}", headers=self.headers, **body
            ) as response:
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
                if response.status == 200 and isinstance(answer, dict):
                    return answer
                raise _error(response.status, answer)
        except aiohttp.ClientError as error:
            raise CloudError(0, 0, type(error).__name__) from error


def _error(status: int, answer: object) -> CloudError:
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return CloudError(0, status, "an answer that is not a Graph error")
    code = error.get("code")
    details = error.get("error_data", {})
    detail = details.get("details") if isinstance(details, dict) else None
    return CloudError(
        code if isinstance(code, int) else 0, status, str(detail or error.get("message", ""))
    )
