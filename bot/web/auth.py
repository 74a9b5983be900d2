"""Staff sign-in: one-time links, sessions in the database, and who is signed in.

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
from sqlalchemy import Engine, update
from sqlmodel import Session, col, delete

from bot.actions.staff_roster import StaffRoster
from bot.config import Config, staff_roles
from bot.web.keys import ENGINE_KEY, ROSTER_KEY
from bot.web.security import digest, new_token
from bot.web.templating import render
from conversations.storage.models import StaffLogin, StaffSession, utcnow

LOGIN_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
COOKIE = "nf_staff"


class NotStaff(ValueError):
    """The id is not configured as staff in [staff]."""


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


def public_base_url(config: Config) -> str:
    """Where staff reach the dashboard: [web] public_url, else the host and port served."""
    if config.web.public_url:
        return config.web.public_url.rstrip("/")
    host = config.web.host
    if host in ("0.0.0.0", "::", ""):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.web.port}"


def create_login_link(db: Engine, config: Config, staff_id: int, *,
                      roster: StaffRoster | None = None) -> str:  # fmt: skip
    """A one-time sign-in link for a configured staff member (15 minutes, works once).

    The running service passes its roster, which follows [staff] in the file as it is now."""
    roles = roster.roles(staff_id) if roster is not None else staff_roles(config, staff_id)
    if not roles:
        raise NotStaff(f"{staff_id} is not in [staff] (facilitators, officers or admins)")
    token = new_token()
    now = utcnow()
    with Session(db) as session, session.begin():
        session.add(
            StaffLogin(
                token_hash=digest(token),
                staff_id=staff_id,
                created_at=now,
                expires_at=now + LOGIN_LIFETIME,
            )
        )
    return f"{public_base_url(config)}/staff/login/{token}"


def link_holder(db: Engine, token: str) -> int | None:
    """Whose unused, unexpired sign-in link this is (without using it), or None."""
    with Session(db) as session:
        found = session.get(StaffLogin, digest(token))
        if found is None or found.used_at is not None or found.expires_at <= utcnow():
            return None
        return found.staff_id


def redeem_login(db: Engine, token: str) -> tuple[str, str] | None:
    """Use a link up (atomically, so it works once) and open a session: (cookie, csrf)."""
    now = utcnow()
    with Session(db) as session, session.begin():
        used = session.execute(
            update(StaffLogin)
            .where(
                col(StaffLogin.token_hash) == digest(token),
                col(StaffLogin.used_at).is_(None),
                col(StaffLogin.expires_at) > now,
            )
            .values(used_at=now)
            .returning(col(StaffLogin.staff_id))
        ).first()
        if used is None:
            return None
        cookie, csrf = new_token(), new_token()
        session.add(
            StaffSession(
                token_hash=digest(cookie),
                staff_id=used[0],
                csrf_token=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
        # Expired sessions and used or stale links are of no further use to anyone.
        session.exec(delete(StaffSession).where(col(StaffSession.expires_at) <= now))
        session.exec(delete(StaffLogin).where(col(StaffLogin.expires_at) <= now - LOGIN_LIFETIME))
    return cookie, csrf


def session_of(db: Engine, cookie: str, now: datetime | None = None) -> StaffSession | None:
    """The live session a cookie belongs to, or None."""
    if not cookie:
        return None
    with Session(db) as session:
        found = session.get(StaffSession, digest(cookie))
        if found is None or found.expires_at <= (now or utcnow()):
            return None
        return found


def end_session(db: Engine, cookie: str) -> None:
    with Session(db) as session, session.begin():
        session.exec(delete(StaffSession).where(col(StaffSession.token_hash) == digest(cookie)))


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
