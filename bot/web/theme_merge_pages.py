"""The confirmation before two themes are merged: what will happen, to how many answers.

A merge is folded into the codebook at once and cannot be undone (only a split
divides a theme again), so bot.web.theme_pages.merge_theme shows this page for a
form without confirm=yes, and merges only when it is pressed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session

from bot.web.auth import Staff
from bot.web.dashboard import page
from bot.web.keys import ENGINE_KEY
from conversations.staff import themes
from conversations.storage import store
from conversations.storage.models import Consultation, RunTheme


@dataclass(frozen=True)
class MergePair:
    consultation: Consultation
    absorbed: RunTheme  # the theme that goes
    survivor: RunTheme  # the theme that stays, with both themes' answers


def _pair(db: Engine, slug: str, theme_id: int, into_id: int) -> MergePair | None:
    """Both themes as they are in the latest run, if both are current."""
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        run = themes.latest_run(session=session, consultation_id=consultation.id)
        if run is None or run.id is None:
            return None
        live = {
            t.theme_id: t
            for t in themes.themes_of_run(session=session, run_id=run.id)
            if themes.is_current(t)
        }
        if theme_id not in live or into_id not in live or theme_id == into_id:
            return None
        return MergePair(consultation, live[theme_id], live[into_id])


async def merge_confirmation(request: web.Request, staff: Staff, slug: str, theme_id: int,
                             into_id: int) -> web.Response | None:  # fmt: skip
    """The page that asks first; None when the pair cannot be merged (the merge says why)."""
    try:
        pair = await asyncio.to_thread(_pair, request.app[ENGINE_KEY], slug, theme_id, into_id)
    except store.StoreError:
        raise web.HTTPNotFound(text="no such consultation") from None
    if pair is None:
        return None
    return page(request, staff, "staff/theme_merge.html", pair=pair, c=pair.consultation,
                tab="themes")  # fmt: skip
