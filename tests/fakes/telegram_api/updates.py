"""How updates reach the bot: the getUpdates queue, or webhook delivery per chat.

Polling hands out batches in update_id order and confirms by offset; a webhook
gets one POST at a time per chat, retried, as Telegram does. setWebhook moves
the queue from one to the other and deleteWebhook back.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector

from tests.fakes.telegram_api.chats import FakeUser
from tests.fakes.telegram_api.errors import JSON, ApiError, bad_request
from tests.fakes.telegram_api.files import Upload
from tests.fakes.telegram_api.rules import (
    NOT_DELIVERED_BY_DEFAULT,
    SECRET_TOKEN_RE,
    dumps,
    float_param,
    int_param,
    unix_now,
)
from tests.fakes.telegram_api.state import ServerState


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST of an update to the bot's webhook."""

    update_id: int
    url: str
    status: int | None
    error: str | None
    time: float


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None
    semaphore: asyncio.Semaphore


@dataclass(slots=True)
class PendingUpdate:
    update_id: int
    update: JSON
    chat_id: int
    kind: str
    # A deliberate re-delivery of an update id the bot may already have confirmed.  It
    # survives confirmation until it has been handed out in a batch that is then confirmed.
    redelivery: bool = False
    batch_max: int | None = None


class UpdateDelivery(ServerState):
    """The update queue and webhook delivery; mixed into FakeBotAPI, which holds them."""

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook is not None else None

    @property
    def pending_update_count(self) -> int:
        return len(self._pending) + sum(len(q) for q in self._webhook_queues.values())

    def _push(self, user: FakeUser, kind: str, payload: JSON) -> JSON:
        update: JSON = {"update_id": next(self._update_ids), kind: payload}
        user.last_update = update
        user.started = True
        self._spoke_at[user.id] = self.clock()
        self._enqueue(PendingUpdate(update["update_id"], update, user.id, kind))
        return update

    def _push_again(self, user: FakeUser, update: JSON) -> JSON:
        kind = next(k for k in update if k != "update_id")
        self._enqueue(PendingUpdate(update["update_id"], update, user.id, kind, redelivery=True))
        return update

    def _enqueue(self, pending: PendingUpdate) -> None:
        if self._webhook is not None:
            if self._allowed(pending.kind):
                self._webhook_enqueue(pending)
            return
        if pending.redelivery:
            # Keep the queue sorted: Telegram batches are in update_id order, and PTB
            # confirms with the last id of a batch.
            index = sum(1 for p in self._pending if p.update_id <= pending.update_id)
            self._pending.insert(index, pending)
        else:
            self._pending.append(pending)
        self._updates_signal.notify()

    def _allowed(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in NOT_DELIVERED_BY_DEFAULT
        return kind in self.allowed_updates

    def _set_allowed(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad_request("can't parse allowed updates")
        # Like Telegram, the setting persists until changed; [] restores the default.
        self.allowed_updates = list(value) or None

    def _drop_pending(self) -> None:
        self._pending.clear()
        for queue in self._webhook_queues.values():
            queue.clear()

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            while len(self._pending) > -offset:
                self._pending.popleft()
            return
        kept: list[PendingUpdate] = []
        while self._pending and self._pending[0].update_id < offset:
            p = self._pending.popleft()
            if p.redelivery and (p.batch_max is None or p.batch_max >= offset):
                kept.append(p)
        self._pending.extendleft(reversed(kept))

    def _take_batch(self, limit: int) -> list[JSON]:
        batch: list[PendingUpdate] = []
        unwanted = False
        for p in self._pending:
            if not self._allowed(p.kind):
                unwanted = True
                continue
            batch.append(p)
            if len(batch) >= limit:
                break
        if unwanted:
            self._pending = deque(p for p in self._pending if self._allowed(p.kind))
        if batch:
            for p in batch:
                if p.redelivery:
                    p.batch_max = batch[-1].update_id
        return [p.update for p in batch]

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int_param(params, "offset", 0)
        limit = min(max(int_param(params, "limit", 100), 1), 100)
        timeout = max(float_param(params, "timeout", 0.0), 0.0)
        self._set_allowed(params.get("allowed_updates"))
        self._confirm(offset)
        # A newer getUpdates ends an older long poll with 409, as on Telegram.  After PTB
        # cancels a poll on shutdown, this is what frees the abandoned handler.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._closing or self._webhook is not None:
                return []
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._take_batch(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                return batch
            await self._updates_signal.wait(remaining)

    def _enable_webhook(self, config: WebhookConfig) -> None:
        was_active = self._webhook is not None
        self._webhook = config
        if self._session is None:
            self._session = ClientSession(connector=TCPConnector(limit=0))
        if not was_active:
            pending, self._pending = self._pending, deque()
            for p in pending:
                self._webhook_enqueue(p)
        self._updates_signal.notify()  # a pending long poll returns now

    def _disable_webhook(self) -> None:
        if self._webhook is None:
            return
        self._webhook = None
        for task in self._webhook_workers.values():
            task.cancel()
        self._webhook_workers.clear()
        # Updates not yet delivered become fetchable with getUpdates, as on Telegram.
        leftovers = [p for queue in self._webhook_queues.values() for p in queue]
        self._webhook_queues.clear()
        self._pending = deque(sorted([*self._pending, *leftovers], key=lambda p: p.update_id))

    def _webhook_enqueue(self, pending: PendingUpdate) -> None:
        queue = self._webhook_queues.setdefault(pending.chat_id, deque())
        queue.append(pending)
        if pending.chat_id not in self._webhook_workers:
            task = asyncio.get_running_loop().create_task(
                self._webhook_worker(pending.chat_id, queue)
            )
            self._webhook_workers[pending.chat_id] = task
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _webhook_worker(self, chat_id: int, queue: deque[PendingUpdate]) -> None:
        try:
            while queue:
                item = queue[0]
                await self._deliver(item)
                # The queue may have been cleared meanwhile (drop_pending_updates).
                if queue and queue[0] is item:
                    queue.popleft()
        finally:
            if self._webhook_workers.get(chat_id) is asyncio.current_task():
                del self._webhook_workers[chat_id]

    async def _deliver(self, item: PendingUpdate) -> None:
        body = dumps(item.update).encode()
        for attempt in range(1, self.webhook_max_attempts + 1):
            config, session = self._webhook, self._session
            if config is None or session is None:
                return
            headers = {"Content-Type": "application/json"}
            if config.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = config.secret_token
            status: int | None = None
            error: str | None = None
            try:
                async with (
                    config.semaphore,
                    session.post(
                        config.url,
                        data=body,
                        headers=headers,
                        timeout=ClientTimeout(total=self.webhook_timeout),
                    ) as response,
                ):
                    status = response.status
                    await response.read()
            except (ClientError, TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            self.webhook_attempts.append(
                WebhookAttempt(item.update_id, config.url, status, error, self.clock())
            )
            if status is not None and 200 <= status < 300:
                return
            self._last_webhook_error = (
                unix_now(),
                error or f"Wrong response from the webhook: {status}",
            )
            if attempt < self.webhook_max_attempts:
                await self._pause(min(2.0, self.webhook_retry_delay * 2 ** (attempt - 1)))
        self.webhook_failures.append(item.update)

    def _set_webhook(self, params: JSON, files: dict[str, Upload]) -> bool:
        url = params.get("url") or ""
        if not isinstance(url, str):
            raise bad_request("bad webhook: invalid URL")
        if url and not url.startswith(("https://", "http://")):
            # Real Telegram insists on HTTPS; plain HTTP is allowed here for loopback.
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (isinstance(secret, str) and SECRET_TOKEN_RE.match(secret)):
            raise bad_request("secret token contains unallowed characters")
        max_connections = int_param(params, "max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._set_allowed(params.get("allowed_updates"))
        if not url:
            self._disable_webhook()
            return True
        ip_address = params.get("ip_address")
        self._enable_webhook(
            WebhookConfig(
                url=url,
                secret_token=secret,
                max_connections=max_connections,
                ip_address=ip_address if isinstance(ip_address, str) else None,
                semaphore=asyncio.Semaphore(max_connections),
            )
        )
        return True

    def _delete_webhook(self, params: JSON, files: dict[str, Upload]) -> bool:
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._disable_webhook()
        return True

    def _get_webhook_info(self, params: JSON, files: dict[str, Upload]) -> JSON:
        info: JSON = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": self.pending_update_count,
        }
        if self._webhook is not None:
            info["max_connections"] = self._webhook.max_connections
            if self._webhook.ip_address:
                info["ip_address"] = self._webhook.ip_address
        if self.allowed_updates is not None:
            info["allowed_updates"] = list(self.allowed_updates)
        if self._last_webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._last_webhook_error
        return info
