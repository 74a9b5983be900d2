"""Real Chromium: a resident takes part in the web chat, a facilitator opens a round.

Every page visited is checked with axe-core's WCAG 2.2 AA rules (zero violations)
and saved as a screenshot in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from bot.actions.staff_access import create_login_link
from conversations.storage.models import Answer, Conversation, Round
from tests.browser.live import SCREENSHOTS, LiveServer
from tests.web_helpers import ADMIN, FACILITATOR

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1100, "height": 900}


async def check(page: Any, name: str) -> None:
    """No axe violations on the page as it is now; keep a screenshot of it."""
    from tests.browser.axe import audit, described

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    summary = await audit(page, name)
    assert summary["violations"] == [], f"{name}:\n{described(summary)}"


async def press(page: Any, label: str) -> None:
    await page.get_by_role("button", name=label, exact=False).first.click()
    await page.wait_for_load_state()


async def test_a_resident_completes_the_consultation_in_the_web_chat(
    server: LiveServer, browser: Any
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="en-GB")
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page.goto(f"{server.url}/")
    await check(page, "front")
    await page.get_by_role("link", name=re.compile("Take part on this website")).click()
    await page.goto(f"{server.url}/c/example/tenants")
    await check(page, "chat-start")
    await press(page, "Take part")
    await check(page, "chat-consent")
    # Keyboard only for the consent: Tab to the first choice, Enter to press it.
    first_choice = page.locator("form.choices button").first
    await first_choice.focus()
    await page.keyboard.press("Enter")
    await page.wait_for_load_state()
    await press(page, "North")
    await press(page, "35 to 64")
    await check(page, "chat-question")
    answer = "The last bus is at 7pm 🚌 — والحافلة الأخيرة في السابعة <b>not bold</b>"
    await page.get_by_label("Type your answer").fill(answer)
    await press(page, "Send")
    await press(page, "My family")
    await press(page, "Done")
    await page.get_by_label("Type your answer").fill("I could get to work on time.")
    await page.get_by_label("Type your answer").press("Control+Enter")  # chat.js sends it
    await page.wait_for_load_state()
    await press(page, "that's right")
    await press(page, "No")
    await press(page, "No, that's all")
    await page.get_by_text("Thank you for taking part").first.wait_for()
    shown = page.locator("li.from-resident p.text", has_text="The last bus")
    assert await shown.inner_text() == answer  # shown as typed: text, not markup
    assert await shown.get_attribute("dir") == "auto"
    await check(page, "chat-done")
    # The end offers a way to hear back; keeping a number leads to "your data".
    await page.get_by_label("Mobile number or email address").fill("07911 123456")
    await press(page, "Keep it")
    await page.get_by_role("heading", name="Your data").wait_for()
    await page.get_by_text("+447911123456").wait_for()
    await check(page, "my-data")
    await page.get_by_role("link", name="Back to the conversation").click()
    await press(page, "Cymraeg")
    assert await page.locator("html").get_attribute("lang") == "cy"
    await check(page, "chat-welsh")
    await context.close()
    with Session(server.db) as session:
        conversation = session.exec(select(Conversation)).one()
        assert conversation.completed_at is not None and conversation.source == "tenants"
        needs = session.exec(select(Answer.value).where(Answer.step_id == "need")).all()
        assert needs == [answer]


async def test_the_chat_works_without_javascript_on_a_wide_screen(
    server: LiveServer, browser: Any
) -> None:
    context = await browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page.goto(f"{server.url}/c/example")
    await press(page, "Take part")
    await press(page, "happy to take part")
    await press(page, "Prefer not to say")
    await press(page, "Prefer not to say")
    long_answer = "Nothing works here. " * 150
    await page.get_by_label("Type your answer").fill(long_answer)
    await press(page, "Send")
    await page.get_by_text("Who else does this affect?").first.wait_for()
    # A very long answer wraps; it does not widen the page. (No page scripts run here,
    # so the box comes from the browser's layout, and axe runs in the other tests.)
    box = await page.locator("li.from-resident").last.bounding_box()
    assert box is not None and box["x"] + box["width"] <= DESKTOP["width"]
    await page.screenshot(path=str(SCREENSHOTS / "chat-no-javascript.png"), full_page=True)
    await press(page, "Delete my data")
    await page.screenshot(path=str(SCREENSHOTS / "chat-delete-confirm.png"), full_page=True)
    await press(page, "Yes, delete everything")
    await page.get_by_text("We have deleted all we held about you").wait_for()
    await context.close()
    with Session(server.db) as session:
        assert session.exec(select(Answer)).all() == []


async def test_a_facilitator_signs_in_with_a_link_and_opens_a_round(
    server: LiveServer, browser: Any
) -> None:
    context = await browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page.goto(f"{server.url}/staff/")
    await check(page, "staff-signed-out")
    link = create_login_link(server.db, server.config, FACILITATOR)
    await page.goto(link.replace("http://127.0.0.1:8080", server.url))
    await check(page, "staff-login")
    await press(page, "Sign in")
    await page.get_by_role("heading", name="Consultations").wait_for()
    await check(page, "staff-home")
    await page.get_by_role("link", name="What would make life better in Riverside?").click()
    await press(page, "Close round 1")
    await press(page, "Yes, close round 1")  # closing asks first
    await page.get_by_text("The round is closed").wait_for()
    await press(page, "Open round 2")
    await page.get_by_text("The round is open").wait_for()
    await check(page, "staff-consultation")
    with Session(server.db) as session:
        rounds = session.exec(select(Round.number, Round.status).order_by(Round.number)).all()
        assert list(rounds) == [(1, "closed"), (2, "open")]
    await press(page, "Sign out")
    await page.get_by_role("heading", name="You have signed out").wait_for()
    await context.close()

    context = await browser.new_context(viewport=PHONE)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    admin_link = create_login_link(server.db, server.config, ADMIN)
    await page.goto(admin_link.replace("http://127.0.0.1:8080", server.url))
    await press(page, "Sign in")
    await page.get_by_role("link", name="Audit log").click()
    await page.get_by_role("cell", name=f"staff member {FACILITATOR}").first.wait_for()
    await check(page, "staff-audit")
    await context.close()
