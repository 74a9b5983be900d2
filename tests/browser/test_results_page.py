"""Real Chromium: the public results page, in English and Welsh, reached from a closed chat.

Each page is checked with axe-core's WCAG 2.2 AA rules (zero violations) and saved
as a screenshot in test-artifacts/screenshots/. The page carries no script of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.actions.decision_status import set_status
from tests.browser.live import LiveServer
from tests.browser.test_browser import DESKTOP, PHONE, check
from tests.test_results_page import DECIDED, consulted, decided_on


async def test_the_results_page_reads_well_in_both_languages(
    server: LiveServer, browser: Any
) -> None:
    texts = await asyncio.to_thread(consulted, server.db)
    decision = await asyncio.to_thread(decided_on, server.db)
    await asyncio.to_thread(set_status, server.db, "example", decision, "under_way",
                            note="Funding agreed for 2027", actor="test")  # fmt: skip
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    # A resident whose round has closed finds the way from the chat.
    await page.goto(f"{server.url}/c/example")
    await check(page, "chat-closed-with-results-link")
    await page.get_by_role("link", name="read the results").click()
    await page.wait_for_load_state()
    assert page.url == f"{server.url}/c/example/results"
    await check(page, "results-en-phone")
    main = await page.locator("main").inner_text()
    assert texts["bus"] in main and DECIDED in main and "[phone]" in main
    assert "Progress: Under way (since " in main and "Funding agreed for 2027" in main
    assert await page.locator("h1").count() == 1
    assert await page.locator("script").count() == 0
    await page.get_by_role("link", name="Cymraeg").click()
    await page.wait_for_load_state()
    assert await page.evaluate("document.documentElement.lang") == "cy"
    welsh = await page.locator("main").inner_text()
    assert "Fe ddywedoch chi" in welsh and "Cynnydd: Ar y gweill (ers " in welsh
    await check(page, "results-cy-phone")
    await page.set_viewport_size(DESKTOP)
    await check(page, "results-cy-desktop")
    await context.close()
