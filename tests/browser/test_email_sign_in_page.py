"""Real Chromium: an officer who is not on Telegram asks for a link by email and signs in
(GOV.UK Notify is the fake on loopback); every page passes axe's WCAG 2.2 AA rules."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.app import sign_in_mailer
from bot.config import NotifyConfig
from tests.browser.live import LiveServer
from tests.browser.test_browser import DESKTOP, check, press
from tests.fakes.notify import FakeNotify
from tests.web_helpers import web_config

JO = "jo@council.example.gov.uk"


async def test_an_officer_signs_in_by_email(sqlite_db: Engine, browser: Any) -> None:
    load_consultation(sqlite_db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    async with FakeNotify() as notify:
        template = notify.add_template("Sign in: ((link)) (((minutes)) minutes)")
        base = web_config()
        config = replace(
            base,
            staff=replace(base.staff, officer_emails=(JO,)),
            notify=NotifyConfig(
                api_key=notify.new_api_key().value,
                base_url=notify.base_url,
                sign_in_template_id=template.id,
            ),
        )
        server = LiveServer(sqlite_db, config, sign_in_mailer=sign_in_mailer(config))
        await server.start()
        try:
            context = await browser.new_context(viewport=DESKTOP)
            context.set_default_timeout(15_000)
            page = await context.new_page()
            await page.goto(f"{server.url}/staff/")
            await page.get_by_role("link", name="Sign in by email").click()
            await check(page, "staff-email-sign-in")
            await press(page, "Email me a link")
            await page.get_by_role("alert").wait_for()
            await check(page, "staff-email-sign-in-error")
            await page.get_by_label("Your work email address").fill(JO)
            await press(page, "Email me a link")
            await page.get_by_role("status").wait_for()
            await check(page, "staff-email-sign-in-sent")
            for _ in range(100):
                if notify.sent:
                    break
                await asyncio.sleep(0.05)
            link = re.search(r"(https?://\S+/staff/login/\S+)", notify.sent[0].body)
            assert link is not None
            await page.goto(re.sub(r"^https?://[^/]+", server.url, link.group(1)))
            await press(page, "Sign in")
            await page.get_by_role("heading", name="Consultations").wait_for()
            assert JO in await page.content()
        finally:
            await server.stop()
