"""Sign-in by email, for staff who are not on Telegram: /staff/login asks for an address.

An address in [staff] *_emails is sent a one-time link through GOV.UK Notify (the
mailer bot.app passes in; the web front itself imports no other channel). The page
answers the same, at once, whether or not the address is staff, and whether or not a
link went: the email is sent after the answer, so neither the words nor the time
taken tell anyone which addresses are staff. Each address gets at most
LINKS_PER_ADDRESS links in 15 minutes (counted in the database, across workers and
restarts); each client address at most PER_CLIENT requests in that time (counted in
this process: it stops one client hammering the form, which is all it needs to do).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.actions.staff_access import LOGIN_LIFETIME, email_sign_in_link
from bot.web.devices import client_address
from bot.web.guards import sign_in_form
from bot.web.keys import CONFIG_KEY, ENGINE_KEY, ROSTER_KEY, SIGN_IN_MAILER_KEY
from bot.web.templating import render

log = logging.getLogger(__name__)
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
PER_CLIENT = 10
WINDOW = LOGIN_LIFETIME.total_seconds()
# (address, link) -> sent; raises when Notify refuses or cannot be reached.
SignInMailer = Callable[[str, str], Awaitable[None]]
REQUESTS_KEY = web.AppKey("sign_in_requests", dict[str, deque[float]])
PENDING_KEY = web.AppKey("sign_in_emails", set[asyncio.Task[None]])


def add_routes(app: web.Application) -> None:
    app[REQUESTS_KEY] = {}
    app[PENDING_KEY] = set()
    app.router.add_get("/staff/login", ask_page)
    app.router.add_post("/staff/login", ask)


async def ask_page(request: web.Request) -> web.Response:
    return _page(request, on=_mailer(request) is not None)


def _page(request: web.Request, *, status: int = 200, on: bool = True, sent: bool = False,
          error: str = "", email: str = "") -> web.Response:  # fmt: skip
    response = render(request, "staff/email_sign_in.html", status=status, lang="en", sent=sent,
                      error=error, email=email, on=on)  # fmt: skip
    # The form's POST must carry this site's Origin (no-referrer would send "null").
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@sign_in_form
async def ask(request: web.Request) -> web.Response:
    """Send a staff address a link; answer every address alike."""
    mailer = _mailer(request)
    address = str((await request.post()).get("email", "")).strip()
    if mailer is None:
        return _page(request, status=404, on=False)
    if not EMAIL.match(address) or len(address) > 254:
        return _page(request, status=400, email=address[:254],
                     error="Enter your work email address, like name@council.gov.uk.")  # fmt: skip
    if not _within_limit(request):
        return _page(request, status=429, email=address,
                     error="Too many sign-in requests from here: wait 15 minutes and try again.")  # fmt: skip
    task = asyncio.create_task(_send_link(request.app, mailer, address))
    pending = request.app[PENDING_KEY]
    pending.add(task)
    task.add_done_callback(pending.discard)
    return _page(request, sent=True, email=address)


def _mailer(request: web.Request) -> SignInMailer | None:
    found = request.app.get(SIGN_IN_MAILER_KEY)
    return found if callable(found) else None


def _within_limit(request: web.Request) -> bool:
    client = client_address(request, request.app[CONFIG_KEY].web.client_address_header)
    now = time.monotonic()
    seen = request.app[REQUESTS_KEY].setdefault(client, deque())
    while seen and seen[0] <= now - WINDOW:
        seen.popleft()
    if len(seen) >= PER_CLIENT:
        return False
    seen.append(now)
    return True


async def _send_link(app: web.Application, mailer: SignInMailer, address: str) -> None:
    link = await asyncio.to_thread(
        email_sign_in_link, app[ENGINE_KEY], app[CONFIG_KEY], app[ROSTER_KEY], address
    )
    if link is None:
        return  # not staff, or enough links lately: nothing is said either way
    try:
        await mailer(address, link)
    except Exception:
        log.exception("a sign-in link could not be emailed")


async def finish_sending(app: web.Application) -> None:
    """On shutdown: links being emailed go before the service stops."""
    pending = list(app.get(PENDING_KEY, ()))
    if pending:
        await asyncio.wait(pending, timeout=30)
