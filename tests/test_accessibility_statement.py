"""The accessibility statement: one file a language, [organisation] from the config,
linked from every page's footer, and each page's writing direction from one table."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.config import ConfigError, OrganisationConfig
from bot.config_loading import load_config
from bot.web.accessibility import STATEMENTS, linked, load_statements
from bot.web.text_direction import direction
from conversations.locale import LANGUAGES
from tests.web_helpers import web_client, web_config

COUNCIL = OrganisationConfig(
    name="Riverside & District Council", contact_email="access@riverside.example",
    contact_phone="01632 960 001", response_working_days=7, statement_reviewed="2026-11-30",
)  # fmt: skip


def test_every_language_we_offer_has_a_statement_with_every_key() -> None:
    statements = load_statements()
    assert set(LANGUAGES) <= set(statements), "a language without an accessibility statement"
    english = statements["en"]
    for code, statement in statements.items():
        assert set(statement.texts) == set(english.texts), code
        assert set(statement.lists) == set(english.lists), code
        assert statement.texts["link"] and statement.texts["language_name"], code


def test_a_statement_missing_a_key_or_with_an_unknown_place_stops_the_start(
    tmp_path: Path,
) -> None:
    english = (STATEMENTS / "en.toml").read_text(encoding="utf-8")
    (tmp_path / "en.toml").write_text(english, encoding="utf-8")
    (tmp_path / "xx.toml").write_text(english.replace('burden = "We are', 'bruden = "We are'),
                                      encoding="utf-8")  # fmt: skip
    with pytest.raises(ValueError, match=r"xx.toml: missing \['burden'\], unknown \['bruden'\]"):
        load_statements(tmp_path)
    (tmp_path / "xx.toml").write_text(english.replace("{days} working", "{dayz} working"),
                                      encoding="utf-8")  # fmt: skip
    with pytest.raises(
        ValueError, match=r"xx.toml: reply_time: \{dayz\} is not one of \{organisation\}"
    ):
        load_statements(tmp_path)
    (tmp_path / "xx.toml").write_text(english.replace('burden = "We are not claiming', 'burden = ["We are not claiming').replace("part of this service.\"", "part of this service.\"]"),
                                      encoding="utf-8")  # fmt: skip
    with pytest.raises(
        ValueError, match=r"xx.toml: these must be lists, as in en.toml: \['burden'\]"
    ):
        load_statements(tmp_path)


def test_links_are_made_only_from_the_statement_never_from_a_value() -> None:
    text = "Contact {organisation} at [{email}](mailto:{email}) or [EASS](https://eass.example/)."
    shown = linked(
        text, {"organisation": "<b>[x](https://evil.example)</b>", "email": "a@b.example"}
    )
    assert shown == (
        "Contact &lt;b&gt;[x](https://evil.example)&lt;/b&gt; at "
        '<a href="mailto:a@b.example" dir="auto">a@b.example</a> or '
        '<a href="https://eass.example/" dir="auto">EASS</a>.'
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en", "ltr"), ("cy", "ltr"), ("ur", "rtl"), ("ur-PK", "rtl"), ("AR", "rtl"), ("he_IL", "rtl"),
     ("fa", "rtl"), ("pl", "ltr"), ("", "ltr")],
)  # fmt: skip
def test_the_direction_of_a_language(code: str, expected: str) -> None:
    assert direction(code) == expected


async def test_the_statement_names_the_council_and_how_to_reach_it(sqlite_db: Engine) -> None:
    config = replace(web_config(public_url="https://needs.riverside.example"), organisation=COUNCIL)
    async with web_client(sqlite_db, config) as client:
        page = await (await client.get("/accessibility")).text()
        welsh = await (await client.get("/accessibility?lang=cy")).text()
    assert '<html lang="en" dir="ltr">' in page
    assert "This service is run by Riverside &amp; District Council." in page
    assert (
        '<a href="mailto:access@riverside.example" dir="auto">access@riverside.example</a>' in page
    )
    assert '<a href="tel:01632960001" dir="auto">01632 960 001</a>' in page
    assert "within 7 working days" in page
    assert (
        '<a href="https://needs.riverside.example" dir="auto">https://needs.riverside.example</a>'
        in page
    )
    assert (
        "prepared on 6 December 2026. It was last reviewed on 30 November 2026 by Riverside" in page
    )
    assert "Equality Advisory and Support Service (EASS)" in page
    assert "Equality Commission for Northern" in page
    assert "Web Content Accessibility Guidelines version 2.2" in page
    assert 'id="incomplete"' not in page
    assert '<html lang="cy" dir="ltr">' in welsh
    assert "Riverside &amp; District Council sy&#39;n rhedeg y gwasanaeth hwn" in welsh
    assert "o fewn 7 diwrnod gwaith" in welsh
    assert "30 Tachwedd 2026" in welsh
    assert '<a href="/accessibility?lang=en" lang="en" hreflang="en" dir="ltr">English</a>' in welsh


async def test_until_the_council_fills_in_its_details_the_statement_says_so(
    sqlite_db: Engine,
) -> None:
    async with web_client(sqlite_db) as client:
        page = html.unescape(await (await client.get("/accessibility")).text())
    assert 'id="incomplete"' in page and "This statement is not finished" in page
    assert "This service is run by the council." in page
    assert "the council has not yet reviewed it." in page
    assert "mailto:" not in page and "tel:" not in page


async def test_every_page_links_to_the_statement_in_its_own_language(sqlite_db: Engine) -> None:
    async with web_client(sqlite_db) as client:
        pages = {
            "front": await (await client.get("/")).text(),
            "chat": await (await client.get("/c/example")).text(),
            "chat (cy)": await (await client.get("/c/example", headers={"Accept-Language": "cy"})).text(),
            "results (cy)": await (await client.get("/c/example/results?lang=cy")).text(),
            "not found": await (await client.get("/c/nothing-here")).text(),
            "staff sign-in": await (await client.get("/staff/")).text(),
        }  # fmt: skip
    for name, page in pages.items():
        language = "cy" if "(cy)" in name else "en"
        words = "Datganiad hygyrchedd" if language == "cy" else "Accessibility statement"
        link = f'<a href="/accessibility?lang={language}" id="accessibility-link">{words}</a>'
        assert link in page, name


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("name", '"Riverside\\nCouncil"', "one line"),
        ("contact_email", "'access at riverside'", "is not an email address"),
        ("contact_phone", "'call us'", "is not a phone number"),
        ("contact_phone", "'12'", "is not a phone number"),
        ("response_working_days", "0", "from 1 to 60"),
        ("statement_reviewed", "'30/11/2026'", 'a date such as "2026-12-06"'),
        ("statement_reviewed", "'2999-01-01'", "is in the future"),
        ("statement_reviewed", "2026-11-30", "must be a string"),
    ],
)
def test_bad_organisation_settings_are_named(tmp_path: Path, key: str, value: str,
                                             problem: str) -> None:  # fmt: skip
    path = tmp_path / "config.toml"
    path.write_text(f"[organisation]\n{key} = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as raised:
        load_config(path, environ={})
    assert raised.value.key == f"organisation.{key}" and raised.value.source == str(path)


def test_good_organisation_settings_are_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[organisation]\nname = 'Riverside & District Council'\n"
        "contact_email = 'access@riverside.example'\ncontact_phone = '01632 960 001'\n"
        "response_working_days = 7\nstatement_reviewed = '2026-11-30'\n",
        encoding="utf-8",
    )
    assert load_config(path, environ={}).organisation == COUNCIL
    assert not COUNCIL.incomplete and OrganisationConfig().incomplete


def test_the_stylesheet_places_things_sideways_only_by_logical_properties() -> None:
    """left/right would not mirror in a right-to-left page; inline-start/end do."""
    css = (Path(__file__).parents[1] / "bot/web/static/style.css").read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)  # comments may say "left"
    physical = re.findall(r"[\w-]*\b(?:left|right)\b[\w-]*\s*:[^;]*;|:\s*(?:left|right)\s*;", css)
    assert physical == []
