"""Reading and coding answers: every answer of a theme, or those not yet themed, page by
page and searchable, with an officer's code for each (move, add, take off, not a need).

The codes go through conversations.staff.codebook, which keeps them for every later run,
applies them to the latest run at once and audits them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session

from analysis.personal_details.scrub import scrub
from analysis.themes.languages import NAMES
from bot.actions.theme_languages import Unread, unread_answers, unread_sentence
from bot.web.auth import signed_in
from bot.web.dashboard import page
from bot.web.guards import staff_form, staff_post
from bot.web.keys import ENGINE_KEY
from bot.web.templating import see_other
from conversations.flow.numbers import whole_number
from conversations.staff import codebook, themes
from conversations.staff.coded_answers import AnswersPage, answers_page, theme_list
from conversations.storage import store

READERS = ("officer", "facilitator")
CODERS = ("officer", "facilitator")
PER_PAGE = 25
ACTIONS = {"move", "add", "remove", "not-a-need"}


@dataclass(frozen=True)
class AnswersView:
    slug: str
    theme_id: int | None  # None: the answers not yet themed
    theme_name: str
    reviewed: bool
    page: AnswersPage
    search: str
    names: dict[int, str]  # every current theme's name, for the forms
    shown: dict[int, str]  # each answer on the page, scrubbed of personal details
    language: str = ""  # only the answers not themed for this language (not yet themed)
    unread_note: str = ""  # why they were not themed


def add_routes(app: web.Application) -> None:
    app.router.add_get(r"/staff/c/{slug}/themes/{theme:[0-9]{1,10}|unthemed}/answers", answers)
    app.router.add_post(r"/staff/c/{slug}/answers/{answer_id:[0-9]{1,10}}/code", code)


def _view(db: Engine, slug: str, theme_id: int | None, search: str, number: int,
          language: str = "") -> AnswersView | None:  # fmt: skip
    only = None
    note = ""
    if language and theme_id is None:  # the answers not themed for their language
        try:
            unread = unread_answers(db, slug)
        except store.StoreError:
            return None
        only = unread.answers.get(language, ())
        note = unread_sentence(len(only), language, unread.reads)
    with Session(db) as session:
        consultation = store.consultation_by_slug(session=session, slug=slug)
        if consultation is None or consultation.id is None:
            return None
        listed = theme_list(session=session, consultation_id=consultation.id) or []
        names = {t["id"]: t["name"] for t in listed}
        if theme_id is not None and theme_id not in names:
            return None
        found = answers_page(session=session, consultation_id=consultation.id,
                             theme_id=theme_id, search=search, page=number,
                             per_page=PER_PAGE, only=only)  # fmt: skip
    reviewed = any(t["reviewed"] for t in listed if t["id"] == theme_id)
    name = names[theme_id] if theme_id is not None else "Not yet themed"
    shown = {a.answer_id: scrub(" ".join(a.text.split())) for a in found.answers}
    if only is not None:
        name = f"Not themed: answers in {Unread.name(language)}"
    return AnswersView(slug, theme_id, name, reviewed, found, search, names, shown, language, note)


async def answers(request: web.Request) -> web.Response:
    """A theme's answers (or those not yet themed), paged and searchable, with codes."""
    staff = await signed_in(request)
    if not any(staff.can(role) for role in READERS):
        raise web.HTTPForbidden(text="themes are for officers and facilitators")
    slug, theme = request.match_info["slug"], request.match_info["theme"]
    theme_id = None if theme == "unthemed" else whole_number(theme)
    if theme != "unthemed" and theme_id is None:
        raise web.HTTPNotFound(text="no such theme")
    search = " ".join(request.query.get("q", "").split())[:200]
    number = whole_number(request.query.get("page", "1")) or 1
    language = request.query.get("language", "")
    if language and (theme_id is not None or language not in NAMES):
        raise web.HTTPBadRequest(text=f"no such language: choose one of {', '.join(NAMES)}")
    view = await asyncio.to_thread(
        _view, request.app[ENGINE_KEY], slug, theme_id, search, number, language
    )
    if view is None:
        raise web.HTTPNotFound(text="no such consultation or theme")
    return page(
        request, staff, "staff/theme_answers.html", view=view, tab="themes",
        can_code=any(staff.can(r) for r in CODERS), done=request.query.get("done") == "coded",
        back=request.path_qs,
    )  # fmt: skip


@staff_form(*CODERS)
async def code(request: web.Request) -> web.Response:
    """An officer's code of one answer (officers and facilitators; audited)."""
    staff, form = staff_post(request)
    slug = request.match_info["slug"]
    answer_id = whole_number(request.match_info["answer_id"])
    action = form.get("action", "")
    theme_id = whole_number(form.get("theme", ""))
    back = form.get("back", "").replace("&done=coded", "").replace("?done=coded", "")
    if not back.startswith(f"/staff/c/{slug}/themes/") or "//" in back:
        back = f"/staff/c/{slug}/themes"
    if answer_id is None or action not in ACTIONS:
        raise web.HTTPBadRequest(text="choose what to do with the answer")
    if action != "not-a-need" and theme_id is None:
        raise web.HTTPBadRequest(text="choose a theme")
    db = request.app[ENGINE_KEY]

    def give() -> None:
        with Session(db) as session, session.begin():
            consultation = store.require_consultation(session=session, slug=slug)
            assert consultation.id is not None
            run = themes.latest_run(session=session, consultation_id=consultation.id)
            if run is None:
                raise codebook.CodingError(f"'{slug}' has not been analysed yet")
            codebook.code_answer(session=session, consultation=consultation, run=run,
                                 answer_id=answer_id, action=action,
                                 theme_id=None if action == "not-a-need" else theme_id,
                                 actor=staff.actor)  # fmt: skip

    try:
        await asyncio.to_thread(give)
    except store.StoreError:
        raise web.HTTPNotFound(text="no such consultation") from None
    except codebook.CodingError as error:
        raise web.HTTPConflict(text=f"Nothing was changed: {error}.") from None
    separator = "&" if "?" in back else "?"
    return see_other(f"{back}{separator}done=coded#answer-{answer_id}")
