"""The sign-in and sign-out pages: a one-time link's button, and signing out.

Following a link shows a "Sign in" button, so that a link previewer that
fetches the URL does not use it up; the button's POST uses the link and sets
the session cookie (bot.web.auth keeps links and sessions).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.web.auth import COOKIE, SESSION_LIFETIME, end_session, link_holder, redeem_login
from bot.web.guards import sign_in_form, staff_form
from bot.web.keys import ENGINE_KEY, ROSTER_KEY
from bot.web.security import set_cookie
from bot.web.templating import render, see_other


def add_routes(app: web.Application) -> None:
    app.router.add_get("/staff/login/{token}", login_page)
    app.router.add_post("/staff/login/{token}", login)
    app.router.add_post("/staff/logout", logout)


async def login_page(request: web.Request) -> web.Response:
    """A one-time link's landing page: a button, so that previewers do not use it up."""
    response = render(request, "staff/login.html", lang="en")
    # The button's POST must carry this site's Origin (no-referrer would send "null").
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@sign_in_form
async def login(request: web.Request) -> web.Response:
    """Use the link and start a session, or say why not (and keep the link when it is good)."""
    token = request.match_info["token"]
    db = request.app[ENGINE_KEY]
    waiting = await asyncio.to_thread(link_holder, db, token)
    roster = request.app[ROSTER_KEY]
    if waiting is not None and not roster.roles(waiting):
        # The link stays unused: once [staff] has this id, the same button works.
        return render(request, "staff/not_staff.html", status=403, lang="en",
                      staff_id=waiting, source=roster.source)  # fmt: skip
    opened = await asyncio.to_thread(redeem_login, db, token)
    if opened is None:
        return render(request, "staff/link_expired.html", status=403, lang="en")
    cookie, _ = opened
    response = see_other("/staff/")
    set_cookie(response, request, COOKIE, cookie, max_age=int(SESSION_LIFETIME.total_seconds()),
               same_site="Strict")  # fmt: skip
    return response


@staff_form("facilitator", "officer", "admin", "safeguarding")
async def logout(request: web.Request) -> web.Response:
    """Sign out: the session is deleted, not only forgotten by the browser."""
    await asyncio.to_thread(end_session, request.app[ENGINE_KEY], request.cookies.get(COOKIE, ""))
    response = see_other("/staff/signed-out")
    response.del_cookie(COOKIE, path="/")
    return response
