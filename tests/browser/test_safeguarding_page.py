"""Real Chromium on the safeguarding page: a lead reads a flag, acknowledges it and closes it.

Checked with axe-core's WCAG 2.2 AA rules, as the other pages are (test_browser.py)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from conversations.flow.inputs import TextInput
from conversations.residents.service import ConversationService, Who
from conversations.storage.models import SafeguardingFlag
from tests.browser.live import LiveServer
from tests.browser.test_browser import DESKTOP, PHONE, check, press
from tests.browser.test_dashboard_pages import signed_in
from tests.web_helpers import SAFEGUARDING


async def test_a_lead_works_a_flag_from_open_to_closed(server: LiveServer, browser: Any) -> None:
    service = ConversationService(server.db)
    service.receive(
        Who("web", "visitor-1", "visitor-1", "en"),
        TextInput("my dad hits me and my little sister every night"),
    )
    with Session(server.db) as session:
        number = session.exec(select(SafeguardingFlag.id)).one()
    page = await signed_in(server, browser, SAFEGUARDING, DESKTOP)
    await page.get_by_text("1 safeguarding flag open").wait_for()
    await page.get_by_role("link", name="Safeguarding", exact=True).click()
    await page.get_by_role("heading", name="Safeguarding", exact=True).wait_for()
    await check(page, "staff-safeguarding")
    await page.get_by_role("link", name=f"Flag #{number}").click()
    await page.get_by_role("heading", name="What they wrote").wait_for()
    await page.get_by_text("my dad hits me").wait_for()
    await check(page, "staff-safeguarding-flag")
    await press(page, "Acknowledge")
    await page.get_by_text("Acknowledged: alerts about this flag have stopped.").wait_for()
    await page.get_by_label("Add a note").fill("Called children's services.")
    await press(page, "Add the note")
    await page.get_by_text("Called children's services.").wait_for()
    await page.get_by_label("Referred").check()
    await press(page, "Record the outcome")
    await page.get_by_text("Outcome recorded; the flag is closed.").wait_for()
    await page.set_viewport_size(PHONE)
    await check(page, "staff-safeguarding-closed-phone")
    await page.context.close()
    with Session(server.db) as session:
        flag = session.get(SafeguardingFlag, number)
        assert flag is not None and (flag.status, flag.outcome) == ("closed", "referred")
