"""The staff dashboard: consultations, live progress and coverage, exports, audit.

Every page needs a signed-in session (bot.web.auth) and every action a role and
the session's CSRF token, checked by its guard (bot.web.guards). Pages read through the same store and coverage code as
the command line; actions are audited with the actor "staff:<id>" (round actions:
bot/web/round_pages.py).

Navigation is the NAVIGATION list: a later page (as themes, broadcasts and digests do)
adds its routes in its own module and one NavItem here.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session

from analysis.personal_details.scrub import scrub
from bot.web.auth import Staff, allowed, signed_in
from bot.web.keys import CONFIG_KEY, CONVERSATIONS_KEY, ENGINE_KEY, ROSTER_KEY, STATUS_KEY
from bot.web.svg_charts import ShareBar, share_bar
from bot.web.templating import render, see_other
from conversations.flow.numbers import record_id
from conversations.staff import safeguarding_flags
from conversations.staff.coverage import GroupCoverage, RoundStatus, round_status
from conversations.staff.export import export_columns, export_records, write_export
from conversations.storage import store
from conversations.storage.models import AuditEntry, Consultation, Round
from conversations.storage.scripts import ScriptCache

RECENT_ANSWERS = 20
SPOOL_IN_MEMORY = 4 * 1024 * 1024
AUDIT_PAGE = 100


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: tuple[str, ...] = ()  # any of these; empty: every signed-in staff member

    def shown_to(self, staff: Staff) -> bool:
        return not self.roles or any(staff.can(role) for role in self.roles)


NAVIGATION: list[NavItem] = [
    NavItem("Consultations", "/staff/"),
    NavItem("Themes", "/staff/themes", roles=("officer", "facilitator")),
    NavItem("Broadcasts", "/staff/broadcasts", roles=("facilitator",)),
    NavItem("Digests", "/staff/digests", roles=("officer", "facilitator")),
    NavItem("Safeguarding", "/staff/safeguarding", roles=("safeguarding",)),
    NavItem("Audit log", "/staff/audit", roles=("admin",)),
]


def add_routes(app: web.Application) -> None:
    app.router.add_get("/staff", to_home)
    app.router.add_get("/staff/", home)
    app.router.add_get("/staff/signed-out", signed_out)
    app.router.add_get("/staff/audit", audit_log)
    app.router.add_get("/staff/c/{slug}", consultation_page)
    app.router.add_get("/staff/c/{slug}/export.{fmt:csv|json}", export)


async def to_home(request: web.Request) -> web.Response:
    """/staff without its slash."""
    return see_other("/staff/")


def page(request: web.Request, staff: Staff, template: str, *, status: int = 200,
         **context: Any) -> web.Response:  # fmt: skip
    """A dashboard page, with the navigation this member may use; `who(actor)` names
    whoever did something as people read it ([staff.names])."""
    navigation = [item for item in NAVIGATION if item.shown_to(staff)]
    service = request.app[STATUS_KEY]
    return render(
        request, template, status=status, lang="en", staff=staff, navigation=navigation,
        current=request.path, telegram_down=service.get("telegram") == "unreachable",
        service=service, who=request.app[ROSTER_KEY].who, **context,
    )  # fmt: skip


# --- consultations ------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    consultation: Consultation
    round: Round | None
    status: RoundStatus | None

    @property
    def under_heard(self) -> list[tuple[str, GroupCoverage]]:
        return self.status.under_heard() if self.status else []


def _status(session: Session, scripts: ScriptCache, consultation: Consultation,
            round_: Round | None) -> RoundStatus | None:  # fmt: skip
    if round_ is None:
        return None
    return round_status(session=session, script=scripts.get(consultation), round_=round_,
                        consultation_slug=consultation.slug)  # fmt: skip


def _overviews(db: Engine, scripts: ScriptCache) -> list[Overview]:
    with Session(db) as session:
        result = []
        for consultation in store.all_consultations(session=session):
            assert consultation.id is not None
            latest = store.current_round(session=session, consultation_id=consultation.id)
            result.append(
                Overview(consultation, latest, _status(session, scripts, consultation, latest))
            )
        return result


async def home(request: web.Request) -> web.Response:
    """Every consultation with its current round's progress and who is under-heard."""
    staff = await signed_in(request)
    overviews = await asyncio.to_thread(
        _overviews, request.app[ENGINE_KEY], request.app[CONVERSATIONS_KEY].scripts
    )
    waiting = await asyncio.to_thread(_waiting, request.app[ENGINE_KEY])
    return page(request, staff, "staff/home.html", overviews=overviews, waiting=waiting)


def _waiting(db: Engine) -> safeguarding_flags.Waiting:
    """Open safeguarding flags: every member of staff sees that they wait, not what they say."""
    with Session(db) as session:
        return safeguarding_flags.waiting(session=session)


@dataclass(frozen=True)
class RecentAnswer:
    question: str
    text: str
    answered_at: datetime


@dataclass(frozen=True)
class Detail:
    consultation: Consultation
    title: str
    rounds: Sequence[Round]
    current: Round | None  # the open round, else the latest
    upcoming: Round | None  # a scheduled next round (a draft), shown beside the open one
    can_prioritise: bool  # the script has a [prioritise] part
    status: RoundStatus | None
    bars: dict[tuple[str, str], ShareBar]
    recent: list[RecentAnswer]


def _detail(db: Engine, scripts: ScriptCache, slug: str, with_answers: bool) -> Detail | None:
    with Session(db) as session:
        consultation = store.consultation_by_slug(session=session, slug=slug)
        if consultation is None or consultation.id is None:
            return None
        script = scripts.get(consultation)
        rounds = store.rounds_of(session=session, consultation_id=consultation.id)
        # A scheduled next round is a draft with a higher number: it must not hide the
        # open round, whose figures and Close button matter until it closes.
        current = next((r for r in rounds if r.status == "open"), rounds[0] if rounds else None)
        upcoming = rounds[0] if rounds and rounds[0] is not current else None
        status = _status(session, scripts, consultation, current)
        bars = {
            (dimension, group.group): share_bar(group)
            for dimension, groups in (status.coverage.items() if status else ())
            for group in groups
        }
        recent: list[RecentAnswer] = []
        if with_answers and current is not None:
            texts = {s.id: s.text.get("en", script.default_language) for s in script.steps}
            assert current.id is not None
            for answer in store.recent_answers(
                session=session, round_id=current.id, limit=RECENT_ANSWERS
            ):
                # Quotes are scrubbed of personal details before anyone reads them.
                question = texts.get(answer.step_id, answer.step_id)
                recent.append(RecentAnswer(question, scrub(answer.value), answer.answered_at))
        return Detail(
            consultation=consultation,
            title=script.title.get("en", script.default_language),
            rounds=rounds,
            current=current,
            upcoming=upcoming if upcoming is not None and upcoming.status == "draft" else None,
            can_prioritise=bool(script.prioritise),
            status=status,
            bars=bars,
            recent=recent,
        )


DONE = {
    "opened": "The round is open: residents can take part now.",
    "closed": "The round is closed: no new answers will be taken.",
    "scheduled": "The schedule is saved: the service opens and closes the round at those times.",
}


async def consultation_page(request: web.Request) -> web.Response:
    """A consultation: its rounds, live coverage, round actions and exports."""
    staff = await signed_in(request)
    return await consultation_response(request, staff, request.match_info["slug"])


async def consultation_response(request: web.Request, staff: Staff, slug: str, *,
                                error: str = "", status: int = 200, confirm_close: bool = False,
                                typed: dict[str, str] | None = None) -> web.Response:  # fmt: skip
    """The consultation page; after a refused form, with its error and what was typed."""
    reads_answers = staff.can("officer") or staff.can("facilitator")
    detail = await asyncio.to_thread(
        _detail, request.app[ENGINE_KEY], request.app[CONVERSATIONS_KEY].scripts, slug,
        reads_answers,
    )  # fmt: skip
    if detail is None:
        raise web.HTTPNotFound(text="no such consultation")
    return page(
        request, staff, "staff/consultation.html", status=status, detail=detail, error=error,
        done=DONE.get(request.query.get("done", ""), ""), reads_answers=reads_answers,
        tab="overview", confirm_close=confirm_close, typed=typed or {},
        zone=request.app[CONFIG_KEY].digest.timezone,
    )  # fmt: skip


async def export(request: web.Request) -> web.StreamResponse:
    """Every stored answer as CSV or JSON, pseudonymous ids only (officers, facilitators)."""
    staff = await signed_in(request)
    if not (staff.can("officer") or staff.can("facilitator")):
        raise web.HTTPForbidden(text="exports are for officers and facilitators")
    slug, fmt = request.match_info["slug"], request.match_info["fmt"]
    db = request.app[ENGINE_KEY]
    scripts = request.app[CONVERSATIONS_KEY].scripts

    def build() -> IO[bytes] | None:
        # Spooled to a temporary file: a national consultation's export stays out of memory.
        with Session(db) as session:
            consultation = store.consultation_by_slug(session=session, slug=slug)
            if consultation is None:
                return None
            script = scripts.get(consultation)
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
            handle = io.TextIOWrapper(spool, encoding="utf-8", newline="")
            # Downloads from the dashboard leave no personal details in answers.
            records = export_records(
                session=session, consultation=consultation, script=script, scrub=scrub
            )
            write_export(handle, fmt, export_columns(script), records)
            handle.flush()
            handle.detach()
        with Session(db) as session, session.begin():
            store.audit(session=session, actor=staff.actor, action=f"export.{fmt}", target=slug)
        spool.seek(0)
        return spool

    spool = await asyncio.to_thread(build)
    if spool is None:
        raise web.HTTPNotFound(text="no such consultation")
    response = web.StreamResponse(
        headers={
            "Content-Type": ("text/csv" if fmt == "csv" else "application/json")
            + "; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{slug}-answers.{fmt}"',
        }
    )
    try:
        await response.prepare(request)
        while chunk := await asyncio.to_thread(spool.read, 65536):
            await response.write(chunk)
        await response.write_eof()
    finally:
        spool.close()
    return response


# --- audit ----------------------------------------------------------------------------


async def audit_log(request: web.Request) -> web.Response:
    """Who did what and when, newest first (admins)."""
    staff = await allowed(request, "admin")
    before = record_id(request.query.get("before", "")) if "before" in request.query else 0
    if before is None:
        raise web.HTTPBadRequest(text="before must be an audit entry's number")
    db = request.app[ENGINE_KEY]

    def load() -> list[AuditEntry]:
        with Session(db) as session:
            return list(store.audit_entries(session=session, limit=AUDIT_PAGE, before=before))

    entries = await asyncio.to_thread(load)
    older = entries[-1].id if len(entries) == AUDIT_PAGE else None
    return page(request, staff, "staff/audit.html", entries=entries, older=older)


async def signed_out(request: web.Request) -> web.Response:
    """After signing out: how to sign in again."""
    return render(request, "staff/signed_out.html", lang="en", signed_out=True)
