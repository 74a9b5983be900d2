"""Real Chromium on the dashboard's later pages: themes (rename, merge) and broadcasts.

As in test_browser.py, every page is checked with axe-core's WCAG 2.2 AA rules and
saved as a screenshot in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from bot.actions.staff_access import create_login_link
from conversations.staff import broadcast_recipients, themes
from conversations.storage.models import AnalysisRun, Broadcast, ThemeEdit
from tests.browser.live import LiveServer
from tests.browser.test_browser import DESKTOP, PHONE, check, press
from tests.web_helpers import FACILITATOR, OFFICER
from tests.web_seed import QUIET_NORTH, seed_answers, seed_themes

NEW_NAME = "Late buses <b>after shifts</b>"


async def signed_in(
    server: LiveServer, browser: Any, staff_id: int, viewport: dict[str, int]
) -> Any:
    context = await browser.new_context(viewport=viewport, locale="en-GB")
    context.set_default_timeout(15_000)
    page = await context.new_page()
    link = create_login_link(server.db, server.config, staff_id)
    await page.goto(link.replace("http://127.0.0.1:8080", server.url))
    await press(page, "Sign in")
    await page.get_by_role("heading", name="Consultations").wait_for()
    return page


async def test_an_officer_renames_a_theme_and_merges_two(server: LiveServer, browser: Any) -> None:
    run = seed_themes(server.db)
    with Session(server.db) as session:
        ranked = [t.theme_id for t in themes.themes_of_run(session=session, run_id=run.run.id or 0)]
    largest, second, smallest = ranked
    page = await signed_in(server, browser, OFFICER, DESKTOP)
    await page.get_by_role("link", name="Themes", exact=True).click()
    await check(page, "staff-themes-index")
    await page.get_by_role("link", name="What would make life better in Riverside?").click()
    await page.get_by_role("heading", name="Themes by size").wait_for()
    await check(page, "staff-themes")

    await page.locator(f"#theme-{smallest} summary").click()
    await page.get_by_label(f"New name for theme {smallest}").fill(NEW_NAME)
    await page.locator(f"#theme-{smallest}").get_by_role("button", name="Rename").click()
    await page.get_by_text("The theme has its new name").wait_for()
    heading = page.locator(f"#theme-{smallest} h3")
    assert await heading.inner_text() == NEW_NAME  # shown as typed: text, not markup

    await page.locator(f"#theme-{second} summary").click()
    await page.get_by_label(f"Merge theme {second} into").select_option(str(largest))
    await page.locator(f"#theme-{second}").get_by_role("button", name="Merge").click()
    await page.get_by_role("heading", name=f"Merge theme {second} into theme {largest}?").wait_for()
    await check(page, "staff-theme-merge-confirm")
    await press(page, f"Yes, merge theme {second}")
    await page.get_by_text("The themes are merged").wait_for()
    assert await page.locator(f"#theme-{second}").count() == 0
    await page.get_by_role("heading", name="Changes by staff").wait_for()
    await check(page, "staff-themes-edited")
    await page.set_viewport_size(PHONE)
    await page.locator(f"#theme-{largest} summary").click()
    await check(page, "staff-themes-phone")
    await page.context.close()

    with Session(server.db) as session:
        edits = session.exec(select(ThemeEdit.action, ThemeEdit.theme_id, ThemeEdit.actor)).all()
        assert sorted(edits) == [
            ("merge", second, f"staff:{OFFICER}"),
            ("rename", smallest, f"staff:{OFFICER}"),
        ]
        assert len(session.exec(select(AnalysisRun)).all()) == 1


async def test_a_facilitator_invites_an_under_heard_group_and_watches_it_go(
    server: LiveServer, browser: Any
) -> None:
    seed_answers(server.db, quiet_north=QUIET_NORTH)
    page = await signed_in(server, browser, FACILITATOR, DESKTOP)
    await page.get_by_role("link", name="What would make life better in Riverside?").click()
    channels = page.get_by_role("table", name="By channel")
    await channels.get_by_role("rowheader", name="Telegram").wait_for()
    await page.get_by_role("link", name=re.compile(r"Invite this group\W+South")).click()
    await page.get_by_role("heading", name="Invite residents").wait_for()
    assert await page.get_by_label("South (Marsh End, Brookvale) (area), under-heard").is_checked()
    await check(page, "staff-broadcast-new")
    await page.get_by_label("Message").fill("Round 1 is open: tell us what would make life better.")
    await press(page, "Preview")
    await page.get_by_role("heading", name="Send it?").wait_for()
    await check(page, "staff-broadcast-preview")
    await press(page, "Send to 2 residents")
    await page.get_by_text("the broadcast is queued").wait_for()
    await page.get_by_text("0 of 2 handled").wait_for()
    await check(page, "staff-broadcast-progress")

    # The sender's work: the page shows it by itself, without a reload.
    with Session(server.db) as session:
        broadcast = session.exec(select(Broadcast)).one()
        assert broadcast.id is not None and broadcast.group_value == "south"
    with Session(server.db) as session, session.begin():
        claimed = broadcast_recipients.claim(session=session, broadcast_id=broadcast.id, limit=10)
        broadcast_recipients.record_many(
            session=session, outcomes={d.recipient_id: "sent" for d in claimed}
        )
        broadcast_recipients.finish_if_done(session=session, broadcast_id=broadcast.id)
    await page.get_by_text("2 of 2 handled").wait_for()
    await page.locator("#progress-announce", has_text="finished").wait_for(state="attached")
    assert await page.get_by_role("button", name="Stop sending").is_hidden()
    await check(page, "staff-broadcast-done")
    await page.get_by_role("link", name="Broadcasts", exact=True).first.click()
    await page.get_by_role("heading", name="Recent broadcasts").wait_for()
    await check(page, "staff-broadcasts")
    await page.context.close()


async def test_an_officer_reads_the_digest_archive(server: LiveServer, browser: Any) -> None:
    from tests.test_web_digests import stored_digest

    seed_themes(server.db)
    digest_id = stored_digest(server.db)
    page = await signed_in(server, browser, OFFICER, DESKTOP)
    await page.get_by_role("link", name="Digests", exact=True).click()
    await page.get_by_role("heading", name="Digests").wait_for()
    await check(page, "staff-digests")
    await page.get_by_role("link", name=re.compile("^Report")).click()
    await page.wait_for_url(f"**/staff/digests/{digest_id}")
    await check(page, "staff-digest-report")
    await page.context.close()


async def test_an_officer_reads_the_priorities(server: LiveServer, browser: Any) -> None:
    from tests.prioritise_helpers import Voter, example_with_themes

    service = example_with_themes(server.db, ["Theme 1", "Theme 2", "Theme 3"])
    for n in range(4):
        Voter(service, f"p{n}").weigh(
            lambda top, bottom: f"t{min(top, bottom)}", lambda theme: "_agree"
        )
    page = await signed_in(server, browser, OFFICER, PHONE)
    await page.goto(f"{server.url}/staff/c/example/priorities")
    await page.get_by_role("heading", name="What residents prioritised").wait_for()
    await check(page, "staff-priorities")
    await page.context.close()


async def test_an_officer_reads_a_themes_answers_and_codes_one(
    server: LiveServer, browser: Any
) -> None:
    run = seed_themes(server.db)
    with Session(server.db) as session:
        largest, second, _ = [
            t.theme_id for t in themes.themes_of_run(session=session, run_id=run.run.id or 0)
        ]
    page = await signed_in(server, browser, OFFICER, DESKTOP)
    await page.goto(f"{server.url}/staff/c/example/themes")
    await (
        page.locator(f"#theme-{second}")
        .get_by_role("button", name=f"Accept theme {second}")
        .click()
    )
    await page.get_by_text("The theme is in the codebook").wait_for()
    await (
        page.locator(f"#theme-{largest}")
        .get_by_role("link", name="Read and code its answers")
        .click()
    )
    await page.get_by_role("heading", name=re.compile(f"^Theme {largest}:")).wait_for()
    await check(page, "staff-theme-answers")
    first = page.locator("ol.answers > li").first
    await first.locator("summary").click()
    await first.get_by_label("Theme", exact=True).select_option(str(second))
    await first.get_by_role("button", name="Code it").click()
    await page.get_by_text("The answer is coded").wait_for()
    await check(page, "staff-theme-answers-coded")
    await page.set_viewport_size(PHONE)
    await check(page, "staff-theme-answers-phone")
    await page.context.close()
