"""Jinja2 templates with autoescaping everywhere: residents' words are always shown as text.

The public pages' words are in English in the templates (`_()`, `ngettext()`,
`pgettext()`: Jinja2's i18n extension) and translated by the catalogues in
conversations/locale, into the page's language: the `lang` it is rendered with.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from bot.web.keys import TEMPLATES_KEY
from bot.web.text_direction import direction
from conversations.locale import SOURCE
from conversations.locale.catalogues import translate, translate_plural

TEMPLATES = Path(__file__).resolve().parent / "templates"


def template_environment() -> Environment:
    """Autoescape on for every template (not only .html), undefined names fail loudly."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )
    environment.filters["when"] = when
    environment.filters["percent"] = percent
    environment.filters["isotime"] = isotime
    environment.filters["local_input"] = local_input
    environment.globals["direction"] = direction
    return environment


def _language(context: Context) -> str:
    return str(context.get("lang") or SOURCE)


@pass_context
def gettext(context: Context, message: str) -> str:
    return translate(_language(context), message)


@pass_context
def ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return translate_plural(_language(context), (singular, plural), count)


@pass_context
def pgettext(context: Context, where: str, message: str) -> str:
    return translate(_language(context), message, where)


@pass_context
def npgettext(context: Context, where: str, singular: str, plural: str, count: int) -> str:
    return translate_plural(_language(context), (singular, plural), count, where)


def when(moment: datetime | None) -> str:
    """A stored time as staff read it: UTC, to the minute."""
    if moment is None:
        return "–"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def local_input(moment: datetime | None, zone: str) -> str:
    """A stored time as a datetime-local field shows it: in `zone`, to the minute."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if moment else ""


def isotime(stamp: str) -> str:
    """An ISO 8601 time from a resident's data record, shown like `when`."""
    try:
        return when(datetime.fromisoformat(stamp))
    except ValueError:
        return stamp


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def render(request: web.Request, name: str, *, status: int = 200,
           **context: Any) -> web.Response:  # fmt: skip
    """A page from a template, as UTF-8 HTML."""
    html = request.app[TEMPLATES_KEY].get_template(name).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def see_other(location: str) -> web.Response:
    """303 to a page (POST-redirect-GET), as a response that can still carry cookies."""
    return web.Response(status=303, headers={"Location": location})
