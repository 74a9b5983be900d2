"""Real Chromium: the resident's pages laid out right to left, and the accessibility
statement in every language, each checked with axe (WCAG 2.2 AA) and screenshotted.

Right to left is checked for every shipped language that is written that way (Urdu,
once it is in conversations.locale.LANGUAGES), and always for "pseudo-rtl": English with
its direction turned round in bot/web/text_direction's table, so the layout is tested
before any such language ships. The layout must mirror: measured from the boxes the
browser draws, not from the stylesheet's words.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from bot.web import text_direction
from bot.web.accessibility import load_statements
from conversations.locale import LANGUAGES
from tests.browser.live import LiveServer
from tests.browser.test_browser import DESKTOP, PHONE, check

PSEUDO = "pseudo-rtl"
RTL_CASES = [PSEUDO] + [code for code in LANGUAGES if text_direction.direction(code) == "rtl"]
ENGLISH_ANSWER = "The last bus is at 7pm, so I can't get home from work."
URDU_ANSWER = "ہمارے علاقے میں شام سات بجے کے بعد کوئی بس نہیں آتی۔"
# Where a piece of text sits in its box: the gap on its left and on its right.
TEXT_GAPS = """el => {
  const range = document.createRange(); range.selectNodeContents(el);
  const text = range.getBoundingClientRect(), box = el.getBoundingClientRect();
  return {left: text.left - box.left, right: box.right - text.right};
}"""
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def language_of(case: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The language code a case's pages are asked for; pseudo-rtl turns English round."""
    if case != PSEUDO:
        return case
    monkeypatch.setattr(text_direction, "RIGHT_TO_LEFT", text_direction.RIGHT_TO_LEFT | {"en"})
    return "en"


async def box(page: Any, selector: str) -> dict[str, float]:
    found = await page.locator(selector).last.bounding_box()
    assert found is not None, selector
    return dict(found)


async def chat_layout(browser: Any, server: LiveServer, language: str, name: str) -> dict[str, Any]:
    """A resident answers the first questions; where the send button and both kinds of
    speech bubble are drawn, and how each answer's direction resolved."""
    context = await browser.new_context(viewport=PHONE, locale=language)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page.goto(f"{server.url}/c/example")
    # By position, not by words: these steps read the same in any language.
    for button in ("form.start button", "form.choices button >> nth=0",
                   "form.choices button >> nth=-1", "form.choices button >> nth=-1"):  # fmt: skip
        await page.locator(button).click()
        await page.wait_for_load_state()
    form, send = await box(page, "form.answer"), await box(page, "form.answer button")
    await page.locator("#answer-text").fill(ENGLISH_ANSWER)
    await page.locator("form.answer button").click()
    await page.wait_for_load_state()
    for button in ("form.choices button >> nth=0", "form.choices button >> nth=-1"):
        await page.locator(button).click()  # "Mainly me", then "Done"
        await page.wait_for_load_state()
    await page.locator("#answer-text").fill(URDU_ANSWER)
    await page.locator("form.answer button").click()
    await page.wait_for_load_state()
    await check(page, name)
    answers = page.locator("li.from-resident p.text")
    directions = [await answers.nth(i).evaluate("el => getComputedStyle(el).direction")
                  for i in range(await answers.count())]  # fmt: skip
    layout = {
        "dir": await page.locator("html").get_attribute("dir"),
        "transcript": await box(page, "#transcript"),
        "bot": await box(page, "li.from-bot"),
        "resident": await box(page, "li.from-resident"),
        "form": form,
        "send": send,
        "answers": dict(zip(await answers.all_inner_texts(), directions, strict=True)),
        "fits": await page.evaluate(NO_SIDEWAYS_SCROLL),
    }
    await context.close()
    return layout


def at_left(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        abs(inner["x"] - outer["x"]) < 2
        and inner["x"] + inner["width"] < outer["x"] + outer["width"] - 20
    )


def at_right(inner: dict[str, float], outer: dict[str, float]) -> bool:
    inner_right, outer_right = inner["x"] + inner["width"], outer["x"] + outer["width"]
    return abs(inner_right - outer_right) < 2 and inner["x"] > outer["x"] + 20


@pytest.mark.parametrize("case", RTL_CASES)
async def test_the_web_chat_mirrors_right_to_left(
    server: LiveServer, browser: Any, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ltr = await chat_layout(browser, server, "en-GB", f"rtl-chat-{case}-before")
    # In English the bot speaks from the left, the resident from the right, Send on the left.
    assert ltr["dir"] == "ltr" and ltr["fits"]
    assert at_left(ltr["bot"], ltr["transcript"]) and at_right(ltr["resident"], ltr["transcript"])
    assert at_left(ltr["send"], ltr["form"])
    rtl = await chat_layout(browser, server, language_of(case, monkeypatch), f"rtl-chat-{case}")
    assert rtl["dir"] == "rtl" and rtl["fits"], "a right-to-left page must not scroll sideways"
    assert at_right(rtl["bot"], rtl["transcript"]) and at_left(rtl["resident"], rtl["transcript"])
    assert at_right(rtl["send"], rtl["form"])
    # Each answer keeps its own direction, whatever the page's: English reads left to right.
    answers = rtl["answers"]
    assert (answers[ENGLISH_ANSWER], answers[URDU_ANSWER]) == ("ltr", "rtl")


@pytest.mark.parametrize("case", RTL_CASES)
async def test_the_results_page_and_the_statement_mirror_right_to_left(
    server: LiveServer, browser: Any, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    language = language_of(case, monkeypatch)
    context = await browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    for path, name in ((f"/c/example/results?lang={language}", "results"),
                       (f"/accessibility?lang={language}", "statement")):  # fmt: skip
        await page.goto(server.url + path)
        assert await page.locator("html").get_attribute("dir") == "rtl"
        await check(page, f"rtl-{name}-{case}")
        assert await page.evaluate(NO_SIDEWAYS_SCROLL), name
        # Headings start at the right; a notice's bar and a list's indent are on the right.
        gaps = await page.locator("h1").evaluate(TEXT_GAPS)
        assert gaps["right"] < 1 < gaps["left"], (name, gaps)
        bar = "el => [getComputedStyle(el).borderRightWidth, getComputedStyle(el).borderLeftWidth]"
        assert await page.locator(".notice, .warning").first.evaluate(bar) == ["6px", "0px"]
        indent = "el => [getComputedStyle(el).paddingRight, getComputedStyle(el).paddingLeft]"
        if name == "statement":
            assert await page.locator("main ul").first.evaluate(indent) == ["40px", "0px"]
        footer = await box(page, "#accessibility-link")
        assert footer["x"] + footer["width"] > DESKTOP["width"] / 2, (
            "the footer starts at the right"
        )
    await context.close()


@pytest.mark.parametrize("language", sorted(load_statements()))
async def test_the_statement_reads_well_in_every_language(
    server: LiveServer, browser: Any, language: str
) -> None:
    context = await browser.new_context(viewport=PHONE)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page.goto(f"{server.url}/c/example/results?lang={language}")
    await page.locator("#accessibility-link").click()  # every page's footer links to it
    await page.wait_for_load_state()
    assert await page.locator("html").get_attribute("lang") == language
    assert await page.locator("html").get_attribute("dir") == text_direction.direction(language)
    await page.locator("#enforcement a[href='https://www.equalityadvisoryservice.com/']").wait_for()
    await page.locator("#enforcement a[href='https://www.equalityni.org/Home']").wait_for()
    await check(page, f"statement-{language}")
    assert await page.evaluate(NO_SIDEWAYS_SCROLL)
    await context.close()


def test_this_machine_can_draw_urdu() -> None:
    """The screenshots show Urdu, not empty boxes: a font here has its letters (ے, ہ
    and ٹ, which DejaVu lacks), as .ci/run installs with fonts-noto-core."""
    found = subprocess.run(["fc-list", ":charset=6d2 6c1 679", "family"], capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    assert "Noto Nastaliq Urdu" in found, found
