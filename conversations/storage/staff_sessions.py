"""Staff sign-in as stored: one-time links and dashboard sessions, each kept under
the hash of its token (a token itself is never stored).

The rules (how long each lasts, the cookie, who is staff) are bot/web/auth.py's;
these are the queries it runs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, delete, select

from conversations.storage.models import StaffLogin, StaffSession

Holder = int | str  # a Telegram user id, or an email address (staff not on Telegram)


def _identity(holder: Holder) -> dict[str, int | str | None]:
    if isinstance(holder, str):
        return {"staff_id": None, "email": holder.lower()}
    return {"staff_id": holder, "email": None}


def add_login(*, session: Session, token_hash: str, staff_id: Holder, created_at: datetime,
              expires_at: datetime) -> None:  # fmt: skip
    """Keep a new one-time sign-in link."""
    session.add(
        StaffLogin(
            token_hash=token_hash, created_at=created_at, expires_at=expires_at,
            **_identity(staff_id),  # type: ignore[arg-type]
        )
    )  # fmt: skip


def links_since(*, session: Session, email: str, since: datetime) -> int:
    """How many sign-in links an email address was sent since `since`."""
    return int(
        session.exec(
            select(func.count())
            .select_from(StaffLogin)
            .where(StaffLogin.email == email.lower(), col(StaffLogin.created_at) >= since)
        ).one()
    )


def login_holder(*, session: Session, token_hash: str, now: datetime) -> Holder | None:
    """Whose unused, unexpired link this is (without using it), or None."""
    found = session.get(StaffLogin, token_hash)
    if found is None or found.used_at is not None or found.expires_at <= now:
        return None
    return found.holder


def use_login(*, session: Session, token_hash: str, now: datetime) -> Holder | None:
    """Use a link up, in one statement so that it works once: whose it was, or None."""
    used = session.execute(
        update(StaffLogin)
        .where(
            col(StaffLogin.token_hash) == token_hash,
            col(StaffLogin.used_at).is_(None),
            col(StaffLogin.expires_at) > now,
        )
        .values(used_at=now)
        .returning(col(StaffLogin.staff_id), col(StaffLogin.email))
    ).first()
    if used is None:
        return None
    return int(used[0]) if used[0] is not None else str(used[1])


def open_session(*, session: Session, token_hash: str, staff_id: Holder, csrf_token: str,
                 created_at: datetime, expires_at: datetime) -> None:  # fmt: skip
    """Keep a new dashboard session with its CSRF token."""
    session.add(
        StaffSession(
            token_hash=token_hash, csrf_token=csrf_token, created_at=created_at,
            expires_at=expires_at, **_identity(staff_id),  # type: ignore[arg-type]
        )
    )  # fmt: skip


def prune(*, session: Session, now: datetime, links_expired_before: datetime) -> None:
    """Drop expired sessions, and links that expired before `links_expired_before`."""
    session.exec(delete(StaffSession).where(col(StaffSession.expires_at) <= now))
    session.exec(delete(StaffLogin).where(col(StaffLogin.expires_at) <= links_expired_before))


def live_session(*, session: Session, token_hash: str, now: datetime) -> StaffSession | None:
    """The session under this hash, unless it has expired."""
    found = session.get(StaffSession, token_hash)
    if found is None or found.expires_at <= now:
        return None
    return found


def end_session(*, session: Session, token_hash: str) -> None:
    session.exec(delete(StaffSession).where(col(StaffSession.token_hash) == token_hash))
