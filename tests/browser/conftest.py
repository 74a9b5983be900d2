"""Browser tests: the real aiohttp server on a loopback port, driven by Debian's Chromium.

Playwright's own browser download does not work here, so the tests launch
/usr/bin/chromium. Without it they skip, unless NEEDSFIRST_REQUIRE_BROWSER=1
(as in CI), where a missing browser stops the run (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, missing_browser
from tests.browser.live import LiveServer
from tests.web_helpers import web_config


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problem = missing_browser()
    if problem is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {problem}"))


@pytest.fixture
async def server(sqlite_db: Engine) -> AsyncIterator[LiveServer]:
    load_consultation(sqlite_db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    live = LiveServer(sqlite_db, web_config())
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()
