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

from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.staff_access import LOGIN_LIFETIME, actor_of, new_token, token_hash
from bot.web.keys import ENGINE_KEY, ROSTER_KEY
from bot.web.templating import render
from conversations.storage import staff_sessions
from conversations.storage.models import StaffSession, utcnow

SESSION_LIFETIME = timedelta(hours=8)
COOKIE = "nf_staff"


@dataclass(frozen=True)
class Staff:
    """Who is signed in, what they may do, and the CSRF token for their forms."""

    staff_id: int | str  # a Telegram user id, or an email address
    roles: frozenset[str]
    csrf: str

    @property
    def actor(self) -> str:
        return actor_of(self.staff_id)

    def can(self, role: str) -> bool:
        return role in self.roles


def link_holder(db: Engine, token: str) -> int | str | None:
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
    roles = request.app[ROSTER_KEY].roles(found.holder) if found else set()
    if found is None or not roles:
        raise web.HTTPUnauthorized(
            text=render(request, "staff/signed_out.html", lang="en", signed_out=False).text,
            content_type="text/html",
            headers={"WWW-Authenticate": 'OneTimeLink realm="Needs First dashboard"'},
        )
    return Staff(found.holder, frozenset(roles), found.csrf_token)


async def allowed(request: web.Request, role: str) -> Staff:
    """Signed in with `role`; 403 for a signed-in member without it."""
    staff = await signed_in(request)
    if not staff.can(role):
        raise web.HTTPForbidden(text=f"this needs the {role} role")
    return staff
