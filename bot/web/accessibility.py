"""The public accessibility statement at /accessibility, in every language we offer.

Its words are one TOML file a language in bot/web/statements/ (GOV.UK's model
statement, filled in for Needs First); who runs this instance, and how to reach them,
come from [organisation] in config.toml. Every file is read and checked when the
application is built, so a broken translation stops the service at start-up rather
than on a resident's screen. Every page's footer links here (base.html).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from aiohttp import web
from markupsafe import Markup, escape

from bot.config import Config
from bot.config_organisation import reviewed_on
from bot.web.keys import CONFIG_KEY, TEMPLATES_KEY
from bot.web.results_pages import reader_language
from bot.web.templating import render
from conversations.residents.texts import a_date

STATEMENTS = Path(__file__).resolve().parent / "statements"
# [its words](address): a link; the address is https, mailto:, tel: or one of ours.
LINK = re.compile(r"\[([^\]]+)\]\(((?:https://|mailto:|tel:|/|\{website\})[^)\s]*)\)")
PLACES = ("organisation", "email", "phone", "phone_link", "days", "website", "prepared",
          "reviewed")  # fmt: skip
UNFILLED = {"organisation_unset", "language_name", "link", "languages"}


@dataclass(frozen=True)
class Statement:
    language: str
    prepared: date
    texts: Mapping[str, str]
    lists: Mapping[str, tuple[str, ...]]


STATEMENTS_KEY = web.AppKey("statements", dict[str, Statement])


def load_statements(directory: Path = STATEMENTS) -> dict[str, Statement]:
    """Every language's statement, checked against the English one's keys."""
    statements = {path.stem: _read(path) for path in sorted(directory.glob("*.toml"))}
    if "en" not in statements:
        raise ValueError(f"{directory}: en.toml is missing (every other language follows it)")
    english = statements["en"]
    for code, statement in statements.items():
        keys, expected = {*statement.texts, *statement.lists}, {*english.texts, *english.lists}
        missing, extra = expected - keys, keys - expected
        if missing or extra:
            raise ValueError(f"{directory / code}.toml: missing {sorted(missing)}, "
                             f"unknown {sorted(extra)}")  # fmt: skip
        if set(statement.lists) != set(english.lists):
            raise ValueError(f"{directory / code}.toml: these must be lists, as in en.toml: "
                             f"{sorted(set(english.lists) ^ set(statement.lists))}")  # fmt: skip
    return statements


def _read(path: Path) -> Statement:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: {error}") from error
    prepared = document.pop("prepared", None)
    if not isinstance(prepared, date):
        raise ValueError(f"{path}: prepared: must be a date such as 2026-12-06")
    texts: dict[str, str] = {}
    lists: dict[str, tuple[str, ...]] = {}
    for key, value in document.items():
        if isinstance(value, str):
            texts[key] = value
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            lists[key] = tuple(value)
        else:
            raise ValueError(f"{path}: {key}: must be text or a list of texts")
        for text in [value] if isinstance(value, str) else value:
            try:
                linked(text, dict.fromkeys(PLACES, "x"))
            except KeyError as error:
                raise ValueError(
                    f"{path}: {key}: {{{error.args[0]}}} is not one of "
                    f"{', '.join('{' + place + '}' for place in PLACES)}"
                ) from error
            except (ValueError, IndexError) as error:  # a lone { or }: write {{ or }}
                raise ValueError(f"{path}: {key}: {error}") from error
    return Statement(path.stem, prepared, texts, lists)


def linked(text: str, values: Mapping[str, str]) -> Markup:
    """`text` with its {places} filled in and its [words](address) as links, escaped:
    a value (the council's name, say) can never become markup or a link."""
    parts: list[str] = []
    at = 0
    for found in LINK.finditer(text):
        parts.append(escape(text[at : found.start()].format_map(values)))
        words, address = found.group(1).format_map(values), found.group(2).format_map(values)
        # dir=auto: an address keeps its order in a right-to-left page, words theirs.
        parts.append(Markup('<a href="{}" dir="auto">{}</a>').format(address, words))
        at = found.end()
    parts.append(escape(text[at:].format_map(values)))
    return Markup("").join(parts)


def filled(statement: Statement, config: Config, website: str) -> dict[str, object]:
    """The statement's texts and lists as the page shows them, for this instance."""
    organisation = config.organisation
    language = statement.language
    reviewed = organisation.statement_reviewed
    values = {
        "organisation": organisation.name or statement.texts["organisation_unset"],
        "email": organisation.contact_email,
        "phone": organisation.contact_phone,
        "phone_link": re.sub(r"[^0-9+]", "", organisation.contact_phone),
        "days": str(organisation.response_working_days),
        "website": website,
        "prepared": _day(statement.prepared, language),
        "reviewed": _day(reviewed_on(config.source, reviewed), language) if reviewed else "",
    }
    page: dict[str, object] = {key: text for key, text in statement.texts.items()
                               if key in UNFILLED}  # fmt: skip
    page |= {key: linked(text, values) for key, text in statement.texts.items()
             if key not in UNFILLED}  # fmt: skip
    page |= {key: [linked(item, values) for item in items]
             for key, items in statement.lists.items()}  # fmt: skip
    return page


def _day(day: date, language: str) -> str:
    return a_date(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), language,
                  with_time=False)  # fmt: skip


def link_text(statements: Mapping[str, Statement]) -> object:
    """For the footer of every page: the link's words in the page's language."""
    return lambda language: (statements.get(language) or statements["en"]).texts["link"]


def add_routes(app: web.Application) -> None:
    statements = load_statements()
    app[STATEMENTS_KEY] = statements
    app[TEMPLATES_KEY].globals["statement_link"] = link_text(statements)
    app.router.add_get("/accessibility", statement_page)


async def statement_page(request: web.Request) -> web.Response:
    """The statement in the reader's language (`?lang=`, their chat's, their browser's)."""
    statements = request.app[STATEMENTS_KEY]
    language = request.query.get("lang", "")
    if language not in statements:
        language = await reader_language(request)
    statement = statements.get(language) or statements["en"]
    config = request.app[CONFIG_KEY]
    website = config.web.public_url.rstrip("/") or f"{request.scheme}://{request.host}"
    others = [(code, other.texts["language_name"]) for code, other in statements.items()
              if code != statement.language]  # fmt: skip
    return render(
        request,
        "accessibility.html",
        lang=statement.language,
        s=filled(statement, config, website),
        incomplete=config.organisation.incomplete,
        reviewed=bool(config.organisation.statement_reviewed),
        organisation=config.organisation,
        others=others,
    )
