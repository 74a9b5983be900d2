"""Evidence packs in real Chromium: the dashboard's Evidence packs tab, a theme's pack and
the whole consultation's, each checked with axe-core (WCAG 2.2 AA) and screenshotted.

The pack is a page of its own (no dashboard frame, no scripts, nothing fetched): it is
also read with the network watched, and printed to check its print styles apply."""

from __future__ import annotations

from typing import Any

from tests.browser.live import LiveServer
from tests.browser.test_browser import DESKTOP, PHONE, check
from tests.browser.test_dashboard_pages import signed_in
from tests.pack_seed import seed_pack
from tests.web_helpers import OFFICER


async def test_an_officer_reads_and_prints_the_evidence_packs(
    server: LiveServer, browser: Any
) -> None:
    seeded = seed_pack(server.db, load=False)
    page = await signed_in(server, browser, OFFICER, DESKTOP)
    await page.get_by_role("link", name="What would make life better in Riverside?").first.click()
    await page.get_by_role("link", name="Evidence packs").click()
    await page.get_by_role("heading", name="Evidence packs", level=1).wait_for()
    await check(page, "staff-packs")
    table = page.get_by_role("table", name="Reviewed themes and their evidence packs")
    assert await table.get_by_role("row").count() == 4  # a header and three themes
    await page.set_viewport_size(PHONE)
    await check(page, "staff-packs-phone")
    await page.set_viewport_size(DESKTOP)

    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    await page.locator(f'a[href="/staff/c/example/pack/{seeded.buses}.html"]').click()
    await page.get_by_role("heading", name="The need in residents' own words").wait_for()
    await check(page, "pack-theme")
    assert await page.locator("h1").count() == 1 and await page.locator("script").count() == 0
    images = page.get_by_role("img")
    assert await images.count() == 3
    for index in range(await images.count()):
        image = images.nth(index)
        assert any(c.isdigit() for c in await image.get_attribute("alt") or "")
        assert await image.evaluate("i => i.complete && i.naturalWidth > 0")
    away = [u for u in fetched if not u.startswith((server.url, "data:"))]
    assert away == []
    await page.emulate_media(media="print")
    assert await page.evaluate("window.matchMedia('print').matches")
    await check(page, "pack-theme-print")
    await page.emulate_media(media="screen")

    await page.goto(f"{server.url}/staff/c/example/pack/all.html")
    await page.get_by_role("heading", name="Needs that cut across services").wait_for()
    await check(page, "pack-whole")
    breaks = await page.locator("section.theme-brief").count()
    assert breaks == 3
    await page.context.close()


async def test_an_officer_builds_a_digest_with_its_evidence_pack(
    server: LiveServer, browser: Any
) -> None:
    seed_pack(server.db, load=False)
    page = await signed_in(server, browser, OFFICER, PHONE)
    await page.get_by_role("link", name="Digests", exact=True).click()
    await page.get_by_role("heading", name="Build a digest now").wait_for()
    await page.get_by_label("With the evidence pack").check()
    await check(page, "staff-digests-with-pack-phone")
    await page.get_by_role("button", name="Build a digest now").click()
    await page.get_by_text("The digest is built").wait_for()
    await check(page, "staff-digests-built-with-pack-phone")
    await page.set_viewport_size(DESKTOP)
    archive = page.get_by_role("region", name="The archive")
    async with page.expect_download() as downloading:
        await archive.get_by_role("link", name="Evidence pack (PDF)").click()
    download = await downloading.value
    assert download.suggested_filename.startswith("evidence-example-all-")
    assert download.suggested_filename.endswith(".pdf")
    await page.context.close()
