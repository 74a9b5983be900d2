"""The Telegram webhook's secret, the health check, security headers and cookie flags."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine

from bot.actions.staff_access import create_login_link
from bot.config import TelegramConfig
from bot.telegram.application import build_application
from bot.web.app import build_web_app
from conversations.residents.service import ConversationService
from conversations.storage.db import make_engine
from tests.web_helpers import SECRET, sign_in, web_client, web_config

UPDATE = {
    "update_id": 1,
    "message": {
        "message_id": 1,
        "date": 0,
        "chat": {"id": 5, "type": "private"},
        "from": {"id": 5, "is_bot": False, "first_name": "Ann"},
        "text": "/start",
    },
}


def telegram_application(db: Engine) -> object:
    config = TelegramConfig(token="123456:TEST", mode="webhook", secret_token=SECRET)
    return build_application(config, ConversationService(db))


async def test_the_webhook_needs_the_secret(db: Engine) -> None:
    application = telegram_application(db)
    queue = application.update_queue  # type: ignore[attr-defined]
    async with web_client(db, telegram=application) as client:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                        {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]}):  # fmt: skip
            response = await client.post("/telegram/webhook", json=UPDATE, headers=headers)
            assert response.status == 403
        assert queue.qsize() == 0
        right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        response = await client.post("/telegram/webhook", json=UPDATE, headers=right)
        assert response.status == 200
        assert queue.qsize() == 1
        assert (await queue.get()).message.text == "/start"
        bad = await client.post("/telegram/webhook", data="[1, 2]", headers=right)
        assert bad.status == 400 and queue.qsize() == 0


async def test_no_configured_secret_means_no_webhook(db: Engine) -> None:
    config = web_config()
    config = type(config)(staff=config.staff, telegram=TelegramConfig(secret_token=""))
    async with web_client(db, config, telegram=telegram_application(db)) as client:
        response = await client.post(
            "/telegram/webhook", json=UPDATE, headers={"X-Telegram-Bot-Api-Secret-Token": ""}
        )
        assert response.status == 403


async def test_health_check(db: Engine) -> None:
    status = {"telegram": "off"}
    async with web_client(db, status=status) as client:
        healthy = await client.get("/healthz")
        assert healthy.status == 200
        assert await healthy.json() == {"status": "ok", "database": "ok", "telegram": "off"}
        status["telegram"] = "failed"
        assert (await client.get("/healthz")).status == 503
    down = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        app = build_web_app(down, web_config())
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/healthz")
            assert response.status == 503
            assert (await response.json())["database"] == "unreachable"
    finally:
        down.dispose()


async def test_security_headers_on_every_response(db: Engine) -> None:
    async with web_client(db) as client:
        responses = [
            await client.get("/"),
            await client.get("/c/example"),
            await client.get("/c/nowhere"),
            await client.get("/static/style.css"),
            await client.get("/healthz"),
            await client.get("/staff/"),
            await client.post("/telegram/webhook", json=UPDATE),
            await client.post("/c/example/send", data={}),
        ]
        for response in responses:
            policy = response.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
            assert "script-src 'self'" in policy and "default-src 'none'" in policy
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "no-referrer"
            assert response.headers["X-Frame-Options"] == "DENY"


async def test_cookie_flags(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        page = await client.get("/c/example")
        device = page.cookies["nf_device"]
        assert device["httponly"] and device["samesite"] == "Lax" and not device["secure"]
        assert len(device.value) >= 40
        await sign_in(client, db, config, 11)
    secure = web_config(public_url="https://consult.example.org")
    async with web_client(db, secure) as client:
        page = await client.get("/c/example")
        assert page.cookies["nf_device"]["secure"]
        assert "max-age=31536000" in page.headers["Strict-Transport-Security"]


async def test_staff_cookie_is_strict_and_http_only(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        path = create_login_link(db, config, 11).removeprefix("http://127.0.0.1:8080")
        response = await client.post(path, allow_redirects=False)
        assert response.status == 303
        cookie = response.cookies["nf_staff"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        assert cookie["max-age"] == str(8 * 3600)


async def test_signing_in_refuses_another_sites_origin(db: Engine) -> None:
    """Login CSRF: another site must not sign a browser in to an account it chose."""
    config = web_config()
    async with web_client(db, config) as client:
        path = create_login_link(db, config, 11).removeprefix("http://127.0.0.1:8080")
        for headers in (
            {"Origin": "https://attacker.example"},
            {"Origin": "null"},  # a sandboxed frame, or a page with no-referrer
            {"Origin": "http://127.0.0.1:8080.attacker.example"},
            {"Origin": "http://["},
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site"},
        ):
            refused = await client.post(path, headers=headers, allow_redirects=False)
            assert refused.status == 403, headers
            assert "nf_staff" not in refused.cookies
        page = await client.get(path)
        # The page's own button sends its Origin (no-referrer would send "null").
        assert page.headers["Referrer-Policy"] == "same-origin"
        own = str(client.make_url("")).rstrip("/")
        signed = await client.post(
            path, headers={"Origin": own, "Sec-Fetch-Site": "same-origin"}, allow_redirects=False
        )
        assert signed.status == 303 and "nf_staff" in signed.cookies


async def test_the_server_header_names_no_version(db: Engine) -> None:
    async with web_client(db) as client:
        for response in (
            await client.get("/"),
            await client.get("/nowhere"),
            await client.get("/static/style.css"),
            await client.get("/healthz"),
        ):
            assert response.headers["Server"] == "Needs First"
