"""The safeguarding page: flags for the safeguarding leads, and only for them.

Open flags come first. A flag's page shows what the resident wrote, the rest of
their answers, when and through which channel (or, for answers gathered elsewhere,
the source and file they were imported from), and the help they were shown; a
lead acknowledges it, adds notes and records the outcome. Reading a flag and every
step on it go into the audit log. Every other role is refused (403), admins too:
a disclosure is for the people whose job is to act on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web
from sqlmodel import Session

from bot.web.auth import allowed
from bot.web.dashboard import page
from bot.web.guards import staff_form, staff_post
from bot.web.keys import ENGINE_KEY
from bot.web.numbers import id_in_path
from bot.web.templating import see_other
from conversations.staff import safeguarding_flags as flags
from conversations.staff.import_batches import batch_of_flags
from conversations.storage import store
from conversations.storage.models import (
    Consultation,
    ImportBatch,
    Resident,
    SafeguardingDelivery,
    SafeguardingFlag,
    SafeguardingNote,
)

ROLE = "safeguarding"
DONE = {
    "acknowledged": "Acknowledged: alerts about this flag have stopped.",
    "noted": "Note added.",
    "closed": "Outcome recorded; the flag is closed.",
}


def add_routes(app: web.Application) -> None:
    app.router.add_get("/staff/safeguarding", index)
    app.router.add_get("/staff/safeguarding/{flag_id:[0-9]+}", flag_page)
    app.router.add_post("/staff/safeguarding/{flag_id:[0-9]+}/acknowledge", acknowledge)
    app.router.add_post("/staff/safeguarding/{flag_id:[0-9]+}/note", note)
    app.router.add_post("/staff/safeguarding/{flag_id:[0-9]+}/outcome", outcome)


@dataclass(frozen=True)
class FlagDetail:
    flag: SafeguardingFlag
    slug: str | None
    pseudonym: str | None
    answers: Sequence[flags.ResidentAnswer]
    notes: Sequence[SafeguardingNote]
    deliveries: Sequence[SafeguardingDelivery]
    batch: ImportBatch | None  # the imported batch its answer came in, if it was imported


async def index(request: web.Request) -> web.Response:
    """Every flag: open ones first, oldest first; then acknowledged; then closed."""
    staff = await allowed(request, ROLE)
    db = request.app[ENGINE_KEY]

    def read() -> tuple[list[tuple[SafeguardingFlag, str | None]], flags.Waiting,
                        dict[int, ImportBatch]]:  # fmt: skip
        with Session(db, expire_on_commit=False) as session:
            rows = flags.flags_for_leads(session=session)
            imported = batch_of_flags(session=session, flag_ids=[f.id for f, _ in rows if f.id])
            return rows, flags.waiting(session=session), imported

    rows, waiting, imported = await asyncio.to_thread(read)
    return page(request, staff, "staff/safeguarding.html", rows=rows, waiting=waiting,
                outcomes=flags.OUTCOMES, imported=imported)  # fmt: skip


def _detail(session: Session, flag_id: int) -> FlagDetail | None:
    flag = session.get(SafeguardingFlag, flag_id)
    if flag is None:
        return None
    consultation = session.get(Consultation, flag.consultation_id) if flag.consultation_id else None
    pseudonym = None
    answers: list[flags.ResidentAnswer] = []
    if flag.resident_id is not None:
        resident = session.get(Resident, flag.resident_id)
        pseudonym = resident.pseudonym if resident else None
        answers = flags.resident_answers(session=session, resident_id=flag.resident_id)
    return FlagDetail(
        flag, consultation.slug if consultation else None, pseudonym, answers,
        flags.notes(session=session, flag_id=flag_id),
        flags.deliveries(session=session, flag_id=flag_id),
        batch_of_flags(session=session, flag_ids=[flag_id]).get(flag_id),
    )  # fmt: skip


async def flag_page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    """One flag in full; reading it is audited."""
    staff = await allowed(request, ROLE)
    flag_id = id_in_path(request, "flag_id", "flag")
    db = request.app[ENGINE_KEY]

    def read() -> FlagDetail | None:
        with Session(db, expire_on_commit=False) as session, session.begin():
            detail = _detail(session, flag_id)
            if detail is not None:
                store.audit(session=session, actor=staff.actor, action="safeguarding.view",
                            target=f"flag:{flag_id}")  # fmt: skip
            return detail

    detail = await asyncio.to_thread(read)
    if detail is None:
        raise web.HTTPNotFound(text=f"there is no safeguarding flag #{flag_id}")
    return page(
        request, staff, "staff/safeguarding_flag.html", status=status, detail=detail,
        outcomes=flags.OUTCOMES, error=error, done=DONE.get(request.query.get("done", ""), ""),
    )  # fmt: skip


@staff_form(ROLE)
async def acknowledge(request: web.Request) -> web.Response:
    """A lead has the flag: alerts and escalation about it stop."""
    return await _flag_action(request, "acknowledged", lambda session, flag_id, actor, _:
                              flags.acknowledge(session=session, flag_id=flag_id, actor=actor))  # fmt: skip


@staff_form(ROLE)
async def note(request: web.Request) -> web.Response:
    """Add a note (kept with the flag; the audit log says only that one was added)."""
    return await _flag_action(request, "noted", lambda session, flag_id, actor, form:
                              flags.add_note(session=session, flag_id=flag_id, actor=actor,
                                             text=form.get("note", "")))  # fmt: skip


@staff_form(ROLE)
async def outcome(request: web.Request) -> web.Response:
    """Record what was done and close the flag."""
    return await _flag_action(request, "closed", lambda session, flag_id, actor, form:
                              flags.close(session=session, flag_id=flag_id, actor=actor,
                                          outcome=form.get("outcome", "")))  # fmt: skip


FlagChange = Callable[[Session, int, str, dict[str, str]], object]


async def _flag_action(request: web.Request, done: str, change: FlagChange) -> web.Response:
    """A lead's form post on one flag (its guard checked role and CSRF): one transaction."""
    staff, form = staff_post(request)
    flag_id = id_in_path(request, "flag_id", "flag")
    db = request.app[ENGINE_KEY]

    def act() -> None:
        with Session(db) as session, session.begin():
            change(session, flag_id, staff.actor, form)

    return await _after(request, act, flag_id, done)


async def _after(request: web.Request, act: Callable[[], None], flag_id: int, done: str
                 ) -> web.Response:  # fmt: skip
    try:
        await asyncio.to_thread(act)
    except store.StoreError as error:
        if "no safeguarding flag" in str(error):
            raise web.HTTPNotFound(text=str(error)) from error
        return await flag_page(request, error=str(error), status=409)
    return see_other(f"/staff/safeguarding/{flag_id}?done={done}")
