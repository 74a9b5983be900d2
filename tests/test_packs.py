"""Evidence packs (issue 20, part 1): a reviewed theme's needs assessment, and the whole
consultation's, gathered from a seeded consultation on SQLite and PostgreSQL, and read
back as HTML, a tagged PDF (page by page, with pypdf), XLSX (openpyxl) and CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from analysis.evidence import render_html, render_pdf
from bot.actions.decisions import decide
from bot.actions.packs import PackError, evidence, make_pack
from conversations.flow import callbacks
from conversations.residents.service import ConversationService, Who
from conversations.storage import store
from conversations.storage.models import Answer, AnswerTheme, AuditEntry, ChannelIdentity
from tests.pack_reading import outline, read_pdf
from tests.pack_seed import BUSES, PARTNER, Seeded, seed_pack
from tests.prioritise_helpers import Voter, add_profile, example_with_themes

LONDON = ZoneInfo("Europe/London")


def members(db: Engine, run_id: int, theme_id: int) -> list[Answer]:
    with Session(db) as session:
        return list(
            session.exec(
                select(Answer)
                .join(AnswerTheme, col(AnswerTheme.answer_id) == col(Answer.id))
                .where(AnswerTheme.run_id == run_id, AnswerTheme.theme_id == theme_id)
            ).all()
        )


def forget(db: Engine, resident_id: int) -> None:
    """The resident asks to be forgotten, as on Telegram."""
    with Session(db) as session:
        external = session.exec(
            select(ChannelIdentity.external_id).where(ChannelIdentity.resident_id == resident_id)
        ).one()
    service = ConversationService(db)
    who = Who("telegram", external, external, "en")
    service.forget_request(who, update_key=f"forget-ask-{external}")
    service.press(who, callbacks.forget_data(True), update_key=f"forget-yes-{external}")


def test_a_theme_pack_says_who_raised_it_when_and_in_their_words(db: Engine) -> None:
    seeded = seed_pack(db)
    given = members(db, seeded.run_id, seeded.buses)
    pack = evidence(db, "example", theme_id=seeded.buses, zone=LONDON)
    (theme,) = pack.themes
    assert theme.theme_id == seeded.buses and pack.theme_id == seeded.buses
    assert theme.size.answers == theme.size.residents == len(given) >= 10
    assert pack.residents == len(seeded.by_text)
    assert theme.size.share_of_residents == pytest.approx(len(given) / len(seeded.by_text))
    # Weekly since the opening, three weeks back: half the answers were given two weeks ago.
    weeks = theme.size.weeks
    assert len(weeks) == 4 and sum(w.answers for w in weeks) == len(given)
    assert weeks[0].answers == weeks[2].answers == 0 and weeks[1].answers and weeks[3].answers

    said = [seeded.by_text[a.value] for a in given]
    area = next(d for d in theme.who if d.key == "area")
    assert {g.label.split()[0]: g.residents for g in area.groups} == Counter(s[0] for s in said)
    assert all(g.few for g in area.groups)  # 4 or 5 residents an area: too few to say
    ages = {g.label: g for g in next(d for d in theme.who if d.key == "age_band").groups}
    assert ages["Under 18"].under_heard and ages["65 or over"].under_heard
    assert not ages["18 to 34"].under_heard
    partners = theme.partners
    assert partners is not None
    assert {g.label: g.residents for g in partners.groups}[PARTNER] == sum(
        s[2] == PARTNER for s in said
    )
    assert "transport" in theme.services
    assert any("Under 18" in line for line in theme.limits)

    quotes = [q.text for q in theme.quotes]
    assert len(quotes) == 5 and set(quotes) <= set(BUSES)
    assert theme.quotes[0].typical and not any(q.typical for q in theme.quotes[1:])
    assert len({q.said_by[0] for q in theme.quotes}) == 3  # every area is quoted


def test_withheld_answers_and_forgotten_residents_are_in_no_pack(db: Engine) -> None:
    seeded = seed_pack(db)
    before = evidence(db, "example", theme_id=seeded.buses, zone=LONDON).themes[0]
    typical = before.quotes[0].text
    with Session(db) as session, session.begin():
        answer = session.exec(select(Answer).where(Answer.value == typical)).one()
        answer.withheld = "abuse"
        session.add(answer)
        other = session.exec(
            select(Answer.resident_id).where(Answer.value == before.quotes[1].text)
        ).one()
    forget(db, other)
    after = evidence(db, "example", theme_id=seeded.buses, zone=LONDON)
    theme = after.themes[0]
    assert theme.size.answers == before.size.answers - 2
    assert theme.size.residents == before.size.residents - 2
    # The withheld answer was its resident's only need: they are not counted as heard either.
    assert after.residents == len(seeded.by_text) - 2
    shown = {q.text for q in theme.quotes}
    assert typical not in shown and before.quotes[1].text not in shown
    assert len(shown) == 5


def test_a_decision_and_the_whole_consultation(db: Engine) -> None:
    seeded = seed_pack(db)
    recorded = decide(db, "example", seeded.buses, "The 7pm bus will run until 11pm.",
                      actor="staff:22")  # fmt: skip
    pack = evidence(db, "example", theme_id=None, zone=LONDON)
    assert pack.whole and [t.theme_id for t in pack.themes] == [
        seeded.buses,
        *sorted((seeded.damp, seeded.youth)),  # as large as each other: by number
    ]
    buses = next(t for t in pack.themes if t.theme_id == seeded.buses)
    (decision,) = buses.decisions
    assert decision.text == "The 7pm bus will run until 11pm."
    assert decision.residents_told == recorded.residents > 0 and decision.status == "agreed"
    # Each resident raised one need: a theme's residents raise no other theme.
    for index, (theme_id, row) in enumerate(pack.co_raised):
        theme = next(t for t in pack.themes if t.theme_id == theme_id)
        assert row[index] == theme.size.residents
        assert sum(row) == theme.size.residents and theme.alongside == ()
    assert set(pack.services) == {s for t in pack.themes for s in t.services}
    damp = next(t for t in pack.themes if t.theme_id == seeded.damp)
    assert damp.size.residents < 10 and "too few" in damp.summary
    assert pack.unthemed == 0 and pack.since_analysis == 0


def test_a_pack_names_what_it_cannot_make(db: Engine) -> None:
    with pytest.raises(store.StoreError, match="no consultation with slug 'nowhere'"):
        evidence(db, "nowhere", theme_id=None, zone=LONDON)
    seeded = seed_pack(db)
    with pytest.raises(
        store.StoreError, match=r"theme 99 is not a reviewed theme.*reviewed themes"
    ):
        evidence(db, "example", theme_id=99, zone=LONDON)
    with pytest.raises(PackError, match="not 'docx'"):
        make_pack(db, "example", theme_id=seeded.buses, fmt="docx", actor="t", zone=LONDON)


def _voters(db: Engine, count: int) -> None:
    """Residents weigh four themes: 1 always first, 2 second; 3 and 4 "both the same"."""
    service = example_with_themes(db, ["Theme 1", "Theme 2", "Theme 3", "Theme 4"])
    areas = ["north", "central", "south"]
    for number in range(count):
        user, area = f"6{number:03d}", areas[number % 3]

        def prefer(top: int, bottom: int) -> str:
            low = min(top, bottom)
            return f"t{low}" if low < 3 else "_same"

        def stance(theme: int, area: str = area) -> str:
            return "_disagree" if theme == 2 and area == "south" else "_agree"

        Voter(service, user).weigh(prefer, stance)
        add_profile(db, user, area=area, age_band="18-34")


def test_priorities_say_too_close_to_call_and_who_is_divided(sqlite_db: Engine) -> None:
    _voters(sqlite_db, 30)
    by_id = {
        t.theme_id: t.priority
        for t in evidence(sqlite_db, "example", theme_id=None, zone=LONDON).themes
    }
    first, second, third = by_id[1], by_id[2], by_id[3]
    assert first is not None and second is not None and third is not None
    assert first.rank == 1 and first.verdict == "Clearly ranked 1 of 4."
    # Which pairs a resident is shown is random, so 3 may also come near 2; never near 1.
    assert "Theme 4" in third.close_to and "Theme 1" not in third.close_to
    assert third.verdict.startswith("Too close to call with ") and "Theme 4" in third.verdict
    assert second.divided_by == ("Area",) and not second.common_ground
    south = next(g for g in second.groups if g.label.startswith("South"))
    assert south.agree == 0 and south.votes > 0 and south.few == (south.votes < 10)
    html = render_html(evidence(sqlite_db, "example", theme_id=3, zone=LONDON))
    assert third.verdict in html


def test_few_voters_are_too_few_to_say(sqlite_db: Engine) -> None:
    _voters(sqlite_db, 4)
    priority = evidence(sqlite_db, "example", theme_id=1, zone=LONDON).themes[0].priority
    assert priority is not None and priority.participants == 4
    assert priority.verdict == "Too few to say: only 4 residents prioritised the themes."


def test_the_pack_reads_as_html_pdf_and_spreadsheets(sqlite_db: Engine) -> None:
    seeded = seed_pack(sqlite_db)
    pack = evidence(sqlite_db, "example", theme_id=seeded.buses, zone=LONDON)
    theme = pack.themes[0]
    page = outline(render_html(pack))
    assert [level for level, _ in page.headings][:2] == [1, 2]
    assert all(b - a <= 1 for (a, _), (b, _) in zip(page.headings, page.headings[1:], strict=False))
    assert [text for level, text in page.headings if level == 1] == [pack.heading]
    assert page.tables == len(page.captions) >= 5 and page.headers_without_scope == 0
    assert page.scripts == 0
    assert len(page.alts) == 3  # answers each week; residents by area and by age band
    assert all(any(c.isdigit() for c in alt) and len(alt) > 60 for alt in page.alts)

    pdf = read_pdf(render_pdf(pack))
    assert pack.heading in pdf.pages[0] and "The need in residents' own words" in pdf.pages[0]
    assert theme.quotes[0].text in " ".join(pdf.pages[0].split())
    assert "Limits of the evidence" in pdf.pages[-1] or "Limits of the evidence" in pdf.pages[-2]
    # A table split over two pages is tagged once on each; its caption once.
    assert len(pdf.of("/Table")) >= page.tables and len(pdf.of("/H1")) == 1
    assert len(pdf.of("/Caption")) == page.tables + len(page.alts)  # tables' and figures'
    assert len(pdf.of("/TH")) >= 20
    figures = pdf.of("/Figure")
    assert sorted(f.alt or "" for f in figures) == sorted(page.alts)
    for heading in ("Who is affected", "How big, and how it is moving"):
        tagged = [t for t in pdf.of("/H2") if t.page == pdf.page_with(heading)]
        assert tagged, f"no H2 tagged on the page that reads {heading!r}"
    weekly = next(f for f in figures if (f.alt or "").startswith("Bar chart of the answers"))
    assert weekly.page is not None and "Answers each week" in pdf.pages[weekly.page]

    whole = evidence(sqlite_db, "example", theme_id=None, zone=LONDON)
    whole_pdf = read_pdf(render_pdf(whole))
    for t in whole.themes:  # each theme starts a page of its own
        starts = [
            i for i, text in enumerate(whole_pdf.pages) if text.startswith(f"Theme {t.theme_id}. ")
        ]
        assert len(starts) == 1, [p[:40] for p in whole_pdf.pages]
    assert "Needs that cut across services" in whole_pdf.pages[0] + whole_pdf.pages[1]

    made = make_pack(sqlite_db, "example", theme_id=None, fmt="xlsx", actor="staff:22", zone=LONDON)
    book = load_workbook(io.BytesIO(made.content))
    assert {"About", "Themes", "Quotes", "Who", "Weekly", "Priorities", "Decisions", "Heard",
            "Services", "Limits"} <= set(book.sheetnames)  # fmt: skip
    rows = list(book["Themes"].iter_rows(values_only=True))
    assert rows[0][:4] == ("theme_id", "theme", "answers", "residents")
    assert {r[0]: r[2] for r in rows[1:]} == {t.theme_id: t.size.answers for t in whole.themes}
    made = make_pack(sqlite_db, "example", theme_id=seeded.buses, fmt="csv", actor="staff:22",
                     zone=LONDON)  # fmt: skip
    table = list(csv.DictReader(io.StringIO(made.content.decode("utf-8"))))
    answers = next(r for r in table if r["section"] == "Themes" and r["measure"] == "answers")
    assert answers["value"] == str(theme.size.answers)
    assert answers["about"] == f"{theme.theme_id} / {theme.label}"
    assert {r["value"] for r in table if r["section"] == "Quotes" and r["measure"] == "quote"} == {
        q.text for q in theme.quotes
    }
    with Session(sqlite_db) as session:
        audited = session.exec(select(AuditEntry).where(AuditEntry.action == "pack.make")).all()
    assert [(a.actor, a.target, a.detail.split(",")[0]) for a in audited] == [
        ("staff:22", "example whole consultation", "xlsx"),
        ("staff:22", f"example theme {seeded.buses}", "csv"),
    ]


def test_a_formula_in_a_theme_name_stays_text(sqlite_db: Engine) -> None:
    seeded: Seeded = seed_pack(sqlite_db)
    from conversations.staff import theme_edits

    with Session(sqlite_db) as session, session.begin():
        theme_edits.rename(session=session, slug="example", theme_id=seeded.damp,
                           label="=HYPERLINK(\"x\")", actor="staff:22")  # fmt: skip
    made = make_pack(sqlite_db, "example", theme_id=seeded.damp, fmt="xlsx", actor="t", zone=LONDON)
    sheet = load_workbook(io.BytesIO(made.content))["Themes"]
    assert sheet.cell(2, 2).value == '\'=HYPERLINK("x")' and sheet.cell(2, 2).data_type == "s"
