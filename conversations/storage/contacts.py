"""The contact details residents chose to leave (ResidentContact): kept, read,
removed. Only the residents' rights and the Notify sender read them; nothing in
analysis, digests or exports does."""

from __future__ import annotations

from sqlmodel import Session, col, delete, select

from conversations.storage.models import ResidentContact, utcnow

KINDS = ("sms", "email")


def keep(*, session: Session, resident_id: int, kind: str, address: str) -> None:
    """Keep one address of a kind, replacing the one held before."""
    assert kind in KINDS
    held = session.exec(
        select(ResidentContact).where(
            ResidentContact.resident_id == resident_id, ResidentContact.kind == kind
        )
    ).first()
    if held is None:
        held = ResidentContact(resident_id=resident_id, kind=kind, address=address)
    held.address, held.created_at = address, utcnow()
    session.add(held)


def of_resident(*, session: Session, resident_id: int) -> list[ResidentContact]:
    return list(
        session.exec(
            select(ResidentContact)
            .where(ResidentContact.resident_id == resident_id)
            .order_by(col(ResidentContact.kind))
        ).all()
    )


def remove(*, session: Session, resident_id: int, kind: str | None = None) -> int:
    """Remove one kind of address, or all of them; how many went."""
    query = delete(ResidentContact).where(col(ResidentContact.resident_id) == resident_id)
    if kind is not None:
        query = query.where(col(ResidentContact.kind) == kind)
    return int(session.exec(query).rowcount or 0)
