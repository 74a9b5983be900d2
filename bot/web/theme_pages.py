"""Themes pages: the latest analysis run's themes, and officers' edits of them.

Officers and facilitators read the themes, accept, rename and merge them (through
conversations.staff.theme_edits, which audits each edit). A split and a new run
take the analysis threads: bot/web/theme_run_pages.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.analysis_runs import shown_quotes
from bot.actions.theme_languages import unread_answers
from bot.web.auth import Staff, signed_in
from bot.web.dashboard import page
from bot.web.guards import staff_form, staff_post
from bot.web.keys import CONVERSATIONS_KEY, ENGINE_KEY
from bot.web.numbers import id_in_path
from bot.web.svg_charts import SizeChart, Trend, size_chart, trend_line
from bot.web.templating import see_other
from bot.web.theme_merge_pages import merge_confirmation
from conversations.flow.numbers import record_id
from conversations.flow.script import Script
from conversations.staff import codebook, theme_edits, themes
from conversations.staff.coverage import NOT_SAID
from conversations.storage import store
from conversations.storage.models import AnalysisRun, Consultation, RunTheme, ThemeEdit
from conversations.storage.scripts import ScriptCache

log = logging.getLogger(__name__)
READERS = ("officer", "facilitator")
EDITORS = ("officer", "facilitator")
RUNNERS = ("facilitator",)
# How long the button waits for a run before saying it goes on in the background.
EDITS_SHOWN = 50


@dataclass(frozen=True)
class Group:
    label: str
    residents: int


@dataclass(frozen=True)
class ThemeCard:
    """One current theme as the page shows it."""

    theme_id: int
    label: str
    status: str
    size: int
    previous_size: int | None
    keywords: list[str]
    domains: list[str]
    quotes: list[str]
    raised_by: list[tuple[str, list[Group]]]  # dimension label -> its groups, largest first
    trend: Trend | None
    reviewed: bool  # in the codebook (officers reviewed it); else proposed, may change

    @property
    def change(self) -> int | None:
        return None if self.previous_size is None else self.size - self.previous_size


@dataclass(frozen=True)
class EarlierTheme:
    theme_id: int
    label: str
    status: str  # merged | split | gone
    into: str | None  # the label of the theme it was merged into
    parts: tuple[str, ...] = ()  # the labels of the two themes it was split into


@dataclass(frozen=True)
class EditLine:
    at: datetime
    actor: str
    what: str


@dataclass(frozen=True)
class ThemesView:
    consultation: Consultation
    title: str
    run: AnalysisRun | None
    cards: list[ThemeCard]
    earlier: list[EarlierTheme]
    chart: SizeChart
    runs: list[AnalysisRun]
    edits: list[ThemeEdit]
    labels: dict[int, str]  # every theme id seen in the latest run -> its label
    split_parts: dict[int, tuple[int, int]]  # a split's edit id -> its parts' theme ids


def add_routes(app: web.Application) -> None:
    app.router.add_get("/staff/themes", themes_index)
    app.router.add_get("/staff/c/{slug}/themes", themes_page)
    app.router.add_post(r"/staff/c/{slug}/themes/{theme_id:[0-9]+}/accept", accept_theme)
    app.router.add_post(r"/staff/c/{slug}/themes/{theme_id:[0-9]+}/rename", rename_theme)
    app.router.add_post(r"/staff/c/{slug}/themes/{theme_id:[0-9]+}/merge", merge_theme)


# --- reading ----------------------------------------------------------------------------


def _raised_by(script: Script, profile: dict[str, dict[str, int]]) -> list[tuple[str, list[Group]]]:
    """theme_profile's counts with the script's labels, in the script's order of questions."""
    result = []
    for dimension, step in script.profile_dimensions().items():
        counts = profile.get(dimension)
        if not counts:
            continue
        labels = {o.id: o.label.get("en", script.default_language) for o in step.options}
        groups = [
            Group(labels.get(group, "Not said" if group == NOT_SAID else group), residents)
            for group, residents in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ]
        result.append((dimension.replace("_", " ").capitalize(), groups))
    return result


def _view(db: Engine, scripts: ScriptCache, slug: str) -> ThemesView | None:
    with Session(db) as session:
        consultation = store.consultation_by_slug(session=session, slug=slug)
        if consultation is None or consultation.id is None:
            return None
        script = scripts.get(consultation)
        run = themes.latest_run(session=session, consultation_id=consultation.id)
        cards: list[ThemeCard] = []
        earlier: list[EarlierTheme] = []
        labels: dict[int, str] = {}
        splits = themes.officer_splits(session=session, consultation_id=consultation.id)
        split_parts = {s.edit_id: (s.parts[0].theme_id, s.parts[1].theme_id) for s in splits}
        parts_of = {s.theme_id: split_parts[s.edit_id] for s in splits}  # the latest split wins
        if run is not None and run.id is not None:
            history = themes.theme_sizes_over_runs(session=session, consultation_id=consultation.id)
            _, merges = themes.officer_edits(session=session, consultation_id=consultation.id)
            found = themes.themes_of_run(session=session, run_id=run.id)
            book = set(codebook.reviewed(session=session, consultation_id=consultation.id))
            labels = {t.theme_id: t.label for t in found}
            for theme in found:
                if not themes.is_current(theme):
                    into = merges.get(theme.theme_id)
                    parts = tuple(
                        labels.get(p, f"theme {p}")
                        for p in (
                            parts_of.get(theme.theme_id, ()) if theme.status == "split" else ()
                        )
                    )
                    earlier.append(EarlierTheme(theme.theme_id, theme.label, theme.status,
                                                labels.get(into) if into else None, parts))  # fmt: skip
                    continue
                cards.append(_card(session, script, run.id, theme, history, book))
        edits = theme_edits.recent_edits(
            session=session, consultation_id=consultation.id, limit=EDITS_SHOWN
        )
        return ThemesView(
            consultation=consultation,
            title=script.title.get("en", script.default_language),
            run=run,
            cards=cards,
            earlier=earlier,
            chart=size_chart([(c.label, c.size, c.status) for c in cards]),
            runs=themes.runs(session=session, consultation_id=consultation.id, limit=6),
            edits=edits,
            labels=labels,
            split_parts=split_parts,
        )


def _card(session: Session, script: Script, run_id: int, theme: RunTheme,
          history: list[tuple[AnalysisRun, dict[int, int]]], book: set[int]) -> ThemeCard:  # fmt: skip
    return ThemeCard(
        theme_id=theme.theme_id,
        label=theme.label,
        status=theme.status,
        size=theme.size,
        previous_size=theme.previous_size,
        keywords=list(json.loads(theme.keywords_json)),
        domains=list(json.loads(theme.domains_json)),
        quotes=shown_quotes(session, theme)[:3],
        raised_by=_raised_by(
            script, themes.theme_profile(session=session, run_id=run_id, theme_id=theme.theme_id)
        ),
        trend=trend_line([sizes.get(theme.theme_id, 0) for _, sizes in history]),
        reviewed=theme.theme_id in book,
    )


async def themes_page(request: web.Request) -> web.Response:
    """The latest run's themes, ranked by size, with the forms to edit them."""
    staff = await signed_in(request)
    return await themes_response(request, staff, request.match_info["slug"])


DONE = {
    "accepted": "The theme is in the codebook: every later run codes answers to it, under this name.",
    "renamed": "The theme has its new name and is in the codebook. Later runs keep it.",
    "merged": "The themes are merged. Later runs code both themes' answers to the one left.",
    "split": (
        "The theme is split in two, each part named from its own answers; both parts are in "
        "the codebook. Rename them if the names do not fit."
    ),
    "splitting": (
        "The split is still being worked out (an analysis may be running first). Reload this "
        "page in a minute to see the two new themes."
    ),
    "analysed": "The analysis has run: these are the themes in the answers so far.",
    "running": (
        "The analysis is still running. Reload this page in a minute or two to see the new themes."
    ),
}


async def themes_response(request: web.Request, staff: Staff, slug: str, *, error: str = "",
                  status: int = 200) -> web.Response:  # fmt: skip
    if not any(staff.can(role) for role in READERS):
        raise web.HTTPForbidden(text="themes are for officers and facilitators")
    view = await asyncio.to_thread(
        _view, request.app[ENGINE_KEY], request.app[CONVERSATIONS_KEY].scripts, slug
    )
    if view is None:
        raise web.HTTPNotFound(text="no such consultation")
    unread = None
    if view.run is not None:  # answers not themed for their language, said plainly
        unread = await asyncio.to_thread(unread_answers, request.app[ENGINE_KEY], slug)
    return page(
        request, staff, "staff/themes.html", status=status, view=view, error=error, unread=unread,
        done=DONE.get(request.query.get("done", ""), ""), tab="themes",
        edits=_edit_lines(view), can_edit=any(staff.can(r) for r in EDITORS),
        can_run=any(staff.can(r) for r in RUNNERS),
    )  # fmt: skip


def _edit_lines(view: ThemesView) -> list[EditLine]:
    def name(theme_id: int | None) -> str:
        label = view.labels.get(theme_id) if theme_id is not None else None
        return f"theme {theme_id}" + (f" (“{label}”)" if label else "")

    lines = []
    for edit in view.edits:
        if edit.action == "rename":
            what = f"renamed theme {edit.theme_id} to “{edit.label}”"
        elif edit.action == "merge":
            what = f"merged {name(edit.theme_id)} into {name(edit.other_theme_id)}"
        elif edit.action == "split" and edit.id in view.split_parts:
            first, second = view.split_parts[edit.id]
            what = f"split {name(edit.theme_id)} into {name(first)} and {name(second)}"
        else:
            what = f"{edit.action} theme {edit.theme_id}"
        lines.append(EditLine(at=edit.at, actor=edit.actor, what=what))
    return lines


@dataclass(frozen=True)
class Latest:
    consultation: Consultation
    run: AnalysisRun | None
    top: list[str]


async def themes_index(request: web.Request) -> web.Response:
    """Every consultation with its latest analysis and its three largest themes."""
    staff = await signed_in(request)
    if not any(staff.can(role) for role in READERS):
        raise web.HTTPForbidden(text="themes are for officers and facilitators")
    db = request.app[ENGINE_KEY]

    def load() -> list[Latest]:
        with Session(db) as session:
            result = []
            for consultation in store.all_consultations(session=session):
                assert consultation.id is not None
                run = themes.latest_run(session=session, consultation_id=consultation.id)
                top = []
                if run is not None and run.id is not None:
                    top = [
                        t.label
                        for t in themes.themes_of_run(session=session, run_id=run.id)
                        if themes.is_current(t)
                    ][:3]
                result.append(Latest(consultation, run, top))
            return result

    return page(request, staff, "staff/themes_index.html", latest=await asyncio.to_thread(load))


# --- editing ------------------------------------------------------------------------------


@staff_form(*EDITORS)
async def accept_theme(request: web.Request) -> web.Response:
    """Accept a proposed theme into the codebook as it is (officers and facilitators; audited)."""
    staff, _ = staff_post(request)
    slug, theme_id = request.match_info["slug"], id_in_path(request, "theme_id", "theme")
    db = request.app[ENGINE_KEY]

    def edit() -> None:
        with Session(db) as session, session.begin():
            theme_edits.confirm(session=session, slug=slug, theme_id=theme_id, actor=staff.actor)

    return await _edited(request, staff, slug, edit, f"accepted#theme-{theme_id}")


@staff_form(*EDITORS)
async def rename_theme(request: web.Request) -> web.Response:
    """Give a theme a new name (officers and facilitators; audited)."""
    staff, form = staff_post(request)
    slug, theme_id = request.match_info["slug"], id_in_path(request, "theme_id", "theme")
    label = form.get("label", "")
    db = request.app[ENGINE_KEY]

    def edit() -> None:
        with Session(db) as session, session.begin():
            theme_edits.rename(session=session, slug=slug, theme_id=theme_id, label=label,
                               actor=staff.actor)  # fmt: skip

    return await _edited(request, staff, slug, edit, f"renamed#theme-{theme_id}")


@staff_form(*EDITORS)
async def merge_theme(request: web.Request) -> web.Response:
    """Fold a theme into another, once confirmed (officers and facilitators; audited)."""
    staff, form = staff_post(request)
    slug, theme_id = request.match_info["slug"], id_in_path(request, "theme_id", "theme")
    into = record_id(form.get("into", ""))
    if into is None:
        return await themes_response(request, staff, slug, error="Choose the theme to merge into.",
                             status=400)  # fmt: skip
    # A merge cannot be undone: say what it does first (unless the pair cannot be merged).
    if form.get("confirm") != "yes" and (
        asked := await merge_confirmation(request, staff, slug, theme_id, into)
    ):
        return asked
    db = request.app[ENGINE_KEY]

    def edit() -> None:
        with Session(db) as session, session.begin():
            theme_edits.merge(session=session, slug=slug, theme_id=theme_id, into_id=into,
                              actor=staff.actor)  # fmt: skip

    return await _edited(request, staff, slug, edit, f"merged#theme-{into}")


async def _edited(request: web.Request, staff: Staff, slug: str, edit: Callable[[], None],
                  done: str) -> web.Response:  # fmt: skip
    try:
        await asyncio.to_thread(edit)
    except store.StoreError:
        raise web.HTTPNotFound(text="no such consultation") from None
    except theme_edits.ThemeEditError as error:
        return await themes_response(request, staff, slug, error=f"Nothing was changed: {error}.",
                             status=409)  # fmt: skip
    return see_other(f"/staff/c/{slug}/themes?done={done}")
