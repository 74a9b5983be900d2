"""Web chat devices: issued only by the server, and not too many new ones per address.

A device cookie is a random token and its HMAC under the server's secret, so a
value the server never issued (planted on a shared computer, say) is refused,
and the chat's CSRF token, an HMAC of the cookie under the same secret, cannot
be computed from a cookie a client chose. A device that joins as a new resident
gets a fresh cookie at that moment (as a sign-in rotates a session id), so one
planted earlier leads nowhere. New residents are counted per client address,
by a keyed hash of it (no address is stored), in a configurable window.

The secret is `[web] secret` when configured; otherwise one generated on first
start and kept in the database, so every worker shares it and a fresh install
needs no set-up.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.config import Config, WebConfig
from conversations.storage import web_devices
from conversations.storage.models import utcnow

SECRET_NAME = "web-device-key"
COOKIE = "nf_device"
_LEGACY = re.compile(r"^[A-Za-z0-9_-]{40,64}$")  # an unsigned cookie of an older version
_SEPARATOR = "."


def _mac(secret: bytes, message: str, purpose: bytes) -> str:
    digest = hmac.new(secret, purpose + message.encode("utf-8"), "sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Device:
    """This browser: its cookie, and the hash of it that the database knows."""

    token: str
    is_new: bool
    secret: bytes

    @property
    def visitor(self) -> str:
        return hashlib.sha256(self.token.encode("utf-8")).hexdigest()

    @property
    def csrf(self) -> str:
        return _mac(self.secret, self.token, b"needsfirst-csrf:")


def issue(secret: bytes) -> Device:
    """A new device, signed by this server."""
    random = secrets.token_urlsafe(32)
    return Device(random + _SEPARATOR + _mac(secret, random, b"needsfirst-device:"), True, secret)


def recognised(secret: bytes, cookie: str) -> Device | None:
    """The device a cookie names, if this server issued it."""
    random, separator, mac = cookie.partition(_SEPARATOR)
    if not separator or not 40 <= len(random) <= 64 or not mac:
        return None
    if not hmac.compare_digest(mac, _mac(secret, random, b"needsfirst-device:")):
        return None
    return Device(cookie, False, secret)


def upgraded(db: Engine, secret: bytes, cookie: str) -> Device | None:
    """A cookie from before devices were signed, if it belongs to a web resident:
    they move to a new, signed device (a value nobody ever used stays unknown)."""
    if not _LEGACY.match(cookie):
        return None
    old = hashlib.sha256(cookie.encode("utf-8")).hexdigest()
    with Session(db) as session, session.begin():
        if not web_devices.is_residents(session=session, visitor=old):
            return None
        device = issue(secret)
        web_devices.move_web_device(session=session, old=old, new=device.visitor)
        return device


def server_secret(db: Engine, config: Config) -> bytes:
    """The configured secret, or the one this service generated and stored."""
    if config.web.secret:
        return config.web.secret.encode("utf-8")
    with Session(db) as session:
        stored = web_devices.server_secret(session=session, name=SECRET_NAME)
    if stored is not None:
        return stored.encode("ascii")
    try:
        with Session(db) as session, session.begin():
            web_devices.add_server_secret(session=session, name=SECRET_NAME,
                                          value=secrets.token_urlsafe(48))  # fmt: skip
    except IntegrityError:  # another worker stored one first: use theirs
        pass
    with Session(db) as session:
        chosen = web_devices.server_secret(session=session, name=SECRET_NAME)
    assert chosen is not None
    return chosen.encode("ascii")


class DeviceKey:
    """The server secret, read from the database on first use (not at start: the web
    server must start, and say it is unhealthy, while the database is down)."""

    def __init__(self, db: Engine, config: Config) -> None:
        self._db = db
        self._config = config
        self._secret: bytes | None = None

    async def get(self) -> bytes:
        if self._secret is None:
            self._secret = await asyncio.to_thread(server_secret, self._db, self._config)
        return self._secret


def client_address(request: web.Request, header: str) -> str:
    """Who is asking: the proxy's header when one is configured (its last entry,
    the one the proxy itself added), else the connection's address."""
    if header:
        given = request.headers.get(header, "")
        if given.strip():
            return given.split(",")[-1].strip()
    return request.remote or "unknown"


@dataclass(frozen=True)
class Arrival:
    """What deciding on a new resident from a request needs."""

    secret: bytes
    address_key: str
    limit: int
    window_minutes: int


def arrival(request: web.Request, secret: bytes, config: WebConfig) -> Arrival:
    address = client_address(request, config.client_address_header)
    return Arrival(secret, address_key(secret, address), config.new_residents_per_address,
                   config.new_residents_window_minutes)  # fmt: skip


def address_key(secret: bytes, address: str) -> str:
    """What is stored for an address: a keyed hash, useless without the secret."""
    return _mac(secret, address, b"needsfirst-address:")[:64]


@dataclass(frozen=True)
class NewcomerPlace:
    """A place held for a visitor who may become a resident (`id` None: no limit is set)."""

    id: int | None


def hold_newcomer_place(session: Session, *, key: str, limit: int,
                        window_minutes: int) -> NewcomerPlace | None:  # fmt: skip
    """A place for one more new resident from an address, or None when it already brought
    `limit` in the window (0: no limit). Arrivals are kept for a day, the longest window."""
    if limit <= 0:
        return NewcomerPlace(None)
    now = utcnow()
    held = web_devices.reserve_newcomer(
        session=session, address=key, at=now, since=now - timedelta(minutes=window_minutes),
        limit=limit, forget_before=now - timedelta(days=1),
    )  # fmt: skip
    return None if held is None else NewcomerPlace(held)


def give_back(session: Session, place: NewcomerPlace) -> None:
    """The visitor did not become a resident: the place is free again."""
    if place.id is not None:
        web_devices.release_newcomer(session=session, place_id=place.id)
