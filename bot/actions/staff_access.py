"""Staff access to the web dashboard: one-time sign-in links, minted for any front.

The Telegram /login command and `needsfirst login` hand a link out, and staff who
are not on Telegram ask for one by email (`email_sign_in_link`); the web front
(bot/web/auth.py) redeems it for a session. A link lasts 15 minutes and works
once; only hashes of tokens are stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.staff_roster import StaffRoster
from bot.config import Config, staff_roles
from conversations.storage import staff_sessions, store
from conversations.storage.models import utcnow

LOGIN_LIFETIME = timedelta(minutes=15)
LINKS_PER_ADDRESS = 3  # sign-in emails to one address per LOGIN_LIFETIME


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


def actor_of(holder: int | str) -> str:
    """The audit log's name for a member of staff: "staff:<Telegram id>", or
    "staff:email:<address>" for one who signs in by email."""
    return f"staff:email:{holder.lower()}" if isinstance(holder, str) else f"staff:{holder}"


def email_sign_in_link(db: Engine, config: Config, roster: StaffRoster, address: str) -> str | None:
    """A link for a staff address, unless it is not staff or has had LINKS_PER_ADDRESS
    in the last LOGIN_LIFETIME (then None: the caller answers the same either way)."""
    address = address.strip().lower()
    if not roster.roles(address):
        return None
    with Session(db) as session:
        recent = staff_sessions.links_since(
            session=session, email=address, since=utcnow() - LOGIN_LIFETIME
        )
    if recent >= LINKS_PER_ADDRESS:
        return None
    return create_login_link(db, config, address, roster=roster)


def create_login_link(db: Engine, config: Config, staff_id: int | str, *,
                      roster: StaffRoster | None = None) -> str:  # fmt: skip
    """A one-time sign-in link for a configured staff member (15 minutes, works once):
    a Telegram user id, or an email address in [staff] *_emails.

    The running service passes its roster, which follows [staff] in the file as it is now."""
    roles = roster.roles(staff_id) if roster is not None else staff_roles(config, staff_id)
    if not roles:
        raise NotStaff(f"{staff_id} is not in [staff] (facilitators, officers or admins)")
    token = new_token()
    now = utcnow()
    with Session(db) as session, session.begin():
        staff_sessions.add_login(session=session, token_hash=token_hash(token), staff_id=staff_id,
                                 created_at=now, expires_at=now + LOGIN_LIFETIME)  # fmt: skip
        if isinstance(staff_id, str):  # asked for on a public page: worth a line in the log
            store.audit(session=session, actor=actor_of(staff_id), action="staff.sign_in_link",
                        target="dashboard", detail="sent by email")  # fmt: skip
    return f"{public_base_url(config)}/staff/login/{token}"
