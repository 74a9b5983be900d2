"""Staff sign-in: one-time links, sessions in the database, and the checks on each request.

A link (`/staff/login/<token>`) lasts 15 minutes and works once; following it
shows a "Sign in" button, so that a link previewer that fetches the URL does
not use it up. Signing in creates an 8-hour session whose cookie is HttpOnly,
SameSite=Strict and Secure over https; only hashes of both tokens are stored.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.staff_access import LOGIN_LIFETIME, new_token, public_base_url, token_hash
from bot.web.keys import CONFIG_KEY, ENGINE_KEY, ROSTER_KEY
from bot.web.security import same_token, set_cookie
from bot.web.templating import render, see_other
from conversations.storage import staff_sessions
from conversations.storage.models import StaffSession, utcnow

SESSION_LIFETIME = timedelta(hours=8)
COOKIE = "nf_staff"


@dataclass(frozen=True)
class Staff:
    """Who is signed in, what they may do, and the CSRF token for their forms."""

    staff_id: int
    roles: frozenset[str]
    csrf: str

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_id}"

    def can(self, role: str) -> bool:
        return role in self.roles


def link_holder(db: Engine, token: str) -> int | None:
    """Whose unused, unexpired sign-in link this is (without using it), or None."""
    with Session(db) as session:
        return staff_sessions.login_holder(
            session=session, token_hash=token_hash(token), now=utcnow()
        )


def redeem_login(db: Engine, token: str) -> tuple[str, str] | None:
    """Use a link up (atomically, so it works once) and open a session: (cookie, csrf)."""
    now = utcnow()
    with Session(db) as session, session.begin():
        staff_id = staff_sessions.use_login(session=session, token_hash=token_hash(token), now=now)
        if staff_id is None:
            return None
        cookie, csrf = new_token(), new_token()
        staff_sessions.open_session(session=session, token_hash=token_hash(cookie), staff_id=staff_id,
                                    csrf_token=csrf, created_at=now,
                                    expires_at=now + SESSION_LIFETIME)  # fmt: skip
        # Expired sessions and used or stale links are of no further use to anyone.
        staff_sessions.prune(session=session, now=now, links_expired_before=now - LOGIN_LIFETIME)
    return cookie, csrf


def session_of(db: Engine, cookie: str, now: datetime | None = None) -> StaffSession | None:
    """The live session a cookie belongs to, or None."""
    if not cookie:
        return None
    with Session(db) as session:
        return staff_sessions.live_session(session=session, token_hash=token_hash(cookie),
                                           now=now or utcnow())  # fmt: skip


def end_session(db: Engine, cookie: str) -> None:
    with Session(db) as session, session.begin():
        staff_sessions.end_session(session=session, token_hash=token_hash(cookie))


# --- request checks ---------------------------------------------------------------


async def signed_in(request: web.Request) -> Staff:
    """The signed-in staff member; 401 for anyone else (with how to get a link)."""
    cookie = request.cookies.get(COOKIE, "")
    found = await asyncio.to_thread(session_of, request.app[ENGINE_KEY], cookie)
    roles = request.app[ROSTER_KEY].roles(found.staff_id) if found else set()
    if found is None or not roles:
        raise web.HTTPUnauthorized(
            text=render(request, "staff/signed_out.html", lang="en", signed_out=False).text,
            content_type="text/html",
            headers={"WWW-Authenticate": 'OneTimeLink realm="Needs First dashboard"'},
        )
    return Staff(found.staff_id, frozenset(roles), found.csrf_token)


async def allowed(request: web.Request, role: str) -> Staff:
    """Signed in with `role`; 403 for a signed-in member without it."""
    staff = await signed_in(request)
    if not staff.can(role):
        raise web.HTTPForbidden(text=f"this needs the {role} role")
    return staff


async def acting(request: web.Request, *roles: str) -> tuple[Staff, dict[str, str]]:
    """A form post by staff with one of `roles`, carrying their session's CSRF token."""
    staff = await signed_in(request)
    if not any(staff.can(role) for role in roles):
        raise web.HTTPForbidden(text=f"this needs one of the roles: {', '.join(roles)}")
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    if not same_token(form.get("csrf"), staff.csrf):
        raise web.HTTPForbidden(text="this form has expired: reload the page and try again")
    return staff, form


# --- sign-in and sign-out pages -------------------------------------------------------


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


async def login(request: web.Request) -> web.Response:
    """Use the link and start a session, or say why not (and keep the link when it is good)."""
    if foreign_origin(request):
        # Login CSRF: another site must not sign a browser in to an account of its choosing.
        raise web.HTTPForbidden(text="sign in from the link itself, not from another site")
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


async def logout(request: web.Request) -> web.Response:
    """Sign out: the session is deleted, not only forgotten by the browser."""
    await acting(request, "facilitator", "officer", "admin", "safeguarding")
    await asyncio.to_thread(end_session, request.app[ENGINE_KEY], request.cookies.get(COOKIE, ""))
    response = see_other("/staff/signed-out")
    response.del_cookie(COOKIE, path="/")
    return response
