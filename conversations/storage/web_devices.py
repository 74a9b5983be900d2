"""The web chat's devices as stored: which are residents', new residents counted per
address, and the secret the service signs devices with.

The rules (what a device cookie is, how many newcomers an address may bring) are
bot/web/devices.py's; these are the queries it runs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, delete, select, update

from conversations.storage.models import (
    ChannelIdentity,
    ServerSecret,
    WebNewcomer,
    WebTranscriptEntry,
)


def is_residents(*, session: Session, visitor: str) -> bool:
    """Whether a device (the hash of its cookie) is a web resident's."""
    found = session.exec(
        select(ChannelIdentity.id).where(
            ChannelIdentity.channel == "web", ChannelIdentity.external_id == visitor
        )
    ).first()
    return found is not None


def move_web_device(*, session: Session, old: str, new: str) -> None:
    """Give a web resident a new device identity, their page's transcript with it."""
    session.exec(
        update(ChannelIdentity)
        .where(col(ChannelIdentity.channel) == "web", col(ChannelIdentity.external_id) == old)
        .values(external_id=new)
    )
    session.exec(
        update(WebTranscriptEntry).where(col(WebTranscriptEntry.visitor) == old).values(visitor=new)
    )


def server_secret(*, session: Session, name: str) -> str | None:
    """A secret the service generated for itself, if it has one by that name."""
    found = session.get(ServerSecret, name)
    return None if found is None else found.value


def add_server_secret(*, session: Session, name: str, value: str) -> None:
    """Keep a new secret (an IntegrityError at commit if another worker kept one first)."""
    session.add(ServerSecret(name=name, value=value))


def newcomers_since(*, session: Session, address: str, since: datetime) -> int:
    """New residents an address (its keyed hash) brought since a moment."""
    return int(
        session.exec(
            select(func.count())
            .select_from(WebNewcomer)
            .where(WebNewcomer.address == address, col(WebNewcomer.arrived_at) >= since)
        ).one()
    )


def reserve_newcomer(*, session: Session, address: str, at: datetime, since: datetime,
                     limit: int, forget_before: datetime) -> int | None:  # fmt: skip
    """Hold a place for a new resident from an address (its keyed hash), unless it brought
    `limit` since `since` already: the place's id, or None.

    Counting and holding are one step for every worker: on PostgreSQL under a lock on
    the address for the rest of the transaction, so that two requests at once cannot
    both take the last place (SQLite's work is one thread's: bot.database_thread).
    Arrivals before `forget_before` are forgotten on the way."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(func.pg_advisory_xact_lock(func.hashtext(address)).select())
    session.exec(delete(WebNewcomer).where(col(WebNewcomer.arrived_at) < forget_before))
    if newcomers_since(session=session, address=address, since=since) >= limit:
        return None
    place = WebNewcomer(address=address, arrived_at=at)
    session.add(place)
    session.flush()
    return place.id


def release_newcomer(*, session: Session, place_id: int) -> None:
    """Give back a place held for a visitor who did not become a resident after all."""
    session.exec(delete(WebNewcomer).where(col(WebNewcomer.id) == place_id))
