"""Safe by default: a request that can change something passes its route's guard first.

Every handler of a POST (or PUT, PATCH, DELETE) route declares what such a
request must show, with one of the decorators below, and the middleware checks
it before the handler runs:

- `staff_form(*roles)`: a signed-in staff member with one of the roles, and the
  session's CSRF token in the form; the handler reads both with `staff_post`.
- `staff_upload(*roles, max_bytes)`: the same, for a form with one file (multipart),
  read up to `max_bytes` past the app's request limit; the file with `staff_file`.
- `resident_form`: a chat device this server issued, and its CSRF token in the
  form; the handler reads the device with `resident_device`.
- `sign_in_form`: a one-time link's button, posted from this site (the link is
  its own credential; another site's Origin is refused, against login CSRF).
- `exempt(reason)`: the handler checks a credential of its own (the webhook's secret).

A route with no declaration is refused (403): a new form that forgets fails closed.
Safe methods (GET, HEAD, OPTIONS) pass; those pages check sign-in themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from aiohttp import BodyPartReader, web
from aiohttp.typedefs import Handler

from bot.actions.staff_access import public_base_url
from bot.web import devices
from bot.web.auth import Staff, signed_in
from bot.web.keys import CONFIG_KEY, DEVICE_KEY
from bot.web.security import same_token

log = logging.getLogger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ATTRIBUTE = "__needsfirst_guard__"

Check = Callable[[web.Request], Awaitable[None]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Guard:
    """What an unsafe request to a route must show: `kind` names it, `check` enforces it."""

    kind: str  # "staff", "resident", "sign-in" or "exempt"
    check: Check
    roles: frozenset[str] = frozenset()
    reason: str = ""


@dataclass(frozen=True)
class StaffPost:
    """A staff form that passed its guard: who sent it, and its text fields."""

    staff: Staff
    form: dict[str, str]


@dataclass(frozen=True)
class StaffFile:
    """The file a `staff_upload` form sent: its name, and its bytes (None: none was
    chosen, or it was larger than the route allows; `too_large` says which)."""

    name: str
    content: bytes | None
    too_large: bool = False


STAFF_POST = web.RequestKey("staff_post", StaffPost)
STAFF_FILE = web.RequestKey("staff_file", StaffFile)
MAX_FIELD = 10_000  # a text field beside the file
RESIDENT_DEVICE = web.RequestKey("resident_device", devices.Device)


def guarded(guard: Guard) -> Callable[[H], H]:
    """Declare the guard of a handler's unsafe requests."""

    def declare(handler: H) -> H:
        setattr(handler, _ATTRIBUTE, guard)
        return handler

    return declare


def guard_of(handler: object) -> Guard | None:
    found = getattr(handler, _ATTRIBUTE, None)
    return found if isinstance(found, Guard) else None


# --- the declarations ------------------------------------------------------------------


def staff_form(*roles: str) -> Callable[[H], H]:
    """A form post by staff with one of `roles`, carrying their session's CSRF token."""

    async def check(request: web.Request) -> None:
        staff = await signed_in(request)
        if not any(staff.can(role) for role in roles):
            raise web.HTTPForbidden(text=f"this needs one of the roles: {', '.join(roles)}")
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        if not same_token(form.get("csrf"), staff.csrf):
            raise web.HTTPForbidden(text="this form has expired: reload the page and try again")
        request[STAFF_POST] = StaffPost(staff, form)

    return guarded(Guard("staff", check, roles=frozenset(roles)))


def staff_upload(*roles: str, max_bytes: int) -> Callable[[H], H]:
    """`staff_form` for a form with one file: the body is streamed, the file read up to
    `max_bytes` (the app's limit on other requests is far lower)."""

    async def check(request: web.Request) -> None:
        staff = await signed_in(request)
        if not any(staff.can(role) for role in roles):
            raise web.HTTPForbidden(text=f"this needs one of the roles: {', '.join(roles)}")
        if request.content_type == "multipart/form-data":
            form, upload = await _multipart(request, max_bytes)
        else:
            form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
            upload = StaffFile("", None)
        if not same_token(form.get("csrf"), staff.csrf):
            raise web.HTTPForbidden(text="this form has expired: reload the page and try again")
        request[STAFF_POST] = StaffPost(staff, form)
        request[STAFF_FILE] = upload

    return guarded(Guard("staff", check, roles=frozenset(roles)))


async def _multipart(request: web.Request, max_bytes: int) -> tuple[dict[str, str], StaffFile]:
    """A multipart form's text fields and its one file, each read to its limit."""
    form: dict[str, str] = {}
    upload = StaffFile("", None)
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is None:
            form[part.name] = (await part.read_chunk(MAX_FIELD)).decode("utf-8", "replace")
            continue
        # Browsers percent-encode a quote or a line break in the name (HTML's form
        # encoding), some clients every byte past ASCII.
        name = unquote(part.filename)
        content = bytearray()
        while chunk := await part.read_chunk():
            content += chunk
            if len(content) > max_bytes:
                return form, StaffFile(name, None, too_large=True)
        upload = StaffFile(name, bytes(content) if content else None)
    return form, upload


async def _resident_check(request: web.Request) -> None:
    """The device that sent a form: one the server issued, with its CSRF token."""
    secret = await request.app[DEVICE_KEY].get()
    device = devices.recognised(secret, request.cookies.get(devices.COOKIE, ""))
    if device is None:
        raise web.HTTPForbidden(text="your session has expired: reload the page and try again")
    if not same_token((await request.post()).get("csrf"), device.csrf):
        raise web.HTTPForbidden(text="this form has expired: reload the page and try again")
    request[RESIDENT_DEVICE] = device


async def _sign_in_check(request: web.Request) -> None:
    if foreign_origin(request):
        # Login CSRF: another site must not sign a browser in to an account of its choosing.
        raise web.HTTPForbidden(text="sign in from the link itself, not from another site")


def foreign_origin(request: web.Request) -> bool:
    """A browser says this POST came from another site (Origin, or Sec-Fetch-Site)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False  # not a browser, or one too old to say; the token is still needed
    # Host (and port) only: behind a TLS-terminating proxy the scheme seen here differs.
    ours = {request.host, urlsplit(public_base_url(request.app[CONFIG_KEY])).netloc}
    try:
        return urlsplit(origin).netloc not in ours  # "null" has none
    except ValueError:  # not a URL at all ("http://[")
        return True


async def _unchecked(request: web.Request) -> None:
    return None


resident_form = guarded(Guard("resident", _resident_check))
sign_in_form = guarded(Guard("sign-in", _sign_in_check))


def exempt(reason: str) -> Callable[[H], H]:
    """No guard here: the handler checks a credential of its own (say which)."""
    return guarded(Guard("exempt", _unchecked, reason=reason))


# --- what a guarded handler reads --------------------------------------------------------


def staff_post(request: web.Request) -> tuple[Staff, dict[str, str]]:
    """The staff member and form that passed a `staff_form` guard."""
    checked = request[STAFF_POST]
    return checked.staff, checked.form


def staff_file(request: web.Request) -> StaffFile:
    """The file a `staff_upload` form sent."""
    return request[STAFF_FILE]


def resident_device(request: web.Request) -> devices.Device:
    """The device that passed a `resident_form` guard."""
    return request[RESIDENT_DEVICE]


# --- the middleware ----------------------------------------------------------------------


@web.middleware
async def guard_unsafe_methods(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run the route's guard before any unsafe request; refuse a route that declares none."""
    if request.method in SAFE_METHODS or request.match_info.http_exception is not None:
        return await handler(request)  # a page, or the router's own 404 or 405
    guard = guard_of(request.match_info.handler)
    if guard is None:
        log.error("refused %s %s: its route declares no guard", request.method, request.path)
        raise web.HTTPForbidden(text="this action is not open to anyone")
    await guard.check(request)
    return await handler(request)
