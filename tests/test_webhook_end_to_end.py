"""Webhook mode end to end: the real service registers its webhook with the (fake) Bot
API, which posts each update to the web server's /telegram/webhook route with the
secret token, as Telegram does; a resident completes the example consultation."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, select

from conversations.storage.db import make_engine
from conversations.storage.models import Answer
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_harness import bot_config, complete_example, running_bot
from tests.test_restart import free_port

SECRET = "webhook-secret-0123456789"


async def test_a_resident_completes_the_example_through_the_webhook(db_url: str) -> None:
    port = free_port()
    async with FakeBotAPI() as fake:
        config = bot_config(fake, db_url, mode="webhook", secret_token=SECRET,
                            webhook_url=f"http://127.0.0.1:{port}/telegram/webhook")  # fmt: skip
        config = replace(config, web=replace(config.web, port=port))
        async with running_bot(config):
            assert fake.webhook_url == f"http://127.0.0.1:{port}/telegram/webhook"
            ann = fake.user(6101, "Ann")
            await complete_example(ann, "The buses stop at 7pm and I cannot get home")
        assert fake.calls_to("getUpdates") == []  # nothing came by polling
        attempts = fake.webhook_attempts
        assert attempts and all(a.status == 200 for a in attempts)  # every update accepted
        assert fake.webhook_failures == []
        # Every reply was delivered: complete_example waited for each. A 429 is possible (this
        # resident answers faster than anyone types) and is waited out by the BudgetLimiter.
        refused = [c for c in fake.calls if c.status not in (200, 429)]
        assert refused == []
    db = make_engine(db_url)
    with Session(db) as session:
        needs = session.exec(select(Answer.value).where(Answer.step_id == "need")).all()
    db.dispose()
    assert needs == ["The buses stop at 7pm and I cannot get home"]
