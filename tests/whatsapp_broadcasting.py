"""What the WhatsApp broadcast tests share: residents known on WhatsApp, the templates
on the fake Cloud API, a queued broadcast, and the real sender on the fake."""

from __future__ import annotations

import asyncio
import gc
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime

import aiohttp
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.channels.rate_window import RateWindow
from bot.config import WhatsAppConfig
from bot.whatsapp.channel import WINDOW_SECONDS
from bot.whatsapp.client import CloudApi
from bot.whatsapp.sender import SenderSettings, WhatsAppSender
from conversations.staff import broadcasts
from conversations.storage import store
from conversations.storage.models import (
    BroadcastRecipient,
    ChannelIdentity,
    ConsentRecord,
    Resident,
    utcnow,
)
from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.whatsapp_harness import whatsapp_settings

PUBLIC = "https://needs.example.gov.uk"
MESSAGE = "Round 2 is open.\n\nTell us\twhich needs      matter most."
FLAT = "Round 2 is open. Tell us which needs matter most."
TEMPLATES = {"invitation_template": "needs_invitation", "decision_template": "needs_decision",
             "reminder_template": "needs_reminder"}  # fmt: skip
NUMBERS = itertools.count(1)


def add_templates(fake: FakeWhatsApp) -> None:
    """Each of ours in English and Welsh, with {{1}} the message and {{2}} the link."""
    for name in TEMPLATES.values():
        fake.add_template(name, "en_GB", "Needs First: {{1}} More: {{2}}")
        fake.add_template(name, "cy", "Needs First: {{1}} Rhagor: {{2}}")


def settings(fake: FakeWhatsApp, **changes: object) -> WhatsAppConfig:
    return whatsapp_settings(fake, **{**TEMPLATES, **changes})


def wa_resident(db: Engine, *, language: str = "en", invitations: bool = True,
                channel: str = "whatsapp") -> tuple[int, str]:  # fmt: skip
    """An opted-in resident of the example consultation on WhatsApp: (id, wa_id)."""
    wa_id = f"4477009{next(NUMBERS):05d}"
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug="example")
        someone = Resident(pseudonym=f"p-{wa_id}", language=language, invitations=invitations)
        session.add(someone)
        session.flush()
        assert someone.id is not None and consultation.id is not None
        session.add(ChannelIdentity(resident_id=someone.id, channel=channel,
                                    external_id=wa_id, chat_id=wa_id))  # fmt: skip
        session.add(ConsentRecord(resident_id=someone.id, consultation_id=consultation.id,
                                  version="1", given=True, channel=channel))  # fmt: skip
        return someone.id, wa_id


def queue_broadcast(db: Engine, message: str = MESSAGE) -> int:
    with Session(db, expire_on_commit=False) as session, session.begin():
        draft, _ = broadcasts.draft(session=session, slug="example", message=message,
                                    created_by="test")  # fmt: skip
        assert draft.id is not None
        broadcasts.queue(session=session, broadcast_id=draft.id, actor="test")
        return draft.id


def rows(db: Engine, broadcast_id: int | None = None) -> dict[int, BroadcastRecipient]:
    with Session(db) as session:
        query = select(BroadcastRecipient).order_by(col(BroadcastRecipient.id))
        if broadcast_id is not None:
            query = query.where(BroadcastRecipient.broadcast_id == broadcast_id)
        return {r.resident_id: r for r in session.exec(query).all()}


def open_rows(db: Engine) -> int:
    """WhatsApp rows still to send (other channels' senders are not running here)."""
    with Session(db) as session:
        return len(session.exec(select(BroadcastRecipient.id).where(
            BroadcastRecipient.channel == "whatsapp",
            col(BroadcastRecipient.state).in_(("pending", "sending")),
        )).all())  # fmt: skip


@asynccontextmanager
async def sender_on(db: Engine, fake: FakeWhatsApp, config: WhatsAppConfig, *,
                    now: Callable[[], datetime] = utcnow,
                    **changes: float) -> AsyncIterator[WhatsAppSender]:  # fmt: skip
    """The real sender on the fake, with its own session and rate window."""
    async with aiohttp.ClientSession() as session:
        api = CloudApi(session, base_url=fake.base_url, version=fake.api_version,
                       phone_number_id=fake.phone_number_id,
                       access_token=fake.access_token)  # fmt: skip
        window = RateWindow(config.throughput, WINDOW_SECONDS)
        chosen = SenderSettings(**{"poll_interval": 0.05, **changes})  # type: ignore[arg-type]
        yield WhatsAppSender(db, api, window, config, PUBLIC, chosen, now=now)


async def drain(sender: WhatsAppSender, db: Engine, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Send until no row is left pending or being sent (a held row waits its turn)."""
    async with asyncio.timeout(timeout):
        while True:
            await sender.send_some()
            if not await asyncio.to_thread(open_rows, db):
                return
            await asyncio.sleep(0.05)


@contextmanager
def settled_memory() -> Iterator[None]:
    """The garbage collector as the running service tunes it (bot.app.settle_memory):
    without it, a full collection of the test process's many objects stalls the event
    loop for ~150 ms, and sends paced before the stall reach the fake late, bunched
    with the next second's (a 130429 that the service, so tuned, does not meet)."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
