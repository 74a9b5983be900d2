"""Prometheus metrics at /metrics: off by default, a token when one is set, the channels'
counters after real traffic through the fake Bot API, and the database's figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import Service
from bot.config import MetricsConfig
from conversations.storage.models import (
    Broadcast,
    BroadcastRecipient,
    Consultation,
    PendingUpdate,
    Resident,
    SafeguardingFlag,
    utcnow,
)
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_harness import bot_config, complete_example, running_bot
from tests.web_helpers import web_client, web_config

TOKEN = "a-metrics-token-of-some-length"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels (parsed as Prometheus parses it)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_are_off_by_default(db: Engine) -> None:
    async with web_client(db) as client:
        assert (await client.get("/metrics")).status == 404


async def test_a_token_is_asked_for_and_checked(db: Engine) -> None:
    config = replace(web_config(), metrics=MetricsConfig(enabled=True, token=TOKEN))
    async with web_client(db, config) as client:
        assert (await client.get("/metrics")).status == 401
        wrong = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
        assert wrong.status == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
        basic = await client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
        assert basic.status == 401
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status == 200
        assert right.headers["Content-Type"].startswith("text/plain")
        assert value(await right.text(), "needsfirst_database_figures_up") == 1


async def test_the_database_figures_are_read_at_scrape_time(db: Engine) -> None:
    config = replace(web_config(), metrics=MetricsConfig(enabled=True))
    async with web_client(db, config) as client:
        empty = await (await client.get("/metrics")).text()
        assert value(empty, "needsfirst_safeguarding_flags_open") == 0
        assert value(empty, "needsfirst_broadcasts_under_way") == 0
        with Session(db) as session:
            consultation = session.exec(select(Consultation)).one()
            residents = [Resident(pseudonym=f"r{i}") for i in range(5)]
            session.add_all(residents)
            sending = Broadcast(consultation_id=consultation.id, created_by="test",
                                message="Come back", status="sending")  # fmt: skip
            done = Broadcast(consultation_id=consultation.id, created_by="test",
                             message="Old news", status="done")  # fmt: skip
            session.add_all([sending, done])
            session.flush()
            states = ["sent", "sent", "pending", "failed", "pending"]
            session.add_all(
                BroadcastRecipient(broadcast_id=sending.id, resident_id=r.id, state=s)
                for r, s in zip(residents, states, strict=True)
            )
            session.add_all(
                BroadcastRecipient(broadcast_id=done.id, resident_id=r.id, state="sent")
                for r in residents
            )
            an_hour_ago = utcnow() - timedelta(hours=1)
            session.add(
                SafeguardingFlag(categories="self-harm", excerpt="-", raised_at=an_hour_ago)
            )
            session.add(SafeguardingFlag(categories="abuse", excerpt="-", status="acknowledged"))
            session.add_all(
                PendingUpdate(channel="telegram", update_key=str(i), payload="{}") for i in range(3)
            )
            session.commit()
            sending_id = str(sending.id)
        text = await (await client.get("/metrics")).text()
    assert value(text, "needsfirst_broadcasts_under_way") == 1
    figures = {
        state: value(text, "needsfirst_broadcast_recipients", broadcast=sending_id, state=state)
        for state in ("sent", "pending", "failed", "blocked")
    }
    assert figures == {"sent": 2, "pending": 2, "failed": 1, "blocked": 0}
    assert ("needsfirst_broadcast_recipients", (("broadcast", str(int(sending_id) + 1)),
            ("state", "sent"))) not in samples(text)  # fmt: skip  # a finished one is not
    assert value(text, "needsfirst_inbox_unhandled", channel="telegram") == 3
    assert value(text, "needsfirst_inbox_unhandled", channel="whatsapp") == 0
    assert value(text, "needsfirst_safeguarding_flags_open") == 1
    oldest = value(text, "needsfirst_safeguarding_oldest_open_seconds")
    assert 3590 < oldest < 3700, oldest


async def scrape(service: Service, token: str | None = None) -> str:
    assert service.runner is not None
    host, port = service.runner.addresses[0][:2]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{host}:{port}/metrics", headers=headers) as response,
    ):
        assert response.status == 200, response.status
        return await response.text()


async def test_a_conversation_moves_the_telegram_counters(fake: FakeBotAPI, db_url: str) -> None:
    config = replace(bot_config(fake, db_url), metrics=MetricsConfig(enabled=True, token=TOKEN))
    async with running_bot(config) as service:
        before = await scrape(service, TOKEN)
        ann = fake.user(4101, first_name="Ann")
        await complete_example(ann, "The buses stop too early in the evening.")
        after = await scrape(service, TOKEN)
    handled = value(after, "needsfirst_updates_handled_total", channel="telegram") - value(
        before, "needsfirst_updates_handled_total", channel="telegram"
    )
    replies = value(after, "needsfirst_reply_seconds_count", channel="telegram") - value(
        before, "needsfirst_reply_seconds_count", channel="telegram"
    )
    sent_by_ann = 11  # complete_example: /start, 8 presses and 2 typed answers
    assert handled == replies == sent_by_ann, (handled, replies)
    assert value(after, "needsfirst_reply_seconds_sum", channel="telegram") > value(
        before, "needsfirst_reply_seconds_sum", channel="telegram"
    )
    assert value(after, "needsfirst_updates_handled_total", channel="web") == value(
        before, "needsfirst_updates_handled_total", channel="web"
    )
