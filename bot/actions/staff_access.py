"""Staff access to the web dashboard: one-time sign-in links, minted for any front.

The Telegram /login command and `needsfirst login` hand a link out; the web
front (bot/web/auth.py) redeems it for a session. A link lasts 15 minutes and
works once; only hashes of tokens are stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.staff_roster import StaffRoster
from bot.config import Config, staff_roles
from conversations.storage import staff_sessions
from conversations.storage.models import utcnow

LOGIN_LIFETIME = timedelta(minutes=15)


class NotStaff(ValueError):
    """The id is not configured as staff in [staff]."""


def new_token() -> str:
    """A fresh unguessable token (256 bits), safe in URLs and cookies."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored in place of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


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
        staff_sessions.add_login(session=session, token_hash=token_hash(token), staff_id=staff_id,
                                 created_at=now, expires_at=now + LOGIN_LIFETIME)  # fmt: skip
    return f"{public_base_url(config)}/staff/login/{token}"
