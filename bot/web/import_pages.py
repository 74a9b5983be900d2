"""Answers gathered elsewhere, imported on the dashboard: upload a file, see it checked
(each column's question, counts, the first rows as they will be stored, every bad row),
then import it as one batch; and remove a batch. Facilitators, officers and admins.

The checking and writing are bot.actions.imports and import_uploads, which the command
line uses too; every import and removal is audited with the actor "staff:<id>".
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions import import_uploads
from bot.actions.import_uploads import LEAVE_OUT
from bot.actions.imports import ImportFailure, list_batches, preview_rows, remove_batch
from bot.web.auth import Staff, signed_in
from bot.web.dashboard import page
from bot.web.guards import staff_file, staff_form, staff_post, staff_upload
from bot.web.keys import ENGINE_KEY
from bot.web.templating import see_other
from conversations.flow.numbers import record_id
from conversations.staff.import_batches import BatchSummary, batches, require_batch
from conversations.storage import store
from conversations.storage.models import Consultation

ROLES = ("facilitator", "officer", "admin")
MAX_UPLOAD = 20 * 1024 * 1024
ERRORS_SHOWN = 200


def add_routes(app: web.Application) -> None:
    app.router.add_get("/staff/c/{slug}/import", imports_page)
    app.router.add_post("/staff/c/{slug}/import", upload)
    app.router.add_get(r"/staff/c/{slug}/import/{upload:[0-9]{1,10}}", preview)
    app.router.add_post(r"/staff/c/{slug}/import/{upload:[0-9]{1,10}}/mapping", mapping)
    app.router.add_post(r"/staff/c/{slug}/import/{upload:[0-9]{1,10}}/confirm", confirm)
    app.router.add_post(r"/staff/c/{slug}/import/{upload:[0-9]{1,10}}/drop", drop)
    app.router.add_get(r"/staff/c/{slug}/import/batches/{batch:[0-9]{1,10}}/remove", removal)
    app.router.add_post(r"/staff/c/{slug}/import/batches/{batch:[0-9]{1,10}}/remove", remove)


async def _reader(request: web.Request) -> Staff:
    staff = await signed_in(request)
    if not any(staff.can(role) for role in ROLES):
        raise web.HTTPForbidden(text="importing is for facilitators, officers and admins")
    return staff


def _consultation(db: Engine, slug: str) -> Consultation:
    with Session(db) as session:
        consultation = store.consultation_by_slug(session=session, slug=slug)
        if consultation is None:
            raise web.HTTPNotFound(text="no such consultation")
        session.expunge(consultation)
        return consultation


def _number(request: web.Request, name: str) -> int:
    found = record_id(request.match_info[name])
    if found is None:
        raise web.HTTPNotFound(text="no such file or batch")
    return found


async def _home(request: web.Request, staff: Staff, *, error: str = "", status: int = 200,
                source: str = "") -> web.Response:  # fmt: skip
    db, slug = request.app[ENGINE_KEY], request.match_info["slug"]
    consultation = await asyncio.to_thread(_consultation, db, slug)
    listed = await asyncio.to_thread(list_batches, db, slug)
    done = request.query.get("done", "")
    return page(request, staff, "staff/import.html", status=status, c=consultation,
                tab="import", batches=listed, error=error, source=source,
                done=done, max_mb=MAX_UPLOAD // 2**20)  # fmt: skip


async def imports_page(request: web.Request) -> web.Response:
    """Upload a file to import; the batches imported so far."""
    return await _home(request, await _reader(request))


@staff_upload(*ROLES, max_bytes=MAX_UPLOAD)
async def upload(request: web.Request) -> web.Response:
    """A file uploaded: kept, then its preview (nothing is imported yet)."""
    staff, form = staff_post(request)
    sent = staff_file(request)
    source = form.get("source", "")
    if sent.too_large:
        return await _home(request, staff, status=413, source=source,
                           error=f"{sent.name} is larger than {MAX_UPLOAD // 2**20} MB: "
                                 "split it into parts and import each")  # fmt: skip
    if sent.content is None:
        return await _home(request, staff, status=400, source=source,
                           error="Choose a file to import (CSV or Excel .xlsx).")  # fmt: skip
    db, slug = request.app[ENGINE_KEY], request.match_info["slug"]
    try:
        upload_id = await asyncio.to_thread(import_uploads.upload, db, slug, file_name=sent.name,
                                            content=sent.content, source=source,
                                            actor=staff.actor)  # fmt: skip
    except ImportFailure as error:
        return await _home(request, staff, status=400, source=source, error=f"{error}.")
    except store.StoreError:
        raise web.HTTPNotFound(text="no such consultation") from None
    return see_other(f"/staff/c/{slug}/import/{upload_id}")


async def _preview(request: web.Request, staff: Staff, *, error: str = "",
                   status: int = 200) -> web.Response:  # fmt: skip
    db, slug = request.app[ENGINE_KEY], request.match_info["slug"]
    consultation = await asyncio.to_thread(_consultation, db, slug)
    try:
        shown = await asyncio.to_thread(import_uploads.view, db, slug, _number(request, "upload"))
    except store.StoreError as problem:
        return await _home(request, staff, status=404, error=f"{problem}.")
    rows = preview_rows(shown.checked) if shown.checked else []
    return page(request, staff, "staff/import_preview.html", status=status, c=consultation,
                tab="import", view=shown, rows=rows, error=error, leave_out=LEAVE_OUT,
                errors_shown=ERRORS_SHOWN)  # fmt: skip


async def preview(request: web.Request) -> web.Response:
    """An uploaded file checked: its columns' questions, counts, first rows, every error."""
    return await _preview(request, await _reader(request))


@staff_form(*ROLES)
async def mapping(request: web.Request) -> web.Response:
    """The columns' questions and the source as chosen: checked again."""
    staff, form = staff_post(request)
    db, slug = request.app[ENGINE_KEY], request.match_info["slug"]
    upload_id = _number(request, "upload")
    chosen = {
        form[f"heading-{n}"]: form.get(f"column-{n}", "")
        for n in range(len(form))
        if f"heading-{n}" in form
    }
    try:
        await asyncio.to_thread(import_uploads.choose, db, slug, upload_id,
                                source=form.get("source", ""), mapping=chosen)  # fmt: skip
    except ImportFailure as error:
        return await _preview(request, staff, error=f"{error}.", status=400)
    except store.StoreError as problem:
        return await _home(request, staff, status=404, error=f"{problem}.")
    return see_other(f"/staff/c/{slug}/import/{upload_id}")


@staff_form(*ROLES)
async def confirm(request: web.Request) -> web.Response:
    """Import the previewed file as one batch: all of it, or nothing."""
    staff, _ = staff_post(request)
    db, slug = request.app[ENGINE_KEY], request.match_info["slug"]
    try:
        batch = await asyncio.to_thread(import_uploads.confirm, db, slug,
                                        _number(request, "upload"), actor=staff.actor)  # fmt: skip
    except ImportFailure as error:
        return await _preview(request, staff, error=f"Nothing was imported: {error}.", status=409)
    except store.StoreError as problem:
        return await _home(request, staff, status=404, error=f"{problem}.")
    return see_other(f"/staff/c/{slug}/import?done={batch.id}")


@staff_form(*ROLES)
async def drop(request: web.Request) -> web.Response:
    """Drop an uploaded file without importing it."""
    staff, _ = staff_post(request)
    db, slug = request.app[ENGINE_KEY], request.match_info["slug"]
    try:
        await asyncio.to_thread(import_uploads.drop, db, slug, _number(request, "upload"))
    except store.StoreError as problem:
        return await _home(request, staff, status=404, error=f"{problem}.")
    return see_other(f"/staff/c/{slug}/import")


def _batch_summary(db: Engine, slug: str, batch_id: int) -> BatchSummary:
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        require_batch(session=session, batch_id=batch_id)
        found = [b for b in batches(session=session, consultation_id=consultation.id or 0)
                 if b.batch.id == batch_id]  # fmt: skip
        if not found:
            raise store.StoreError(f"there is no import batch #{batch_id} in '{slug}'")
        session.expunge(found[0].batch)
        return found[0]


async def removal(request: web.Request) -> web.Response:
    """Confirm first: what removing a batch takes away."""
    staff = await _reader(request)
    db, slug = request.app[ENGINE_KEY], request.match_info["slug"]
    consultation = await asyncio.to_thread(_consultation, db, slug)
    try:
        summary = await asyncio.to_thread(_batch_summary, db, slug, _number(request, "batch"))
    except store.StoreError as problem:
        return await _home(request, staff, status=404, error=f"{problem}.")
    return page(request, staff, "staff/import_remove.html", c=consultation, tab="import",
                summary=summary)  # fmt: skip


@staff_form(*ROLES)
async def remove(request: web.Request) -> web.Response:
    """Remove a batch: its residents, answers and what was derived from them (audited)."""
    staff, _ = staff_post(request)
    db, slug = request.app[ENGINE_KEY], request.match_info["slug"]
    batch_id = _number(request, "batch")
    try:
        await asyncio.to_thread(remove_batch, db, batch_id, actor=staff.actor, slug=slug)
    except store.StoreError as problem:
        return await _home(request, staff, status=409, error=f"Nothing was removed: {problem}.")
    return see_other(f"/staff/c/{slug}/import?done=removed-{batch_id}")
