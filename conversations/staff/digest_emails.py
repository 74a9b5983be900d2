"""Officers' digests by email as stored: a row per digest and address, claimed before
Notify is called and recorded after, so that no officer is emailed a digest twice.

A row is "sending" from its claim until Notify's answer is recorded. One left so (the
process stopped, or the answer was lost on the way back) is not sent again blindly:
the sender first asks Notify whether it holds a message with the row's reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from conversations.storage.models import DigestEmail, utcnow

MAX_ATTEMPTS = 3  # calls to Notify for one row before it is given up as failed


@dataclass(frozen=True)
class EmailClaim:
    email_id: int
    digest_id: int
    address: str

    @property
    def reference(self) -> str:
        """Notify's reference for the message: how a lost answer is looked up."""
        return f"digest-{self.digest_id}-email-{self.email_id}"


def _claim_of(row: DigestEmail) -> EmailClaim:
    assert row.id is not None
    return EmailClaim(row.id, row.digest_id, row.address)


def pending(*, session: Session, digest_id: int) -> list[int]:
    """A digest's emails not yet sent, by id."""
    return [
        i
        for i in session.exec(
            select(DigestEmail.id)
            .where(DigestEmail.digest_id == digest_id, DigestEmail.state == "pending")
            .order_by(col(DigestEmail.id))
        ).all()
        if i is not None
    ]


def claim(*, session: Session, email_id: int) -> EmailClaim | None:
    """Mark one pending email as being sent (committed before Notify is called)."""
    row = session.get(DigestEmail, email_id, with_for_update=True)
    if row is None or row.state != "pending":
        return None
    if row.attempts >= MAX_ATTEMPTS:
        row.state, row.updated_at = "failed", utcnow()
        session.add(row)
        return None
    row.state, row.attempts, row.updated_at = "sending", row.attempts + 1, utcnow()
    session.add(row)
    return _claim_of(row)


def record(*, session: Session, email_id: int, state: str, notify_id: str | None = None) -> None:
    """The call's outcome: sent (with Notify's id), failed, or pending (not accepted:
    Notify said wait, or it holds no such message)."""
    row = session.get(DigestEmail, email_id, with_for_update=True)
    if row is None or row.state != "sending":
        return
    row.state, row.notify_id, row.updated_at = state, notify_id, utcnow()
    session.add(row)


def unsettled(*, session: Session, digest_id: int, before: datetime) -> list[EmailClaim]:
    """A digest's emails claimed before `before` whose outcome was never recorded."""
    rows = session.exec(
        select(DigestEmail).where(
            DigestEmail.digest_id == digest_id,
            DigestEmail.state == "sending",
            col(DigestEmail.updated_at) < before,
        )
    ).all()
    return [_claim_of(row) for row in rows]


def states(*, session: Session, digest_id: int) -> dict[str, str]:
    """address -> state, for a digest (the tests' and the command line's view)."""
    return {
        row.address: row.state
        for row in session.exec(select(DigestEmail).where(DigestEmail.digest_id == digest_id))
    }
