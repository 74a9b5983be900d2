"""Bot API requests over aiohttp, which we already run for the web server.

python-telegram-bot's default client (httpx) walks its whole connection pool on
every request, so at the concurrency a busy consultation needs (dozens of calls
in flight while Telegram answers in ~50 ms) much of the bot's CPU went on pool
bookkeeping. aiohttp's connector does the same job for a fraction of the cost.
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


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
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        # Encoded here: aiohttp's FormData builds a multipart writer (and a random
        # boundary) for every request, even one it then sends urlencoded.
        body: aiohttp.FormData | bytes | None = (
            urlencode(fields).encode("ascii") if fields is not None else None
        )
        headers = _FORM if fields is not None else None
        if files:
            headers = None
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mime_type) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime_type)
            body = form

        def chosen(value: ODVInput[float], default: float | None) -> float | None:
            return default if isinstance(value, DefaultValue) else value

        read = chosen(read_timeout, self._read_timeout)
        write = chosen(write_timeout, self._media_write_timeout if files else self._write_timeout)
        # aiohttp has no separate write timeout: a request may take its write
        # and read allowances in total; waiting for a free connection is its own.
        total = None if read is None or write is None else read + write
        timeout = aiohttp.ClientTimeout(
            total=total,
            connect=chosen(pool_timeout, self._pool_timeout),
            sock_connect=chosen(connect_timeout, self._connect_timeout),
            sock_read=read,
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
