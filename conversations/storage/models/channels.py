"""What the channels keep: updates handled and pending, the web chat's pages,
its newcomers, and the secret that signs its devices.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from conversations.storage.models.consultations import utcnow


class InboxEntry(SQLModel, table=True):
    """An update already handled, with the replies it produced.

    Keyed by the channel's update id so that a redelivered update is handled once;
    replies are kept until delivered, so a crash between storing and sending
    loses nothing.
    """

    channel: str = Field(primary_key=True, max_length=20)
    update_key: str = Field(primary_key=True, max_length=64)
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    replies_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    handled_at: datetime = Field(default_factory=utcnow, index=True)
    # Which running service handled it: only that one can still be delivering.
    handled_by: str | None = Field(default=None, max_length=32)
    delivered_at: datetime | None = None
    # "abuse" (the text was abusive) or "paused" (told to take a break): see FLAGS.
    flag: str | None = Field(default=None, max_length=10)


class PendingUpdate(SQLModel, table=True):
    """An update fetched from a channel and not yet handled, kept across a crash.

    Telegram forgets an update once the bot confirms it, and python-telegram-bot
    confirms a batch when it asks for the next, before the handlers have run: so
    each batch is written here first, and re-queued after a restart if unhandled.
    """

    channel: str = Field(primary_key=True, max_length=20)
    update_key: str = Field(primary_key=True, max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, index=True)


class WebTranscriptEntry(SQLModel, table=True):
    """One message of a web chat as the resident's browser shows it.

    Telegram keeps a chat's history on the resident's phone; the web chat keeps it
    here, keyed by the hash of the device's cookie (the web ChannelIdentity's
    external_id), and erases it with the resident.
    """

    __table_args__ = (UniqueConstraint("visitor", "update_key", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    visitor: str = Field(max_length=64, index=True)
    update_key: str = Field(max_length=64)
    position: int = 0  # order within one update's messages
    sender: str = Field(max_length=10)  # resident | bot
    text: str = Field(sa_column=Column(Text, nullable=False))
    buttons_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    language: str = Field(default="en", max_length=8)
    created_at: datetime = Field(default_factory=utcnow)


class WebNewcomer(SQLModel, table=True):
    """A new resident arriving in the web chat, by a keyed hash of their address,
    so that one client cannot pose as many residents (kept for a day)."""

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=64, index=True)
    arrived_at: datetime = Field(default_factory=utcnow, index=True)


class ServerSecret(SQLModel, table=True):
    """A secret the service generated for itself, shared by every worker (e.g. the
    key that signs web chat devices when `[web] secret` is not configured)."""

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)
