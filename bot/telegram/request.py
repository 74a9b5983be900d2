"""Bot API requests over aiohttp, which we already run for the web server.

python-telegram-bot's default client (httpx) walks its whole connection pool on
every request, so at the concurrency a busy consultation needs (dozens of calls
in flight while Telegram answers in ~50 ms) much of the bot's CPU went on pool
bookkeeping. aiohttp's connector does the same job for a fraction of the cost.
"""

from __future__ import annotations

import json

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    """A BaseRequest on an aiohttp ClientSession (one per request object)."""

    def __init__(self, *, connection_pool_size: int = 64, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 10.0, media_write_timeout: float = 20.0) -> None:  # fmt: skip
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        body: aiohttp.FormData | bytes | None = None
        headers = None
        uploading = request_data is not None and request_data.contains_files
        if request_data is not None and uploading:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mime_type) in request_data.multipart_data.items():
                form.add_field(name, content, filename=filename, content_type=mime_type)
            body = form
        elif request_data is not None:
            # The Bot API takes a JSON body: one dumps of the whole call, where a form
            # would JSON-encode each nested value and then percent-encode everything
            # (a third of the CPU a reply's request cost).
            body = json.dumps(request_data.parameters, ensure_ascii=False).encode("utf-8")
            headers = _JSON

        def chosen(value: ODVInput[float], default: float | None) -> float | None:
            return default if isinstance(value, DefaultValue) else value

        read = chosen(read_timeout, self._read_timeout)
        write = chosen(
            write_timeout, self._media_write_timeout if uploading else self._write_timeout
        )
        # aiohttp has no separate write timeout: a request may take its write and read
        # allowances in total; waiting for a free connection is its own. (No sock_read:
        # aiohttp re-arms that timer on every chunk received, which cost more CPU than
        # the total's single timer, and the total bounds the read anyway.)
        total = None if read is None or write is None else read + write
        timeout = aiohttp.ClientTimeout(
            total=total,
            connect=chosen(pool_timeout, self._pool_timeout),
            sock_connect=chosen(connect_timeout, self._connect_timeout),
        )
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
