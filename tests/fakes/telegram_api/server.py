"""The fake Bot API's HTTP server: routing, calls as recorded, faults, users."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import ClientSession, web

from tests.fakes.telegram_api.chats import FakeUser
from tests.fakes.telegram_api.errors import JSON, ApiError, bad_request
from tests.fakes.telegram_api.faults import Fault, FaultInjection
from tests.fakes.telegram_api.files import StoredFile, Upload
from tests.fakes.telegram_api.methods import BotMethods
from tests.fakes.telegram_api.rules import TOKEN_RE, decode_field, dumps
from tests.fakes.telegram_api.updates import (
    PendingUpdate,
    UpdateDelivery,
    WebhookAttempt,
    WebhookConfig,
)
from tests.fakes.waiting import Signal, wait_for


@dataclass
class Call:
    """One Bot API call as received; ``status`` is filled in once it has been answered."""

    method: str
    params: JSON
    time: float
    files: dict[str, Upload] = field(default_factory=dict)
    status: int | None = None
    error: str | None = None
    answered_at: float | None = None  # when the response was ready, by the fake's clock


Handler = Callable[[JSON, dict[str, Upload]], Any]


class FakeBotAPI(UpdateDelivery, BotMethods, FaultInjection):
    """A fake Telegram Bot API server on 127.0.0.1 (see the package docstring).

    Knobs, settable at construction or at any time:

    * ``delay``: seconds slept before answering each call (network latency), plus up to
      ``jitter`` seconds more, at random (so calls can overtake one another).
    * ``rate_limit``: message methods (:data:`MESSAGE_METHODS`) allowed per second in
      total; beyond it, 429 with an integer ``retry_after``.  ``per_chat_limit``: the same
      per chat (Telegram's guidance is 1).  Every 429 given is timestamped in
      ``too_many_requests``.  ``talking_limit``: a higher per-chat limit for a chat
      whose user sent the bot something in the last ``talking_seconds``: Telegram
      lets a bot answer a user it is talking with in a short burst (two messages at
      once), which it does not allow in a chat the bot writes to unprompted.
    * ``blocked``: chat ids that answer 403 "bot was blocked by the user".
    * Strict by default, as Telegram is: messages to a user who never wrote to the bot
      answer 403 "bot can't initiate conversation with a user" (a test says a user has
      written before with ``user(..., started=True)``), and the flood limits are on
      (30 a second overall, 1 a second per chat, a burst of ``talking_limit`` while the
      user is talking).  :meth:`relax` turns either off for a test that must.
    * :meth:`inject_fault`: errors, floods or hangs for the next N calls of a method.
    * ``clock``: the time source for flood windows and call timestamps (inject a fixed
      one for deterministic tests); long-poll and webhook timing always use real time.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "needs_first_test_bot",
        bot_first_name: str = "Needs First",
        delay: float = 0.0,
        jitter: float = 0.0,
        rate_limit: int | None = 30,
        per_chat_limit: int | None = 1,
        talking_limit: int | None = 10,
        talking_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
        record_calls: bool = True,
        webhook_max_attempts: int = 5,
        webhook_retry_delay: float = 0.05,
        webhook_timeout: float = 10.0,
    ) -> None:
        #: If set, only this token is accepted (others get 401); otherwise any
        #: well-formed token is, and the bot id is its numeric prefix.
        self.token = token
        self.bot_id: int | None = int(token.split(":", 1)[0]) if token else None
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.delay = delay
        self.jitter = jitter
        self.rate_limit = rate_limit
        self.per_chat_limit = per_chat_limit
        self.talking_limit = talking_limit
        self.talking_seconds = talking_seconds
        self.clock = clock
        self.host = host
        self.record_calls = record_calls
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout

        self.blocked: set[int] = set()
        #: Deliver to users who never wrote to the bot (Telegram does not); see `relax`.
        self.deliver_unstarted = False
        self.calls: list[Call] = []
        self.too_many_requests: list[float] = []
        #: answerCallbackQuery calls: callback_query_id, user_id, data, text, show_alert,
        #: url, cache_time, time.
        self.answered_callbacks: list[JSON] = []
        self.files: dict[str, StoredFile] = {}
        #: setMyCommands state, keyed by (scope as sorted JSON, language_code).
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.webhook_attempts: list[WebhookAttempt] = []
        #: Updates dropped after ``webhook_max_attempts`` failed deliveries.
        self.webhook_failures: list[JSON] = []
        #: Update types requested with allowed_updates; None means Telegram's default.
        self.allowed_updates: list[str] | None = None

        self._port = port
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._closing = False
        self._stopping = asyncio.Event()
        self._users: dict[int, FakeUser] = {}
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._open_callbacks: dict[str, JSON] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._received: dict[str, list[Call]] = {}
        self._completed: dict[str, list[Call]] = {}
        self._calls_signal = Signal()
        self._global_window: deque[float] = deque()
        self._chat_windows: dict[int, deque[float]] = {}
        self._spoke_at: dict[int, float] = {}  # when each user last sent the bot something
        # Polling mode: undelivered and unconfirmed updates, sorted by update_id.
        self._pending: deque[PendingUpdate] = deque()
        self._updates_signal = Signal()
        self._poll_generation = 0
        # Webhook mode: a queue and a delivery task per chat, so each chat is in order.
        self._webhook: WebhookConfig | None = None
        self._webhook_queues: dict[int, deque[PendingUpdate]] = {}
        self._webhook_workers: dict[int, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._last_webhook_error: tuple[int, str] | None = None

        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
        }
        # Telegram matches method names case-insensitively.
        self._canonical = {name.lower(): name for name in [*self._handlers, "getUpdates"]}

    async def start(self) -> None:
        self._closing = False
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # No access log: it would dominate the cost of a call in benchmarks.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; pending long polls are answered with an empty list."""
        if self._runner is None:
            return
        self._closing = True
        self._stopping.set()
        self._updates_signal.notify()
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._webhook_workers.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._runner is None:
            raise RuntimeError("FakeBotAPI is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url()``; PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url()``."""
        return f"{self.url}/file/bot"

    def user(
        self,
        user_id: int,
        first_name: str = "Ann",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> FakeUser:
        """The simulated user with this id, created on first use (later args are ignored).

        ``started=True``: the user wrote to the bot before the test began (staff who
        pressed Start once), so the bot may message them first."""
        existing = self._users.get(user_id)
        if existing is not None:
            existing.started = existing.started or started
            return existing
        created = FakeUser(self, user_id, first_name, last_name, username, language_code)
        created.started = started
        self._users[user_id] = created
        return created

    def relax(self, *, limits: bool = False, unstarted: bool = False) -> None:
        """Make the fake kinder than Telegram, for a test that is about something else."""
        if limits:
            self.rate_limit = self.per_chat_limit = self.talking_limit = None
        if unstarted:
            self.deliver_unstarted = True

    @property
    def users(self) -> dict[int, FakeUser]:
        return dict(self._users)

    def calls_to(self, method: str) -> list[Call]:
        """Answered calls of ``method``, in the order they were answered."""
        return list(self._completed.get(method, []))

    async def wait_for_call(
        self,
        method: str,
        count: int = 1,
        timeout: float = 30.0,  # noqa: ASYNC109
        *,
        answered: bool = True,
    ) -> Call:
        """Wait until ``method`` has been answered (or, with ``answered=False``, merely
        received) ``count`` times; return that call.  Needs ``record_calls``."""
        calls = self._completed if answered else self._received
        await wait_for(
            self._calls_signal,
            lambda: len(calls.get(method, [])) >= count,
            timeout,
            lambda: f"{method}: {len(calls.get(method, []))} calls, expected {count}",
        )
        return calls[method][count - 1]

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        name = self._canonical.get(name.lower(), name)
        parse_error: ApiError | None = None
        try:
            params, files = await self._read_params(request)
        except ApiError as exc:
            params, files, parse_error = {}, {}, exc
        call = Call(name, params, self.clock(), files)
        if self.record_calls:
            self.calls.append(call)
            self._received.setdefault(name, []).append(call)
            self._calls_signal.notify()
        try:
            if parse_error is not None:
                raise parse_error
            result = await self._execute(request, name, params, files)
        except ApiError as exc:
            status, body = exc.status, exc.payload()
            call.error = exc.description
            if exc.status == 429:
                self.too_many_requests.append(self.clock())
        else:
            status, body = 200, {"ok": True, "result": result}
        call.status = status
        call.answered_at = self.clock()
        if self.record_calls:
            self._completed.setdefault(name, []).append(call)
            self._calls_signal.notify()
        return web.json_response(body, status=status, dumps=dumps)

    async def _execute(
        self, request: web.Request, name: str, params: JSON, files: dict[str, Upload]
    ) -> Any:
        if self.delay > 0 or self.jitter > 0:
            await asyncio.sleep(self.delay + random.uniform(0.0, self.jitter))
        fault = self._take_fault(name)
        if fault is not None:
            if fault.hang_seconds > 0:
                await self._pause(fault.hang_seconds)
                transport = request.transport
                client_gone = transport is None or transport.is_closing()
                if name == "getUpdates" and client_gone:
                    # Nobody waits for this poll any more; running it would end the
                    # client's newer poll with 409 and confirm offsets nobody saw.
                    return []
            if fault.status is not None:
                raise ApiError(fault.status, fault.description, fault.retry_after)
        self._check_token(request.match_info["token"])
        if name == "getUpdates":
            return await self._get_updates(params)
        handler = self._handlers.get(name)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        return handler(params, files)

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, Upload]]:
        params: JSON = {k: decode_field(k, v) for k, v in request.query.items()}
        files: dict[str, Upload] = {}
        if not request.body_exists:
            return params, files
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    mime = value.content_type or None
                    files[key] = Upload(value.filename, value.file.read(), mime)
                elif isinstance(value, str):
                    params[key] = decode_field(key, value)
                else:
                    params[key] = decode_field(key, bytes(value).decode())
            return params, files
        # Telegram takes a JSON body whatever its content type claims.
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise bad_request("can't parse request JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("request body must be a JSON object")
            params.update(body)
        return params, files

    def _check_token(self, token: str) -> None:
        match = TOKEN_RE.match(token)
        if match is None:
            raise ApiError(404, "Not Found")
        if self.token is not None and token != self.token:
            raise ApiError(401, "Unauthorized")
        if self.bot_id is None:
            self.bot_id = int(match.group(1))
