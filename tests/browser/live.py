"""The browser tests' pieces: where artifacts go, the live server."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from sqlalchemy import Engine

from bot.config import Config
from bot.web.app import build_web_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


class LiveServer:
    """The web application served for real, on a free loopback port."""

    def __init__(self, db: Engine, config: Config, *, sign_in_mailer: object = None) -> None:
        self.db = db
        self.config = config
        app = build_web_app(db, config, sign_in_mailer=sign_in_mailer)
        self.runner = web.AppRunner(app, access_log=None)
        self.url = ""

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        await self.runner.cleanup()
