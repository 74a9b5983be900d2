"""The digest's HTML in headless Chromium: self-contained, accessible (axe, WCAG 2.2 AA), printable.

Skips without /usr/bin/chromium, unless NEEDSFIRST_REQUIRE_BROWSER=1 (as in CI): conftest.py.
Screenshots go to test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.digests import build
from conversations.residents.service import ConversationService
from conversations.storage.models import utcnow
from tests.browser.axe import audit, described
from tests.browser.live import SCREENSHOTS
from tests.digest_sample import sample_digest
from tests.example_consultation import seed


@pytest.fixture
async def page(browser: Any) -> Any:
    context = await browser.new_context(viewport={"width": 1000, "height": 900})
    return await context.new_page()


async def show(page: Any, html: str, name: str) -> dict[str, Any]:
    """Open the page with the network refused, screenshot it, and run axe."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await page.set_content(html, wait_until="load")
    assert [r for r in requests if not r.startswith(("data:", "about:"))] == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    return await audit(page, name)


async def test_the_sample_digest_reads_well(page: Any) -> None:
    from analysis.digest import render_html

    summary = await show(page, render_html(sample_digest()), "digest-sample")
    assert summary["violations"] == [], described(summary)
    assert await page.evaluate("document.documentElement.lang") == "en"
    assert await page.locator("h1").count() == 1
    images = page.locator("figure img")
    assert await images.count() == 4  # sizes, trend, area and age band coverage
    for index in range(await images.count()):
        image = images.nth(index)
        assert len(await image.get_attribute("alt") or "") > 40
        assert await image.evaluate("i => i.complete && i.naturalWidth > 0")
    assert await page.locator("th[scope=col]").count() >= 10
    channels = page.get_by_role("table", name="By channel")
    assert await channels.get_by_role("rowheader", name="Web chat").count() == 1
    await page.emulate_media(media="print")
    pdf_ready = await page.evaluate("window.matchMedia('print').matches")
    assert pdf_ready


async def test_a_built_digest_reads_well(page: Any, sqlite_db: Engine) -> None:
    load_consultation(sqlite_db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    seed(ConversationService(sqlite_db), "a")
    end = utcnow() + timedelta(minutes=1)
    documents, _ = build(
        sqlite_db, "example", start=end - timedelta(days=7), end=end, zone=ZoneInfo("Europe/London")
    )
    summary = await show(page, documents.html, "digest-built")
    assert summary["violations"] == [], described(summary)
    text = await page.locator("main").inner_text()
    assert "What residents need" in text and "Who is and is not being heard" in text
    assert re.search(r"Answers given\s+120", text)
