"""Telegram out of reach at start-up (no network, a wrong base_url, the Bot API down):
the web chat, dashboard and scheduler start anyway, the bot is retried with growing
pauses, and /healthz and the dashboard say so. `digest --send` ends with a clear message."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import aiohttp
from sqlalchemy import Engine

from bot.actions.consultations import EXAMPLE_SCRIPT
from bot.app import Service, prepare_database
from tests.command_line import needsfirst
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_harness import TOKEN, bot_config, expect
from tests.test_restart import free_port, start_service
from tests.web_helpers import ADMIN, sign_in, web_client, web_config


async def health(service: Service) -> tuple[int, dict[str, str]]:
    assert service.runner is not None
    host, port = service.runner.addresses[0][:2]
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{host}:{port}/healthz") as response,
    ):
        return response.status, await response.json()


async def test_the_service_starts_without_telegram_and_connects_when_it_answers(
    db_url: str,
) -> None:
    fake = FakeBotAPI()
    await fake.start()
    config = bot_config(fake, db_url)  # its address, which refuses connections once stopped
    port = fake.port
    await fake.stop()
    db = prepare_database(config)
    service = Service(config, db, telegram_retry=(0.2,))
    try:
        await asyncio.wait_for(service.start(), 30)  # no traceback, no wait for Telegram
        assert service.scheduler is not None  # the scheduler runs without Telegram
        status, body = await health(service)
        assert status == 200 and body["status"] == "degraded", body
        assert body["telegram"] == "unreachable" and body["database"] == "ok"
        assert "NetworkError" in body["telegram_error"] or "TimedOut" in body["telegram_error"]
        assert service.broadcaster is None  # nothing sends while nobody can be reached

        async with FakeBotAPI(port=port) as back:  # Telegram is back
            ann = back.user(7001)
            for _ in range(100):
                if service.status["telegram"] == "ok":
                    break
                await asyncio.sleep(0.1)
            status, body = await health(service)
            assert (status, body["status"], body["telegram"]) == (200, "ok", "ok"), body
            assert "telegram_error" not in body
            assert service.broadcaster is not None
            await ann.send_command("/start")
            await expect(ann, "Are you happy to take part?", timeout=30)
    finally:
        await service.stop()
        db.dispose()


async def test_a_wrong_base_url_is_shown_and_the_web_still_serves(db_url: str) -> None:
    async with FakeBotAPI() as fake:
        config = bot_config(fake, db_url)
        wrong = replace(config.telegram, base_url=f"{fake.url}/no/such/path/bot")
        config = replace(config, telegram=wrong)
        db = prepare_database(config)
        service = Service(config, db, telegram_retry=(30.0,))
        try:
            await asyncio.wait_for(service.start(), 30)
            status, body = await health(service)
            assert status == 200 and body["telegram"] == "unreachable", body
            assert body["telegram_error"].startswith("InvalidToken"), body
            assert TOKEN not in json.dumps(body)
        finally:
            await service.stop()
            db.dispose()


async def test_the_dashboard_says_telegram_cannot_be_reached(db: Engine) -> None:
    config = web_config()
    status = {"telegram": "unreachable", "telegram_error": "NetworkError: refused",
              "telegram_since": "2026-12-06T00:00:00+00:00", "telegram_next_try": "in 60 s"}  # fmt: skip
    async with web_client(db, config, status=status) as client:
        await sign_in(client, db, config, ADMIN)
        page = await (await client.get("/staff/")).text()
        assert "Telegram cannot be reached" in page and "NetworkError: refused" in page
        status.update(telegram="ok")
        for key in ("telegram_error", "telegram_since", "telegram_next_try"):
            del status[key]
        assert "Telegram cannot be reached" not in await (await client.get("/staff/")).text()


def test_needsfirst_run_serves_the_web_while_telegram_is_down(tmp_path: Path) -> None:
    web_port, closed = free_port(), free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "needsfirst.db"}"\n'
        f'[telegram]\ntoken = "{TOKEN}"\nbase_url = "http://127.0.0.1:{closed}/bot"\n'
        f"[web]\nport = {web_port}\n",
        encoding="utf-8",
    )
    process = start_service(config)
    try:
        body: dict[str, str] = {}
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/healthz") as response:
                    body = json.loads(response.read())
                    break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.1)
        assert body.get("telegram") == "unreachable", body
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/c/example") as page:
            assert page.status == 200  # the web chat works without Telegram
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "Telegram cannot be reached" in stderr


def test_digest_send_says_telegram_cannot_be_reached(
    tmp_path: Path, db_url: str, db: Engine
) -> None:
    closed = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[telegram]\ntoken = "{TOKEN}"\n'
        f'base_url = "http://127.0.0.1:{closed}/bot"\n[staff]\nofficers = [22]\n',
        encoding="utf-8",
    )
    loaded = needsfirst(config, "consultation", "load", str(EXAMPLE_SCRIPT))
    assert loaded.returncode == 0, loaded.stderr
    result = needsfirst(config, "digest", "example", "--send")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "Telegram cannot be reached" in result.stderr and "not sent" in result.stderr
