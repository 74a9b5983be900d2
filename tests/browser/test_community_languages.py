"""Real Chromium: a resident whose browser speaks Polish or Urdu takes part in the web
chat in it from start to end, by the buttons' own words; axe-core's WCAG 2.2 AA rules
on each step, screenshots in test-artifacts/screenshots/ (chat-pl-*, chat-ur-*)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from conversations.storage.models import Answer, Conversation, Resident
from tests.browser.live import LiveServer
from tests.browser.test_browser import PHONE, check, press

# The browser's language, the page's direction, and what the resident presses and types.
WALKS = {
    "pl": ("pl-PL", "ltr", {
        "take_part": "Weź udział", "agree": "Tak, chcę wziąć udział", "area": "Południe",
        "age": "35 do 64", "box": "Wpisz odpowiedź", "send": "Wyślij",
        "need": "Ostatni autobus jest o 19:00, więc nie wrócę z pracy.",
        "affects": "Moją rodzinę", "done": "Gotowe", "difference": "Zdążyłbym do domu.",
        "right": "Tak, zgadza się", "no": "Nie", "no_idea": "Nie, to wszystko",
        "thanks": "Dziękujemy za udział",
    }),
    "ur": ("ur-PK", "rtl", {
        "take_part": "حصہ لیں", "agree": "جی ہاں، مجھے حصہ لینا منظور ہے", "area": "جنوب",
        "age": "35 سے 64 سال", "box": "اپنا جواب لکھیں", "send": "بھیجیں",
        "need": "ہمارے علاقے میں شام سات بجے کے بعد کوئی بس نہیں آتی۔",
        "affects": "میرے خاندان", "done": "ہو گیا", "difference": "میں وقت پر گھر پہنچ سکوں گا۔",
        "right": "ہاں، یہ ٹھیک ہے", "no": "نہیں", "no_idea": "نہیں، بس اتنا ہی",
        "thanks": "حصہ لینے کا شکریہ",
    }),
}  # fmt: skip


@pytest.mark.parametrize("language", sorted(WALKS))
async def test_a_resident_takes_part_in_polish_or_urdu(
    server: LiveServer, browser: Any, language: str
) -> None:
    locale, direction, says = WALKS[language]
    context = await browser.new_context(viewport=PHONE, locale=locale)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page.goto(f"{server.url}/c/example")
    assert await page.locator("html").get_attribute("lang") == language
    assert await page.locator("html").get_attribute("dir") == direction
    await check(page, f"chat-{language}-start")
    await press(page, says["take_part"])
    await check(page, f"chat-{language}-consent")
    await press(page, says["agree"])
    await press(page, says["area"])
    await press(page, says["age"])
    await check(page, f"chat-{language}-question")
    await page.get_by_label(says["box"]).fill(says["need"])
    await press(page, says["send"])
    await press(page, says["affects"])
    await press(page, says["done"])
    await page.get_by_label(says["box"]).fill(says["difference"])
    await press(page, says["send"])
    await check(page, f"chat-{language}-readback")
    await press(page, says["right"])
    await page.get_by_role("button", name=says["no"], exact=True).click()
    await page.wait_for_load_state()
    await press(page, says["no_idea"])
    await page.get_by_text(says["thanks"]).first.wait_for()
    await check(page, f"chat-{language}-done")
    await context.close()
    with Session(server.db) as session:
        assert session.exec(select(Conversation)).one().completed_at is not None
        assert session.exec(select(Resident)).one().language == language
        needs = session.exec(select(Answer.value).where(Answer.step_id == "need")).all()
        assert needs == [says["need"]]
