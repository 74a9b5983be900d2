"""The digest archive: every stored weekly digest, read again as it stands today.

Sent documents are not kept (they quote residents, who may ask to be forgotten),
so a past digest is re-rendered by bot.actions.digests.archived from what is stored now.
The report is a document of its own, with its own inline styles: it is served
with a policy that allows those styles and nothing else (no scripts at all).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlmodel import Session

from bot.actions.digests import Documents, archived, build_to_read, pack_of
from bot.web.auth import Staff, signed_in
from bot.web.dashboard import page
from bot.web.guards import staff_form, staff_post
from bot.web.keys import CONFIG_KEY, ENGINE_KEY
from bot.web.numbers import id_in_path
from bot.web.templating import see_other
from conversations.staff import digest_archive
from conversations.storage import store
from conversations.storage.models import Consultation

READERS = ("officer", "facilitator")
LISTED = 100
REPORT_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


@dataclass(frozen=True)
class StoredDigest:
    digest_id: int
    slug: str
    title: str
    kind: str
    period_start: datetime
    period_end: datetime
    built_at: datetime
    with_pack: bool


def add_routes(app: web.Application) -> None:
    app.router.add_get("/staff/digests", digests_index)
    app.router.add_post("/staff/digests", build_digest)
    app.router.add_get(r"/staff/digests/{digest_id:[0-9]+}", digest_report)
    app.router.add_get(r"/staff/digests/{digest_id:[0-9]+}.csv", digest_table)
    app.router.add_get(r"/staff/digests/{digest_id:[0-9]+}/pack.pdf", digest_pack)


async def _reader(request: web.Request) -> Staff:
    staff = await signed_in(request)
    if not any(staff.can(role) for role in READERS):
        raise web.HTTPForbidden(text="digests are for officers and facilitators")
    return staff


async def digests_index(request: web.Request) -> web.Response:
    """Stored digests, newest first, with links to read each one again."""
    return await _index(request, await _reader(request))


async def _index(request: web.Request, staff: Staff, *, quiet: str = "", chosen: str = "",
                 error: str = "", status: int = 200) -> web.Response:  # fmt: skip
    built = request.query.get("built", "")
    db = request.app[ENGINE_KEY]

    def load() -> tuple[list[StoredDigest], list[Consultation]]:
        with Session(db) as session:
            rows = digest_archive.stored_digests(session=session, limit=LISTED)
            return [
                StoredDigest(
                    d.id or 0,
                    c.slug,
                    c.title,
                    d.kind,
                    d.period_start,
                    d.period_end,
                    d.built_at,
                    d.with_pack,
                )
                for d, c in rows
            ], list(store.all_consultations(session=session))

    digests, consultations = await asyncio.to_thread(load)
    just_built = next((d for d in digests if str(d.digest_id) == built), None)
    return page(request, staff, "staff/digests.html", status=status, digests=digests,
                consultations=consultations, quiet=quiet, chosen=chosen, error=error,
                built=just_built)  # fmt: skip


@staff_form(*READERS)
async def build_digest(request: web.Request) -> web.Response:
    """Build the digest of the last 7 days now, as `needsfirst digest` does, and show it
    (officers, facilitators; audited). A quiet week says so instead. With the evidence
    pack, the archive is shown with the new digest's report and pack at its top."""
    staff, form = staff_post(request)
    slug = form.get("slug", "")
    pack = form.get("with_pack") == "yes"
    zone = ZoneInfo(request.app[CONFIG_KEY].digest.timezone)
    try:
        documents, digest_id = await asyncio.to_thread(
            partial(
                build_to_read, request.app[ENGINE_KEY], slug, zone, actor=staff.actor, pack=pack
            )
        )
    except store.StoreError:
        return await _index(request, staff, error="Choose a consultation from the list.",
                            status=400)  # fmt: skip
    if digest_id is None:
        return await _index(request, staff, quiet=documents.summary, chosen=slug)
    if pack:
        return see_other(f"/staff/digests?built={digest_id}")
    return see_other(f"/staff/digests/{digest_id}")


async def _documents(request: web.Request) -> Documents:
    await _reader(request)
    zone = ZoneInfo(request.app[CONFIG_KEY].digest.timezone)
    digest_id = id_in_path(request, "digest_id", "digest")
    try:
        return await asyncio.to_thread(archived, request.app[ENGINE_KEY], digest_id, zone)
    except store.StoreError:
        raise web.HTTPNotFound(text="no such digest") from None


async def digest_report(request: web.Request) -> web.Response:
    """A past digest's full report, as it reads today."""
    documents = await _documents(request)
    return web.Response(
        text=documents.html,
        content_type="text/html",
        charset="utf-8",
        headers={"Content-Security-Policy": REPORT_POLICY},
    )


async def digest_table(request: web.Request) -> web.Response:
    """A past digest's table, as the CSV file officers receive."""
    documents = await _documents(request)
    return web.Response(
        text=documents.csv,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{documents.filename("csv")}"'},
    )


async def digest_pack(request: web.Request) -> web.Response:
    """The evidence pack of a digest that carries one, as the whole consultation's pack
    reads today (the PDF sent is not kept); its making is audited with the reader."""
    staff = await _reader(request)
    zone = ZoneInfo(request.app[CONFIG_KEY].digest.timezone)
    digest_id = id_in_path(request, "digest_id", "digest")
    try:
        made = await asyncio.to_thread(
            partial(pack_of, request.app[ENGINE_KEY], digest_id, zone, actor=staff.actor)
        )
    except store.StoreError:
        raise web.HTTPNotFound(text="this digest has no evidence pack") from None
    return web.Response(
        body=made.content,
        content_type=made.media_type,
        headers={"Content-Disposition": f'attachment; filename="{made.name}"'},
    )
