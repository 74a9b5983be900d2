"""Decisions on the dashboard: officers record what was decided on a theme, see who will
hear it before anyone is told, confirm, and keep each decision's status up to date.

The steps are those of `needsfirst decide` and Telegram's /decide: the preview is
bot.actions.decisions.preview (who raised the theme, who can be sent it, by channel,
and who will not), the decision is bot.actions.decisions.decide, and a status change
bot.actions.decision_status.set_status; each is audited there. Nothing is sent until
the officer presses "Send to N residents" (a POST with confirm=yes).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial

from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.decision_status import STATUS_NAMES, DecisionListed, decisions_of, set_status
from bot.actions.decisions import (
    DecisionError,
    checked_text,
    decidable_themes,
    decide,
    decision_message,
    preview,
    translatable,
)
from bot.web.auth import Staff, allowed
from bot.web.dashboard import page
from bot.web.guards import staff_form, staff_post
from bot.web.keys import CONFIG_KEY, CONVERSATIONS_KEY, ENGINE_KEY
from bot.web.numbers import id_in_path
from bot.web.templating import see_other
from conversations.flow.numbers import record_id
from conversations.storage import store
from conversations.storage.models import Consultation, RunTheme
from conversations.storage.scripts import ScriptCache

ROLE = "officer"
LANGUAGE_NAMES = {"cy": "Welsh", "pl": "Polish", "ur": "Urdu"}


@dataclass(frozen=True)
class DecisionsView:
    consultation: Consultation
    titles: dict[str, str]  # the consultation's title in each language a decision is framed in
    languages: tuple[str, ...]  # other languages to translate the officer's words into
    themes: list[RunTheme]
    decisions: list[DecisionListed]


def add_routes(app: web.Application) -> None:
    app.router.add_get("/staff/c/{slug}/decisions", decisions_page)
    app.router.add_post("/staff/c/{slug}/decisions", record)
    app.router.add_post(r"/staff/c/{slug}/decisions/{decision_id:[0-9]+}/status", change_status)


def _view(db: Engine, scripts: ScriptCache, slug: str) -> DecisionsView | None:
    with Session(db) as session:
        consultation = store.consultation_by_slug(session=session, slug=slug)
        if consultation is None or consultation.id is None:
            return None
        script = scripts.get(consultation)
        languages = translatable(script)
        titles = {x: script.title.get(x, script.default_language) for x in ("en", *languages)}
        found = decidable_themes(session=session, consultation_id=consultation.id)
    return DecisionsView(consultation, titles, languages, found, decisions_of(db, slug))


async def _page(request: web.Request, staff: Staff, *, template: str = "staff/decisions.html",
                status: int = 200, **context: object) -> web.Response:  # fmt: skip
    view = await asyncio.to_thread(
        _view, request.app[ENGINE_KEY], request.app[CONVERSATIONS_KEY].scripts,
        request.match_info["slug"],
    )  # fmt: skip
    if view is None:
        raise web.HTTPNotFound(text="no such consultation")
    context = {"form": {}, "error": "", "done": "", **context}
    return page(request, staff, template, status=status, view=view, c=view.consultation,
                tab="decisions", status_names=STATUS_NAMES, language_names=LANGUAGE_NAMES,
                **context)  # fmt: skip


async def decisions_page(request: web.Request) -> web.Response:
    """The form to record a decision, and every decision with where it stands."""
    staff = await allowed(request, ROLE)
    done = request.query.get("done", "")
    return await _page(request, staff, done=DONE.get(done, ""), told=request.query.get("told", ""))


DONE = {
    "recorded": "The decision is recorded.",
    "status": "The status is saved. The public results page shows it now; no one is messaged.",
}


@staff_form(ROLE)
async def record(request: web.Request) -> web.Response:
    """Preview who will hear a decision; with confirm=yes, record it and tell them."""
    staff, form = staff_post(request)
    slug = request.match_info["slug"]
    theme_id = record_id(form.get("theme", ""))
    typed = {k: v for k, v in form.items() if k == "theme" or k.startswith("text")}

    async def refused(error: str, status: int = 400) -> web.Response:
        return await _page(request, staff, status=status, error=error, form=typed)

    if theme_id is None:
        return await refused("Choose the theme the decision is about.")
    db = request.app[ENGINE_KEY]
    translated = {k.removeprefix("text_"): v for k, v in form.items() if k.startswith("text_")}
    try:
        text = checked_text(form.get("text", ""))
        translated = {k: checked_text(v, LANGUAGE_NAMES.get(k, k)) for k, v in translated.items()
                      if v.strip()}  # fmt: skip
        if form.get("confirm") == "yes" and form.get("edit") != "yes":
            result = await asyncio.to_thread(
                partial(decide, db, slug, theme_id, text, actor=staff.actor, translated=translated)
            )
            return see_other(f"/staff/c/{slug}/decisions?done=recorded&told={result.residents}"
                             f"#decision-{result.decision_id}")  # fmt: skip
        if form.get("edit") == "yes":
            return await _page(request, staff, form=typed)
        shown = await asyncio.to_thread(
            preview, db, slug, theme_id, request.app[CONFIG_KEY].whatsapp
        )
    except store.StoreError:
        raise web.HTTPNotFound(text="no such consultation") from None
    except DecisionError as error:
        return await refused(f"Nothing was sent: {error}.", status=409)
    return await _page(request, staff, template="staff/decision_preview.html", form=typed,
                       preview=shown, text=text, translated=translated,
                       message=decision_message)  # fmt: skip


@staff_form(ROLE)
async def change_status(request: web.Request) -> web.Response:
    """Where a decision stands, with an optional public note (audited; no one is messaged)."""
    staff, form = staff_post(request)
    slug = request.match_info["slug"]
    decision_id = id_in_path(request, "decision_id", "decision")
    change = partial(set_status, request.app[ENGINE_KEY], slug, decision_id,
                     form.get("status", ""), note=form.get("note"), actor=staff.actor)  # fmt: skip
    try:
        await asyncio.to_thread(change)
    except store.StoreError:
        raise web.HTTPNotFound(text="no such consultation") from None
    except DecisionError as error:
        return await _page(request, staff, status=409, error=f"Nothing was changed: {error}.")
    return see_other(f"/staff/c/{slug}/decisions?done=status#decision-{decision_id}")
