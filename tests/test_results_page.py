"""The public "We asked, you said, we did" page, and the closed round pointing to it."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.decision_status import set_status
from bot.actions.decisions import decide
from bot.actions.public_results import results_url_pattern
from bot.actions.theme_runs import analyse_consultation
from conversations.residents.service import ConversationService
from conversations.residents.texts import a_date
from conversations.staff import theme_edits, themes
from conversations.staff.rounds import Rounds
from conversations.storage.models import Answer, Decision, utcnow
from tests.example_consultation import Resident_
from tests.prioritise_helpers import Voter, example_with_themes
from tests.test_analysis_runs import seed
from tests.test_decisions import theme_of
from tests.web_helpers import web_client, web_config

PHONE = "07700 900123"
DECIDED = "The 7pm bus will run until 11pm from January."
RESULTS = "https://needs.example.org/c/{slug}/results?lang={lang}"


def consulted(db: Engine) -> dict[str, str]:
    """Example consulted, analysed, one theme reviewed and decided on, round 1 closed and
    round 2 scheduled. Returns the texts the page must and must not show."""
    seed(ConversationService(db), "a")
    analyse_consultation(db, "example", actor="test", n_themes=3)
    run_id, buses = theme_of(db, "buses")
    _, damp = theme_of(db, "damp")
    with Session(db) as session, session.begin():
        theme_edits.confirm(session=session, slug="example", theme_id=buses, actor="staff:222")
    decide(db, "example", buses, DECIDED, actor="staff:222")
    with Session(db) as session, session.begin():
        run = themes.latest_run(session=session, consultation_id=1)
        assert run is not None and run.id is not None
        run_id = run.id
        theme = next(
            t for t in themes.themes_of_run(session=session, run_id=run_id) if t.theme_id == buses
        )
        quoted = [i for i, _ in themes.quoted_answers(session=session, theme=theme)]
        detailed, withheld = session.get(Answer, quoted[0]), session.get(Answer, quoted[1])
        assert detailed is not None and withheld is not None
        detailed.value = f"Ring me on {PHONE}, the bus never comes"
        withheld.withheld = "abuse"
        session.add_all([detailed, withheld])
        unreviewed = next(
            t for t in themes.themes_of_run(session=session, run_id=run_id) if t.theme_id == damp
        )
        proposed_quote = themes.quote_texts(session=session, theme=unreviewed)[0]
        bus_label = theme.label
        withheld_text = withheld.value
    rounds = Rounds(db)
    rounds.close("example", actor="test")
    opens = (utcnow() + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
    rounds.schedule("example", actor="test", opens_at=opens, closes_at=opens + timedelta(days=14))
    return {"bus": bus_label, "withheld": withheld_text, "proposed": proposed_quote}


async def test_the_page_shows_what_was_asked_heard_and_done(db: Engine) -> None:
    async with web_client(db) as client:
        texts = consulted(db)
        response = await client.get("/c/example/results", headers={"Accept-Language": "en-GB"})
        assert response.status == 200
        assert "set-cookie" not in response.headers  # nothing about the reader is kept
        page = html.unescape(await response.text())
    assert "In your own words: what makes daily life harder" in page
    assert "30 people took part. 30 of them answered all the questions." in page
    # Everyone said North: the South and the young were heard too little.
    assert (
        "South (Marsh End, Brookvale)</strong>: 0% of those who took part, 36% of residents" in page
    )
    assert "Under 18</strong>: 0% of those who took part, 21% of residents" in page
    assert texts["bus"] in page and "A decision has been made" in page
    assert "“Ring me on [phone], the bus never comes”" in page
    assert PHONE not in page
    assert texts["withheld"] not in page  # a withheld answer is never quoted
    assert texts["proposed"] not in page  # nor a theme officers have not reviewed
    assert DECIDED in page and "people who raised this." in page
    assert "The next round opens on" in page and ", 09:00 and closes on" in page


async def test_the_page_in_welsh_and_an_unknown_consultation(db: Engine) -> None:
    async with web_client(db) as client:
        consulted(db)
        by_browser = await client.get("/c/example/results", headers={"Accept-Language": "cy"})
        by_choice = await client.get("/c/example/results?lang=cy")
        for response in (by_browser, by_choice):
            assert response.status == 200
            page = html.unescape(await response.text())
            assert '<html lang="cy" dir="ltr">' in page
            assert "Fe ofynnon ni" in page and "Fe wnaethon ni" in page
            assert "Yn eich geiriau eich hun" in page  # the question as Welsh readers were asked
            assert "De (Marsh End, Brookvale)" in page
            assert "Mae'r rownd nesaf yn agor ar" in page
            assert 'href="/c/example/results?lang=en"' in page
        missing = await client.get("/c/nosuch/results")
        assert missing.status == 404
        assert (await client.get("/c/Not_A_Slug!/results")).status == 404


async def test_a_resident_at_a_closed_round_is_pointed_to_the_results(db: Engine) -> None:
    async with web_client(db) as client:
        service = ConversationService(db, results_url=RESULTS)
        late = Resident_(service, "late-1")
        late_cy = Resident_(service, "late-2", language="cy")
        midway = Resident_(service, "midway")
        midway.start("example")
        midway.press("Yes, I'm happy to take part")
        consulted(db)
        link = "https://needs.example.org/c/example/results"
        for resident, opens, lang in (
            (late, "The next round opens on", "en"),
            (late_cy, "Mae'r rownd nesaf yn agor ar", "cy"),
        ):
            said = "\n".join(m.text for m in resident.start("example"))
            assert "isn't open" in said or "ddim ar agor" in said
            assert f"{link}?lang={lang}" in said and opens in said
        # One who was part-way through when it closed hears the same, not a dead end.
        said = "\n".join(m.text for m in midway.say("The buses stop early"))
        assert "round has closed" in said and link in said and "next round opens" in said
        # The running service is given the page's public address from [web].
        assert results_url_pattern(web_config()) == (
            "http://127.0.0.1:8080/c/{slug}/results?lang={lang}"
        )
        # The web chat of a closed consultation links to the page, with the next dates.
        chat = html.unescape(await (await client.get("/c/example")).text())
        assert 'href="/c/example/results"' in chat
        assert "The next round opens on" in chat


async def test_the_page_shows_what_residents_prioritised(db: Engine) -> None:
    async with web_client(db) as client:
        service = example_with_themes(db, ["Theme 1", "Theme 2", "Theme 3"])
        for n in range(6):
            Voter(service, f"v{n}").weigh(
                lambda top, bottom: f"t{min(top, bottom)}", lambda theme: "_agree"
            )
        page = html.unescape(await (await client.get("/c/example/results")).text())
    assert "What mattered most" in page and "6 people looked at the points two at a time" in page
    ranked = page.split('id="priorities"', 1)[1]
    assert ranked.index("Theme 1") < ranked.index("Theme 2") < ranked.index("Theme 3")
    assert "chosen over another" in ranked


def decided_on(db: Engine) -> int:
    """The id of the decision consulted() recorded."""
    with Session(db) as session:
        decision_id = session.exec(select(Decision.id)).one()
        assert decision_id is not None
        return decision_id


async def test_the_page_shows_where_each_decision_stands(db: Engine) -> None:
    async with web_client(db) as client:
        consulted(db)
        first = html.unescape(await (await client.get("/c/example/results?lang=en")).text())
        assert 'Progress: <strong class="status-tag">Agreed</strong></p>' in first
        decision = decided_on(db)
        set_status(db, "example", decision, "under_way", note="Funding agreed for 2027",
                   actor="staff:222")  # fmt: skip
        changed = a_date(utcnow(), "en", with_time=False)
        english = html.unescape(await (await client.get("/c/example/results?lang=en")).text())
        did = english.split('id="did"', 1)[1]
        assert f'Progress: <strong class="status-tag">Under way</strong> (since {changed})' in did
        assert '<p class="status-note" dir="auto">Funding agreed for 2027</p>' in did
        welsh = html.unescape(await (await client.get("/c/example/results?lang=cy")).text())
        since = a_date(utcnow(), "cy", with_time=False)
        assert f'Cynnydd: <strong class="status-tag">Ar y gweill</strong> (ers {since})' in welsh
        assert "Funding agreed for 2027" in welsh  # as the officer wrote it
        for status, en, cy in (
            ("done", "Done", "Wedi'i wneud"),
            ("not_going_ahead", "Not going ahead", "Ddim yn mynd yn ei flaen"),
        ):
            set_status(db, "example", decision, status, note=None, actor="staff:222")
            for lang, label in (("en", en), ("cy", cy)):
                page = await (await client.get(f"/c/example/results?lang={lang}")).text()
                assert f'<strong class="status-tag">{label}</strong>' in html.unescape(page)
                assert "status-note" not in page  # the old note went with the old status
