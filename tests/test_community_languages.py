"""Polish and Urdu (issue 21) through the real web chat and the words a resident receives:
the browser's languages choose the page's, a resident can switch to either and take part
in it, Urdu pages run right to left, decisions and WhatsApp words come in both."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT
from bot.actions.decisions import decision_message, translatable
from conversations.flow.script_toml import load_script
from conversations.storage.models import Resident
from tests.web_helpers import WebResident, web_client


@pytest.mark.parametrize(
    ("accept", "lang", "dir_", "take_part"),
    [("pl-PL,pl;q=0.9,en;q=0.8", "pl", "ltr", "Weź udział"),
     ("ur-PK,ur;q=0.9", "ur", "rtl", "حصہ لیں"),
     ("fr-FR, fr;q=0.9, ur;q=0.5", "ur", "rtl", "حصہ لیں"),  # the first we speak, not the first
     ("pl;q=0, fr", "en", "ltr", "Take part")],  # q=0 is "not this one"
)  # fmt: skip
async def test_the_browsers_languages_choose_the_pages(
    db: Engine, accept: str, lang: str, dir_: str, take_part: str
) -> None:
    async with web_client(db) as client:
        page = await (await client.get("/c/example", headers={"Accept-Language": accept})).text()
        assert f'<html lang="{lang}" dir="{dir_}">' in page and take_part in page


@pytest.mark.parametrize(
    ("name", "lang", "dir_", "consent", "agree", "stop", "stopped"),
    [("Polski", "pl", "ltr", "Czy chcesz wziąć udział?", "Tak, chcę", "Nie chcę zaproszeń",
      "nie poprosimy Cię już o udział"),
     ("اردو", "ur", "rtl", "کیا آپ حصہ لینا چاہتے ہیں؟", "جی ہاں، مجھے حصہ", "دعوت نامے بند کریں",
      "ہم آپ سے دوبارہ حصہ لینے کو نہیں کہیں گے")],
)  # fmt: skip
async def test_a_resident_switches_to_polish_or_urdu_and_takes_part_in_it(
    db: Engine, name: str, lang: str, dir_: str, consent: str, agree: str, stop: str,
    stopped: str,
) -> None:  # fmt: skip
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()
        await ann.press("Take part")
        await ann.press(name)
        assert f'<html lang="{lang}" dir="{dir_}">' in ann.page.html
        assert consent in ann.last
        await ann.press(agree)
        await ann.press(stop)
        assert stopped in ann.last
    with Session(db) as session:
        resident = session.exec(select(Resident)).one()
        assert resident.language == lang and resident.invitations is False


def test_decisions_reach_residents_in_polish_and_urdu() -> None:
    script = load_script(EXAMPLE_SCRIPT)
    assert translatable(script) == ("cy", "pl", "ur")
    polish = decision_message("Tytuł", "Autobusy", "Więcej autobusów wieczorem.", "pl")
    assert polish.startswith("Powiedzieliście, zrobiliśmy: Tytuł") and "Autobusy" in polish
    urdu = decision_message("عنوان", "بسیں", "شام کو زیادہ بسیں۔", "ur")
    assert urdu.startswith("آپ نے بتایا، ہم نے کیا: عنوان") and "/stop" in urdu
