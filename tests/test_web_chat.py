"""The resident's web chat, through aiohttp's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from conversations.flow.phrases import CHANNEL_PHRASES, phrase
from conversations.locale import LANGUAGES
from conversations.locale.catalogues import translate
from conversations.residents.texts import CHANNEL_TEXTS, service_text
from conversations.storage.models import (
    Answer,
    ChannelIdentity,
    Conversation,
    Resident,
    WebTranscriptEntry,
)
from tests.catalogues import every_message
from tests.web_helpers import WebResident, complete_example, web_client


def stored(db: Engine) -> list[tuple[str, str]]:
    with Session(db) as session:
        return [(a.step_id, a.value) for a in session.exec(select(Answer).order_by(Answer.id))]  # type: ignore[arg-type]


async def test_a_resident_completes_the_example_on_the_web(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client, "/c/example/tenants")
        await complete_example(ann)
        assert "Thank you for taking part" in ann.last
        # The page shows the whole conversation, in order, with the resident's words.
        senders = [sender for sender, _ in ann.page.messages]
        assert senders.count("resident") >= 8
        assert ("resident", "The buses stop at 7pm.") in ann.page.messages
    assert stored(db) == [
        ("area", "north"),
        ("age", "35-64"),
        ("need", "The buses stop at 7pm."),
        ("affects", "family"),
        ("difference", "I could get to work."),
        ("ideas-ask", "no"),
    ]
    with Session(db) as session:
        conversation = session.exec(select(Conversation)).one()
        assert conversation.completed_at is not None
        assert conversation.source == "tenants"  # the partner's link was recorded
        identity = session.exec(select(ChannelIdentity)).one()
        assert identity.channel == "web"
        # Only the cookie's hash is stored, never the cookie itself.
        assert identity.external_id == hashlib.sha256(ann.cookie.encode()).hexdigest()
        assert ann.cookie not in json.dumps([identity.external_id, identity.chat_id])


async def test_a_double_submit_is_handled_once(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()
        await ann.press("Take part")
        await ann.press("happy to take part")
        await ann.press("North")
        await ann.press("18 to 34")
        form = ann.page.text_form()
        first = await ann.submit(form, {"text": "Potholes on every road"})
        second = await ann.submit(form, {"text": "Potholes on every road"})
        assert first == second == 200
        assert ann.page.messages.count(("resident", "Potholes on every road")) == 1
        # A button form pressed twice moves the conversation on once too.
        choice, (name, value, _) = ann.page.form_with("My family")
        assert await ann.submit(choice, {name: value}) == 200
        assert await ann.submit(choice, {name: value}) == 200
    assert [value for step, value in stored(db) if step == "need"] == ["Potholes on every road"]
    with Session(db) as session:
        rows = session.exec(
            select(WebTranscriptEntry).where(WebTranscriptEntry.text == "Potholes on every road")
        ).all()
        assert len(rows) == 1


async def test_html_in_answers_is_shown_as_text(db: Engine) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)><b>bold</b>'
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()
        await ann.press("Take part")
        await ann.press("happy to take part")
        await ann.press("North")
        await ann.press("18 to 34")
        await ann.say(attack)
        shown = ann.page.html
        assert "<script>alert" not in shown and "<img src=x" not in shown
        assert "<b>bold" not in shown
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in shown
        assert ("resident", attack) in ann.page.messages  # shown exactly as typed
        mine = await client.get("/c/example/my-data")
        page = await mine.text()
        assert "<script>alert" not in page and "&lt;script&gt;" in page


async def test_long_emoji_and_right_to_left_answers(db: Engine) -> None:
    long_answer = ("مرحبا بالعالم، الحافلات لا تأتي 🚌 " * 110)[:4000] + " שלום 👩🏽‍🦽 end"
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()
        await ann.press("Take part")
        await ann.press("happy to take part")
        await ann.press("South")
        await ann.press("65 or over")
        too_long = await ann.submit(ann.page.text_form(), {"text": "x" * 4097})
        assert too_long == 200 and "too long" in ann.page.html
        await ann.say(long_answer)
        assert ("resident", long_answer) in ann.page.messages
        assert 'class="text" dir="auto"' in ann.page.html
    assert [value for step, value in stored(db) if step == "need"] == [long_answer]


async def test_forms_without_the_right_csrf_token_change_nothing(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()
        form, (name, value, _) = ann.page.form_with("Take part")
        for csrf in ("", "0" * 64):
            fields = {**form.fields, "csrf": csrf, name: value}
            response = await client.post(form.action, data=fields, allow_redirects=False)
            assert response.status == 403
        # Without the device cookie at all (a cross-site post), nothing either.
        client.session.cookie_jar.clear()
        response = await client.post(
            form.action, data={**form.fields, name: value}, allow_redirects=False
        )
        assert response.status == 403
    with Session(db) as session:
        assert session.exec(select(Resident)).all() == []
        assert session.exec(select(WebTranscriptEntry)).all() == []


async def test_see_my_data_as_a_page_and_a_file(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        nothing = await client.get("/c/example/my-data")
        assert "We don't hold any information about you." in html.unescape(await nothing.text())
        await complete_example(ann, need="Nowhere safe for kids to play")
        page = await (await client.get("/c/example/my-data")).text()
        assert "Nowhere safe for kids to play" in page and "2026-11-01" in page
        download = await client.get("/c/example/my-data.json")
        assert download.status == 200
        assert download.headers["Content-Disposition"].startswith("attachment;")
        record = json.loads(await download.read())
        assert any(a["answer"] == "Nowhere safe for kids to play" for a in record["answers"])
        assert hashlib.sha256(ann.cookie.encode()).hexdigest() not in json.dumps(record)


async def test_delete_my_data_on_the_web_erases_every_trace(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await complete_example(ann, need="Damp flat with black mould everywhere")
        cookie = ann.cookie
        with Session(db) as session:
            pseudonym = session.exec(select(Resident.pseudonym)).one()
        async with web_client(db) as other_client:
            bob = WebResident(other_client)
            await complete_example(bob, need="Library opening hours too short")
        await ann.press("Delete my data")
        assert "can't get it back" in ann.last
        await ann.press("No, keep it")
        assert "nothing has been deleted" in ann.last
        await ann.press("Delete my data")
        await ann.press("Yes, delete everything")
        assert "We have deleted all we held about you" in ann.page.html
        assert ann.page.messages == []  # the page starts empty...
        assert ann.cookie != cookie  # ...on a new device identity
    needles = [
        cookie,
        hashlib.sha256(cookie.encode()).hexdigest(),
        pseudonym,
        "Damp flat with black mould",
    ]
    with db.connect() as connection:
        for table in inspect(db).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                for needle in needles:
                    assert needle not in " ".join(map(str, row)), f"{needle} found in {table}"
    assert [v for step, v in stored(db) if step == "need"] == ["Library opening hours too short"]
    with Session(db) as session:
        kept = session.exec(select(WebTranscriptEntry.text)).all()
        assert "Library opening hours too short" in kept  # Bob's page is untouched


async def test_start_afresh_forgets_the_device_not_the_answers(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await complete_example(ann)
        cookie = ann.cookie
        form, _ = ann.page.form_with("Start afresh")
        assert await ann.submit(form, {}) == 200
        assert ann.cookie != cookie
        assert ann.page.messages == []
        assert "fresh start" in ann.page.html
        assert ann.page.form_with("Take part")
    assert len(stored(db)) == 6


async def test_stop_invitations_and_language_switch(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()
        assert '<html lang="en" dir="ltr">' in ann.page.html
        await ann.press("Take part")
        await ann.press("Cymraeg")
        assert '<html lang="cy" dir="ltr">' in ann.page.html
        assert "Ydych chi'n hapus i gymryd rhan?" in ann.last
        await ann.press("Ydw, rwy'n hapus")
        await ann.press("Dim rhagor o wahoddiadau")
        assert "wahoddiadau" in ann.last  # "no more invitations", in Welsh
    with Session(db) as session:
        resident = session.exec(select(Resident)).one()
        assert resident.language == "cy" and resident.invitations is False


async def test_welsh_browsers_get_welsh_pages(db: Engine) -> None:
    async with web_client(db) as client:
        response = await client.get("/c/example", headers={"Accept-Language": "cy-GB,cy;q=0.9"})
        page = await response.text()
        assert '<html lang="cy" dir="ltr">' in page and "Cymryd rhan" in page


async def test_front_page_lists_open_consultations_and_how_to_add_telegram(db: Engine) -> None:
    async with web_client(db, status={"telegram": "off"}) as client:
        page = await (await client.get("/")).text()
        assert 'href="/c/example"' in page
        assert "What would make life better in Riverside?" in page
        assert "NEEDSFIRST_TELEGRAM_TOKEN" in page and "@BotFather" in page
        missing = await client.get("/c/no-such-thing")
        assert missing.status == 404


# --- channel-aware wording ------------------------------------------------------------

COMMAND = re.compile(r"(?<![\w/])/(start|stop|mydata|forget|help|language)\b")


def test_the_web_wording_names_the_pages_buttons_not_telegram_commands() -> None:
    for table in (CHANNEL_TEXTS["web"], CHANNEL_PHRASES["web"]):
        for language in LANGUAGES:
            labels = every_message(language)
            for key, english in table.items():
                assert isinstance(english, str)
                said = translate(language, english, "web")
                assert not COMMAND.search(said), (language, key)
                for quoted in re.findall(r"“([^”]+)”", said):
                    assert quoted in labels, f"{language}/{key}: no button “{quoted}”"


def test_telegram_keeps_its_commands() -> None:
    for language in ("en", "cy"):
        for key in ("stopped", "forgotten", "mydata_outro", "none_open", "unknown_button"):
            telegram = service_text(key, language, channel="telegram")
            assert telegram == service_text(key, language) and COMMAND.search(telegram)
            assert not COMMAND.search(service_text(key, language, channel="web"))
        for key in ("finished", "declined_again"):
            assert COMMAND.search(phrase(key, language, "telegram"))
            assert not COMMAND.search(phrase(key, language, "web"))


async def test_the_web_chat_says_its_own_buttons(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()
        await ann.press("Take part")
        await ann.press("No thanks")
        # Having said no, the resident can change their mind with the page's button.
        await ann.press("Take part")
        assert "Are you happy to take part?" in ann.last
        await ann.press("happy to take part")
        await ann.press("Stop invitations")
        assert "“Delete my data”" in ann.last and not COMMAND.search(ann.last)
        client.session.cookie_jar.clear()  # another device, another resident
        ben = WebResident(client)
        await complete_example(ben)
        await ben.say("One more thing")
        assert "“See my data”" in ben.last and not COMMAND.search(ben.last)
        await ben.press("Cymraeg")
        await ben.say("Un peth arall")
        assert "“Gweld fy nata”" in ben.last and not COMMAND.search(ben.last)


# --- typed options, ticks and what the page promises ----------------------------------


async def test_typed_options_are_understood_on_the_web(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()
        await ann.press("Take part")
        await ann.say("yes ok")
        assert "Which part of the borough" in ann.last
        await ann.say("south")
        assert "How old are you?" in ann.last
        await ann.say("35 to 64")
        await ann.say("The buses stop at 7pm.")
        await ann.say("Mainly me")
        assert "what difference would it make" in ann.last
        assert ("resident", "Mainly me") in ann.page.messages  # shown as typed
        cy = WebResident(client)
        client.session.cookie_jar.clear()  # another device, in Welsh
        await cy.open()
        await cy.press("Take part")
        await cy.press("Cymraeg")
        await cy.say("ydw")
        await cy.say("Marsh End")
        assert "Faint yw eich oed?" in cy.last
    assert stored(db)[:4] == [
        ("area", "south"),
        ("age", "35-64"),
        ("need", "The buses stop at 7pm."),
        ("affects", "just-me"),
    ]
    assert stored(db)[-1] == ("area", "south")


async def test_ticks_say_why_and_the_page_says_what_was_chosen(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()
        await ann.press("Take part")
        await ann.press("happy to take part")
        await ann.press("North")
        await ann.press("35 to 64")
        await ann.say("The buses stop at 7pm.")
        await ann.press("Done")  # nothing ticked yet: say why the question comes again
        assert "Please choose at least one option" in ann.page.bot_texts[-2]
        assert "Who else does this affect?" in ann.last
        await ann.press("My family")
        await ann.press("Older people")
        await ann.press("Mainly me")
        # "Mainly me" unticks the others, and says so; its buttons stay on the page.
        assert any("You can't pick “Mainly me” with other answers" in t for t in ann.page.bot_texts)
        ticked = [b[2] for f in ann.page.forms for b in f.buttons if b[2].startswith("✅")]
        assert ticked == ["✅ Mainly me"]
        await ann.press("My family")
        assert any("I've unticked “Mainly me”" in t for t in ann.page.bot_texts)
        await ann.press("Neighbours")
        await ann.press("Done")
        # The page echoes what was chosen, not the word "Done".
        said = [text for sender, text in ann.page.messages if sender == "resident"]
        assert said[-1] == "My family or household, Neighbours or my street"
        assert said.count("Done") == 1  # only the press with nothing ticked
    assert ("affects", "family,neighbours") in stored(db)


async def test_the_web_chat_promises_only_what_it_can_do(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await complete_example(ann)
        consent = next(t for t in ann.page.bot_texts if "happy to take part?" in t)
        assert "“See my data”" in consent and not COMMAND.search(consent)
        closing = ann.last
        assert "Thank you for taking part" in closing
        assert "tell you here" not in closing and not COMMAND.search(closing)
        assert "can't send you messages" in closing
        page = await (await client.get("/c/example/my-data")).text()
        invitations = re.search(r"<dt>Invitations</dt><dd>([^<]*)</dd>", page)
        assert invitations is not None
        assert (
            html.unescape(invitations[1])
            == "None. This web chat can't send you messages. So we can't ask you back, or tell you what was decided, here"
        )
        assert invitations[1] != "On"
        await ann.open()
        await ann.press("Stop invitations")
        assert "can't send you messages" in ann.last
        page = await (await client.get("/c/example/my-data")).text()
        assert "<dt>Invitations</dt><dd>Off</dd>" in page


async def test_the_web_page_shows_the_scripts_web_wording(db: Engine, tmp_path: Path) -> None:
    source = EXAMPLE_SCRIPT.read_text(encoding="utf-8").replace(
        'slug = "example"', 'slug = "words"'
    )
    source = source.replace(
        "[description]\n",
        '[description]\nweb.en = "Told on the web page."\nweb.cy = "Ar y dudalen we."\n'
        'web.pl = "Na stronie."\nweb.ur = "ویب صفحے پر۔"\n',
    )
    script = tmp_path / "words.toml"
    script.write_text(source, encoding="utf-8")
    load_consultation(db, script, actor="test", open_first_round=True)
    async with web_client(db) as client:
        page = await (await client.get("/c/words")).text()
        assert "Told on the web page." in page
        assert "Riverside Council and its partners want to hear" not in page
