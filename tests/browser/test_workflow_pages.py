"""Real Chromium through the staff workflow pages: rounds and their schedule, partners'
links with QR codes and a printable poster, a digest built now, a decision with its
preview, and staff shown by name. Each page is checked with axe-core (WCAG 2.2 AA, no
violations) on a desktop and on a phone, as in test_browser.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.config import WhatsAppConfig
from conversations.staff import theme_edits, themes
from conversations.storage.models import Decision, Round
from tests.browser.live import SCREENSHOTS, LiveServer
from tests.browser.test_browser import DESKTOP, PHONE, check, press
from tests.browser.test_dashboard_pages import signed_in
from tests.web_helpers import ADMIN, FACILITATOR, OFFICER, web_config
from tests.web_seed import seed_themes

NAMES = ((FACILITATOR, "Asha Patel (Housing)"), (OFFICER, "Ben Okafor"), (ADMIN, "Chidi Eze"))


@pytest.fixture
async def named(sqlite_db: Engine) -> AsyncIterator[LiveServer]:
    """The example consultation, with staff names, a Telegram bot and a WhatsApp number."""
    load_consultation(sqlite_db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    base = web_config()
    config = replace(
        base,
        staff=replace(base.staff, names=NAMES),
        telegram=replace(base.telegram, bot_username="RiversideSaysBot"),
        whatsapp=WhatsAppConfig(display_number="447700900100"),
    )
    live = LiveServer(sqlite_db, config)
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


async def test_a_facilitator_schedules_rounds_and_prints_a_partner_poster(
    named: LiveServer, browser: Any
) -> None:
    page = await signed_in(named, browser, FACILITATOR, DESKTOP)
    await page.get_by_text("Signed in as Asha Patel (Housing)").wait_for()
    await page.get_by_role("link", name="What would make life better in Riverside?").click()
    await page.get_by_label("Opens").fill("2031-03-01T09:00")
    await page.locator("#next-closes").fill("2031-04-15T17:30")
    await page.locator("#next-kind").select_option("needs")
    await press(page, "Schedule round 2")
    await page.get_by_text("The schedule is saved").wait_for()
    await page.get_by_text("Round 2 is scheduled: opens 2031-03-01 09:00 UTC").wait_for()
    await check(page, "staff-round-schedule")
    await press(page, "Close round 1")
    await page.get_by_text("Close round 1?").wait_for()
    await check(page, "staff-round-close-confirm")
    await press(page, "Yes, close round 1")
    await page.get_by_text("The round is closed").wait_for()
    await page.set_viewport_size(PHONE)
    await check(page, "staff-round-schedule-phone")
    await page.set_viewport_size(DESKTOP)

    await page.get_by_role("link", name="Partner links").click()
    await page.get_by_role("heading", name="Make a link for a partner").wait_for()
    await check(page, "staff-links")
    await page.get_by_label("Partner's short name").fill("Tenants Association")
    await press(page, "Make the link")
    await page.get_by_text("1-40 lower-case letters").wait_for()
    await check(page, "staff-links-refused")
    await page.get_by_label("Partner's short name").fill("tenants")
    await press(page, "Make the link")
    await page.get_by_role("heading", name="Links for tenants").wait_for()
    assert await page.locator("svg.qr[role=img]").count() == 3  # web, Telegram, WhatsApp
    await check(page, "staff-link-source")
    await page.set_viewport_size(PHONE)
    await check(page, "staff-link-source-phone")
    await page.get_by_role("link", name=re.compile("Print a poster.*WhatsApp")).click()
    await page.get_by_role("heading", name="What would make life better in Riverside?").wait_for()
    url = "https://wa.me/447700900100?text=start%20example--tenants"
    await page.get_by_text(url, exact=True).wait_for()
    await check(page, "staff-link-poster-phone")
    await page.set_viewport_size(DESKTOP)
    await check(page, "staff-link-poster")
    # On paper: the poster alone, its QR code large, its address in words.
    await page.emulate_media(media="print")
    assert await page.locator(".site-header").is_hidden()
    assert await page.locator(".staff-nav").is_hidden()
    assert await page.get_by_text("This page prints on one sheet").is_hidden()
    box = await page.locator(".qr-large svg").bounding_box()
    assert box is not None and box["width"] >= 350
    await page.screenshot(path=str(SCREENSHOTS / "staff-link-poster-print.png"), full_page=True)
    pdf = await page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1  # one sheet of A4
    await page.emulate_media(media="screen")

    await page.goto(f"{named.url}/staff/digests")
    await press(page, "Build a digest now")
    await page.get_by_text("Nothing new in the last 7 days").wait_for()
    await check(page, "staff-digests-quiet")
    await page.context.close()
    with Session(named.db) as session:
        found = session.exec(select(Round.number, Round.status).order_by(Round.number)).all()
        assert list(found) == [(1, "closed"), (2, "draft")]


async def test_an_officer_records_a_decision_and_builds_a_digest(
    named: LiveServer, browser: Any
) -> None:
    run = seed_themes(named.db)
    with Session(named.db) as session, session.begin():
        theme = themes.themes_of_run(session=session, run_id=run.run.id or 0)[0]
        theme_id, label = theme.theme_id, theme.label
        theme_edits.confirm(session=session, slug="example", theme_id=theme_id, actor="test")
    page = await signed_in(named, browser, OFFICER, PHONE)
    await page.get_by_role("link", name="What would make life better in Riverside?").click()
    await page.get_by_role("link", name="Decisions").click()
    await page.get_by_role("heading", name="Record a decision").wait_for()
    await check(page, "staff-decisions-new-phone")
    await page.set_viewport_size(DESKTOP)
    await page.locator(f"#theme-{theme_id}").check()
    await page.get_by_label("What was decided", exact=True).fill(
        "The 7pm bus will run until 11pm from January."
    )
    await page.get_by_label("What was decided, in Welsh").fill(
        "Bydd y bws 7pm yn rhedeg tan 11pm o fis Ionawr."
    )
    await press(page, "Preview who will hear it")
    await page.get_by_role("heading", name="Who will hear it").wait_for()
    await check(page, "staff-decision-preview")
    await page.set_viewport_size(PHONE)
    await check(page, "staff-decision-preview-phone")
    send = page.get_by_role("button", name=re.compile(r"^Send to \d+ resident"))
    await send.click()
    await page.get_by_text("The decision is recorded").wait_for()
    await page.get_by_text("by Ben Okafor").wait_for()
    await check(page, "staff-decisions-phone")
    await page.set_viewport_size(DESKTOP)
    await page.get_by_label("Where it stands").select_option("under_way")
    await page.get_by_label("Public note (optional)").fill("Funding agreed for 2027")
    await press(page, "Save the status")
    await page.get_by_text("The status is saved").wait_for()
    await check(page, "staff-decisions")

    await page.get_by_role("link", name="Digests", exact=True).click()
    await check(page, "staff-digests-build")
    await press(page, "Build a digest now")
    await page.wait_for_url(re.compile(r"/staff/digests/\d+$"))
    await check(page, "staff-digest-built")
    await page.context.close()
    with Session(named.db) as session:
        decision = session.exec(select(Decision)).one()
        assert (decision.theme_label, decision.status) == (label, "under_way")


async def test_the_audit_log_names_staff(named: LiveServer, browser: Any) -> None:
    page = await signed_in(named, browser, FACILITATOR, DESKTOP)
    await page.get_by_role("link", name="What would make life better in Riverside?").click()
    await press(page, "Close round 1")
    await press(page, "Yes, close round 1")
    await page.get_by_text("The round is closed").wait_for()
    await page.context.close()
    page = await signed_in(named, browser, ADMIN, PHONE)
    await page.get_by_text("Signed in as Chidi Eze").wait_for()
    await page.get_by_role("link", name="Audit log").click()
    await page.get_by_role("cell", name="Asha Patel (Housing)").first.wait_for()
    await check(page, "staff-audit-names")
    await page.context.close()
