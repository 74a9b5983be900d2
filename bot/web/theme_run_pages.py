"""Theme work in the analysis threads: a new run now, and the split of a theme in two.

The analysis is minutes of CPU on a large consultation, and a split vectorises and
clusters a theme's answers, so both run in the application's own analysis threads,
never in the default executor that every database call shares. The page waits a
little for them, then says they are still going.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from functools import partial
from typing import Any

from aiohttp import web

from bot.actions.analysis_runs import AnalysisError, split_stored_theme
from bot.actions.theme_runs import analyse_consultation
from bot.web.guards import staff_form, staff_post
from bot.web.keys import ANALYSIS_KEY, ENGINE_KEY
from bot.web.numbers import id_in_path
from bot.web.templating import see_other
from bot.web.theme_pages import EDITORS, RUNNERS, themes_response
from conversations.flow.numbers import whole_number
from conversations.staff import theme_edits
from conversations.storage import store

log = logging.getLogger(__name__)

WAIT_FOR_RUN = 20.0
MAX_THEMES = 30


def add_routes(app: web.Application) -> None:
    app.router.add_post("/staff/c/{slug}/themes/analyse", run_analysis)
    app.router.add_post(r"/staff/c/{slug}/themes/{theme_id:[0-9]+}/split", split_theme)


@staff_form(*RUNNERS)
async def run_analysis(request: web.Request) -> web.Response:
    """Theme the answers now (facilitators); waits a little, then leaves it running."""
    staff, form = staff_post(request)
    slug = request.match_info["slug"]
    wanted = form.get("themes", "").strip()
    n_themes: int | None = None
    if wanted:
        n_themes = whole_number(wanted, minimum=2, maximum=MAX_THEMES)
        if n_themes is None:
            message = f"The number of themes is a whole number from 2 to {MAX_THEMES}, or empty."
            return await themes_response(request, staff, slug, error=message, status=400)
    run = partial(
        analyse_consultation, request.app[ENGINE_KEY], slug, actor=staff.actor, n_themes=n_themes
    )
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(request.app[ANALYSIS_KEY], run)
    future.add_done_callback(_log_failure)
    try:
        await asyncio.wait_for(asyncio.shield(future), WAIT_FOR_RUN)
    except TimeoutError:
        return see_other(f"/staff/c/{slug}/themes?done=running")
    except store.StoreError:
        raise web.HTTPNotFound(text="no such consultation") from None
    except AnalysisError as error:
        message = f"The analysis did not run: {error}. Try again when more residents have answered."
        return await themes_response(request, staff, slug, error=message, status=409)
    return see_other(f"/staff/c/{slug}/themes?done=analysed")


def _log_failure(future: asyncio.Future[Any] | Future[Any]) -> None:
    """A run or split that failed unexpectedly (or after the page stopped waiting) is logged."""
    if future.cancelled():
        return
    error = future.exception()
    expected = AnalysisError | store.StoreError | theme_edits.ThemeEditError
    if error is not None and not isinstance(error, expected):
        log.error("theme analysis or split failed", exc_info=error)


@staff_form(*EDITORS)
async def split_theme(request: web.Request) -> web.Response:
    """Divide a theme in two (officers and facilitators; audited), in the analysis thread."""
    staff, _ = staff_post(request)
    slug, theme_id = request.match_info["slug"], id_in_path(request, "theme_id", "theme")
    split = partial(split_stored_theme, request.app[ENGINE_KEY], slug, theme_id, actor=staff.actor)
    # It may wait behind a running analysis in the same thread: wait a little, then say so.
    future = asyncio.get_running_loop().run_in_executor(request.app[ANALYSIS_KEY], split)
    future.add_done_callback(_log_failure)
    try:
        result = await asyncio.wait_for(asyncio.shield(future), WAIT_FOR_RUN)
    except TimeoutError:
        return see_other(f"/staff/c/{slug}/themes?done=splitting")
    except store.StoreError:
        raise web.HTTPNotFound(text="no such consultation") from None
    except theme_edits.ThemeEditError as error:
        return await themes_response(request, staff, slug, error=f"Nothing was changed: {error}.",
                             status=409)  # fmt: skip
    return see_other(f"/staff/c/{slug}/themes?done=split#theme-{result.parts[0][0]}")
