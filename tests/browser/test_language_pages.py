"""Real Chromium on the notice of answers not themed for their language, and on the list
of them (Urdu, right to left, among them): axe-core's WCAG 2.2 AA rules on both."""

from __future__ import annotations

from typing import Any

from tests.browser.live import LiveServer
from tests.browser.test_browser import DESKTOP, PHONE, check
from tests.browser.test_dashboard_pages import signed_in
from tests.test_web_theme_languages import URDU, seed
from tests.web_helpers import OFFICER


async def test_an_officer_reads_the_answers_not_themed_for_their_language(
    server: LiveServer, browser: Any
) -> None:
    ids = seed(server.db)
    page = await signed_in(server, browser, OFFICER, DESKTOP)
    await page.goto(f"{server.url}/staff/c/example/themes")
    notice = page.locator("#unread-languages")
    await notice.get_by_text(
        "2 answers in Urdu were not themed: themes are found in English only."
    ).wait_for()
    await check(page, "staff-themes-languages")
    await notice.get_by_role("link", name="Read the answers in Urdu").click()
    await page.get_by_role("heading", name="Not themed: answers in Urdu").wait_for()
    for answer_id, text in zip(ids["ur"], URDU, strict=True):
        quote = page.locator(f"#answer-{answer_id} blockquote")
        assert await quote.inner_text() == text
        assert await quote.evaluate("q => getComputedStyle(q).direction") == "rtl"
    assert await page.locator("ol.answers > li").count() == len(URDU)
    await check(page, "staff-theme-answers-urdu")
    await page.set_viewport_size(PHONE)
    await check(page, "staff-theme-answers-urdu-phone")
    await page.context.close()
