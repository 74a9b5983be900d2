"""Meta's side: signed webhook POSTs to the bot, retried, and the subscription check.

Each user has a queue and a delivery task, so one user's events reach the bot in order
(a refused event holds up that user's later ones while it is retried, not other users').
Bodies are encoded as Meta encodes them, non-ASCII as \\uXXXX and "/" as "\\/", so a bot
that checks the signature over anything but the raw bytes fails here as it would there.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
from collections import deque
from dataclasses import dataclass

from aiohttp import ClientError, ClientSession, ClientTimeout

from tests.fakes.whatsapp_api.records import JSON, Delivery, Event
from tests.fakes.whatsapp_api.state import FakeState


def encode(payload: JSON) -> bytes:
    """JSON as Meta sends it: compact, ASCII-only, slashes escaped."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Queued:
    event: Event
    done: asyncio.Future[bool]


class Webhooks(FakeState):
    """Delivery of events to ``webhook_url``; mixed into FakeWhatsApp."""

    def sign(self, body: bytes) -> str:
        return signature(self.app_secret, body)

    def payload(self, value: JSON) -> JSON:
        """A ``messages`` change of this business number, around ``value``."""
        inner: JSON = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": self.display_phone_number,
                "phone_number_id": self.phone_number_id,
            },
            **value,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.waba_id, "changes": [{"value": inner, "field": "messages"}]}],
        }

    async def verify(self, verify_token: str) -> bool:
        """Meta's subscription check: GET with hub.* parameters; the bot must answer 200
        with the challenge as the whole body."""
        challenge = str(secrets.randbelow(10**9) + 10**9)
        params = {"hub.mode": "subscribe", "hub.verify_token": verify_token,
                  "hub.challenge": challenge}  # fmt: skip
        try:
            async with self._client().get(self.webhook_url, params=params) as response:
                body = await response.text()
                return response.status == 200 and body == challenge
        except (ClientError, TimeoutError):
            return False

    async def forge(self, user: str, text: str, name: str = "Resident") -> int | None:
        """POST a text message from ``user`` signed with the wrong secret, once; the
        bot's HTTP status (None: no answer).  It does not open the 24-hour window."""
        wamid = self._new_wamid()
        message = {"from": user, "id": wamid, "timestamp": str(int(self.clock())),
                   "type": "text", "text": {"body": text}}  # fmt: skip
        body = encode(self.payload({"contacts": [{"profile": {"name": name}, "wa_id": user}],
                                    "messages": [message]}))  # fmt: skip
        forged = signature(secrets.token_hex(16), body)
        return await self.deliver_raw(body, signature=forged, kind="forged")

    async def deliver_raw(
        self, body: bytes | str | JSON, signature: str | None = None, *, kind: str = "raw"
    ) -> int | None:
        """POST any body once (a dict is encoded as Meta would), signed correctly unless
        ``signature`` is given (sent as is); the bot's HTTP status, None if no answer."""
        if isinstance(body, dict):
            raw = encode(body)
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = body
        event = self._event(kind, raw, None, (), signature)
        delivery = await self._post(event, 1)
        return delivery.status

    async def redeliver(self, wamid: str, *, wait: bool = True) -> bool:
        """Deliver again, byte for byte, the event that carried ``wamid`` (an inbound
        message, or a status); with ``wait``, return whether the bot took it (200)."""
        event = next((e for e in reversed(self.events) if wamid in e.wamids), None)
        if event is None:
            raise LookupError(f"no webhook event carried {wamid}")
        return await self._deliver(event, wait=wait)

    async def drain(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until every queued event has been delivered or given up on."""
        async with asyncio.timeout(timeout):
            while self._workers:
                await asyncio.gather(*self._workers.values(), return_exceptions=True)

    # -- inside ------------------------------------------------------------------------

    def _client(self) -> ClientSession:
        if self._session is None:
            raise RuntimeError("FakeWhatsApp is not running (use `async with`)")
        if not self.webhook_url:
            raise RuntimeError("FakeWhatsApp.webhook_url is not set")
        return self._session

    def _event(
        self, kind: str, body: bytes, user: str | None, wamids: tuple[str, ...],
        signature: str | None = None,
    ) -> Event:  # fmt: skip
        event = Event(self._ids(), kind, body, user, wamids, signature)
        self.events.append(event)
        return event

    def _emit(self, kind: str, value: JSON, user: str, wamids: tuple[str, ...]) -> Event:
        return self._event(kind, encode(self.payload(value)), user, wamids)

    async def _deliver(self, event: Event, *, wait: bool) -> bool:
        """Queue ``event`` for its user; with ``wait``, until the bot took it or the
        retries ran out."""
        if not self.webhook_url:
            return False
        self._client()
        loop = asyncio.get_running_loop()
        queued = Queued(event, loop.create_future())
        user = event.user or ""
        queue = self._queues.setdefault(user, deque())
        queue.append(queued)
        if user not in self._workers:
            task = loop.create_task(self._worker(user, queue))
            self._workers[user] = task
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return await asyncio.shield(queued.done) if wait else False

    async def _worker(self, user: str, queue: deque[Queued]) -> None:
        try:
            while queue:
                item = queue[0]
                ok = await self._with_retries(item.event)
                queue.popleft()
                if not item.done.done():
                    item.done.set_result(ok)
        finally:
            if self._workers.get(user) is asyncio.current_task():
                del self._workers[user]
            for item in queue:
                if not item.done.done():
                    item.done.set_result(False)

    async def _with_retries(self, event: Event) -> bool:
        delays = (*self.retry_delays, None)
        for attempt, delay in enumerate(delays, start=1):
            delivery = await self._post(event, attempt)
            if delivery.accepted:
                event.delivered = True
                return True
            if delay is None or self._stopping.is_set():
                break
            await self._pause(delay)
        self.undelivered.append(event)
        self._changed()
        return False

    async def _post(self, event: Event, attempt: int) -> Delivery:
        session = self._client()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": event.signature or self.sign(event.body),
            "User-Agent": "facebookexternalua",
        }
        status: int | None = None
        error: str | None = None
        try:
            async with session.post(
                self.webhook_url, data=event.body, headers=headers,
                timeout=ClientTimeout(total=self.webhook_timeout),
            ) as response:  # fmt: skip
                status = response.status
                await response.read()
        except (ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        delivery = Delivery(event.id, event.kind, attempt, status, error, self.clock(),
                            event.wamids)  # fmt: skip
        self.deliveries.append(delivery)
        if not delivery.accepted:
            self.refused.append(delivery)
        self._changed()
        return delivery
