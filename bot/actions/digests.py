"""The weekly digest for officers: built once per consultation and week, stored, sent once.

The scheduler runs `Digests.weekly` at the [digest] day and time, and again on
its tick, so a digest missed while the process was down goes out when it is
back. Both are idempotent: a consultation's digest for a week is one row
(unique on consultation, kind and the week's end), built at most once, with a
delivery row per officer. Each officer gets three parts (summary, report,
table); a part is counted before it is sent, so after a crash the officer gets
the rest, never the same part twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from telegram import Bot
from telegram.error import Forbidden, RetryAfter, TelegramError

from analysis.digest import render_csv, render_html, render_summary
from bot.actions.analysis_runs import MIN_ANSWERS, AnalysisError
from bot.actions.digest_figures import gather
from bot.actions.theme_runs import analyse_consultation
from bot.config import DAYS, Config, DigestConfig
from bot.telegram.pacing import SendBudget, seconds_of
from conversations.screening.cleaning import spreadsheet_cell
from conversations.staff import themes
from conversations.storage import store
from conversations.storage.models import (
    AnalysisRun,
    Answer,
    Consultation,
    Decision,
    Digest,
    DigestDelivery,
    Round,
    utcnow,
)
from conversations.storage.scripts import ScriptCache

log = logging.getLogger(__name__)
PARTS = ("summary", "report", "table")
WEEK = timedelta(days=7)
ACTOR = "system:digest"


@dataclass(frozen=True)
class Documents:
    """One digest as officers receive it."""

    slug: str
    period_end: datetime
    summary: str
    html: str
    csv: str
    nothing_new: bool = False

    def filename(self, extension: str) -> str:
        return f"digest-{self.slug}-{self.period_end:%Y-%m-%d}.{extension}"


def period_ending(now: datetime, schedule: DigestConfig) -> datetime:
    """The latest scheduled digest time at or before `now`: the end of the week reported."""
    zone = ZoneInfo(schedule.timezone)
    hour, minute = (int(x) for x in schedule.time.split(":"))
    local = now.astimezone(zone)
    day = local.date() - timedelta(days=(local.weekday() - DAYS.index(schedule.day)) % 7)
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    if moment > local:
        moment = datetime.combine(day - WEEK, moment.timetz())
    return moment.astimezone(UTC)


# --- building -------------------------------------------------------------------------


def analysis_for(db: Engine, slug: str, end: datetime) -> tuple[AnalysisRun | None, str]:
    """The run whose themes the digest shows, and a note when themes are missing or old.

    The digest never discovers themes on its own: when answers have changed since
    the latest run, it codes them against the codebook (a coding-only run, which
    leaves proposed themes as they were) and says how many wait for an analysis."""
    with Session(db, expire_on_commit=False) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        questions = ScriptCache().get(consultation).theme_steps()
        run = themes.latest_run(session=session, consultation_id=consultation.id)
        count = themes.themable_count(
            session=session, consultation_id=consultation.id, questions=questions
        )
    if run is None:
        return None, (
            "Themes are missing: nobody has run the analysis yet (the dashboard's Themes "
            f"tab, or needsfirst analyse --consultation {slug})."
        )
    if run.created_at < end and run.answers != count and count >= MIN_ANSWERS:
        try:
            run = analyse_consultation(db, slug, actor=ACTOR, discover=False).run
        except AnalysisError as error:
            return (
                run,
                f"New answers could not be coded ({error}). These are the last themes found.",
            )
    if run.unthemed:
        return run, (
            f"{run.unthemed} answer{'' if run.unthemed == 1 else 's'} "
            f"{'is' if run.unthemed == 1 else 'are'} not yet themed: a new analysis would "
            "propose themes for them, for officers to review."
        )
    return run, ""


def build(
    db: Engine, slug: str, *, start: datetime, end: datetime, zone: ZoneInfo
) -> tuple[Documents, int | None]:
    """Gather and render a consultation's digest for a period (runs the analysis if due)."""
    run, note = analysis_for(db, slug, end)
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        script = ScriptCache().get(consultation)
        if run is not None:
            run = session.get(AnalysisRun, run.id)
        data = gather(
            session,
            consultation=consultation,
            script=script,
            start=start,
            end=end,
            zone=zone,
            run=run,
            analysis_note=note,
        )
    documents = Documents(
        slug,
        data.period_end,
        render_summary(data),
        render_html(data),
        render_csv(data, cell=spreadsheet_cell),
        data.nothing_new,
    )
    return documents, run.id if run else None


def archived(db: Engine, digest_id: int, zone: ZoneInfo) -> Documents:
    """A past digest as it reads today: its period and themes, re-rendered.

    Sent documents are not kept (they quote residents, who may ask to be
    forgotten), so the archive re-renders them from what is stored now: erased
    answers are gone from the figures and the quotes, everything else is as sent."""
    with Session(db) as session:
        digest = session.get(Digest, digest_id)
        if digest is None:
            raise store.StoreError(f"there is no digest {digest_id}")
        consultation = session.get(Consultation, digest.consultation_id)
        assert consultation is not None
        run = session.get(AnalysisRun, digest.run_id) if digest.run_id else None
        data = gather(
            session,
            consultation=consultation,
            script=ScriptCache().get(consultation),
            start=digest.period_start,
            end=digest.period_end,
            zone=zone,
            run=run,
            analysis_note="" if run else "no analysis run was available for this week",
        )
    return Documents(
        consultation.slug,
        data.period_end,
        render_summary(data),
        render_html(data),
        render_csv(data, cell=spreadsheet_cell),
        data.nothing_new,
    )


def build_now(db: Engine, slug: str, zone: ZoneInfo) -> Documents:
    """The digest of the seven days up to now (the command line and /digest)."""
    end = utcnow()
    return build(db, slug, start=end - WEEK, end=end, zone=zone)[0]


def store_digest(
    db: Engine,
    *,
    slug: str,
    kind: str,
    start: datetime,
    end: datetime,
    documents: Documents,
    run_id: int | None,
    officers: tuple[int, ...],
) -> int:
    """Keep a built digest with a delivery row per officer; the first one stored wins."""
    with Session(db) as session:
        try:
            with session.begin():
                consultation = store.require_consultation(session=session, slug=slug)
                assert consultation.id is not None
                digest = Digest(
                    consultation_id=consultation.id,
                    kind=kind,
                    period_start=start,
                    period_end=end,
                    run_id=run_id,
                    summary=documents.summary,
                    html="" if documents.nothing_new else documents.html,
                    csv="" if documents.nothing_new else documents.csv,
                )
                session.add(digest)
                session.flush()
                assert digest.id is not None
                session.add_all(DigestDelivery(digest_id=digest.id, officer_id=o) for o in officers)
                store.audit(
                    session=session,
                    actor=ACTOR,
                    action="digest.build",
                    target=f"{slug} digest {digest.id}",
                    detail=f"{kind}, week to {end:%Y-%m-%d %H:%M} UTC, {len(officers)} officers",
                )
                return digest.id
        except IntegrityError:  # built meanwhile by another attempt: keep that one
            existing = _stored(session, slug, kind, end)
            assert existing is not None and existing.id is not None
            return existing.id


def _stored(session: Session, slug: str, kind: str, end: datetime) -> Digest | None:
    return session.exec(
        select(Digest)
        .join(Consultation, col(Consultation.id) == col(Digest.consultation_id))
        .where(Consultation.slug == slug, Digest.kind == kind, Digest.period_end == end)
    ).first()


def weekly_due(db: Engine, end: datetime) -> list[str]:
    """Consultations that should have a digest for the week to `end` and have none yet.

    Those created before the week ended with an open round, or with answers or
    decisions during the week."""
    start = end - WEEK
    with Session(db) as session:
        done = select(Digest.consultation_id).where(
            Digest.kind == "weekly", Digest.period_end == end
        )
        active = (
            select(Round.consultation_id)
            .where(Round.status == "open")
            .union(
                select(Round.consultation_id)
                .join(Answer, col(Answer.round_id) == col(Round.id))
                .where(col(Answer.answered_at) >= start, col(Answer.answered_at) < end),
                select(Decision.consultation_id).where(
                    col(Decision.decided_at) >= start, col(Decision.decided_at) < end
                ),
            )
        )
        return list(
            session.exec(
                select(Consultation.slug)
                .where(
                    col(Consultation.created_at) < end,
                    col(Consultation.id).in_(active),
                    col(Consultation.id).not_in(done),
                )
                .order_by(col(Consultation.slug))
            ).all()
        )


# --- sending --------------------------------------------------------------------------


async def send_part(
    bot: Bot, budget: SendBudget, chat_id: int, documents: Documents, part: int
) -> None:
    """Send one part, waiting out Telegram's flood limits (a 429 means it was not sent)."""
    while True:
        try:
            async with budget.sending(chat_id):
                if part == 0:
                    await bot.send_message(chat_id, documents.summary[:4096])
                elif part == 1:
                    await bot.send_document(
                        chat_id,
                        documents.html.encode("utf-8"),
                        filename=documents.filename("html"),
                        caption="The full report: open it in a web browser, or print it.",
                    )
                else:
                    await bot.send_document(
                        chat_id,
                        documents.csv.encode("utf-8"),
                        filename=documents.filename("csv"),
                        caption="The themes as a table, for a spreadsheet.",
                    )
            return
        except RetryAfter as error:
            budget.flooded(seconds_of(error))


async def send_documents(bot: Bot, budget: SendBudget, chat_id: int, documents: Documents) -> None:
    """All three parts to one chat, unrecorded (/digest answers the asker this way)."""
    parts = (0,) if documents.nothing_new else range(len(PARTS))
    for part in parts:
        await send_part(bot, budget, chat_id, documents, part)


class DigestSender:
    """Sends stored digests to their officers, each part at most once."""

    def __init__(self, db: Engine, bot: Bot, budget: SendBudget | None = None,
                 zone: ZoneInfo | None = None) -> None:  # fmt: skip
        self.db = db
        self.bot = bot
        self.budget = budget or SendBudget()
        self.zone = zone or ZoneInfo("Europe/London")

    async def deliver(self, digest_id: int) -> dict[str, int]:
        """Send what is left of one digest; returns each delivery state's count."""
        documents = await asyncio.to_thread(self._documents, digest_id)
        if documents is not None:
            for delivery_id in await asyncio.to_thread(self._open_deliveries, digest_id):
                await self._deliver_one(delivery_id, documents)
        return await asyncio.to_thread(self._settle, digest_id)

    async def _deliver_one(self, delivery_id: int, documents: Documents) -> None:
        failed = False
        while (
            claimed := await asyncio.to_thread(self._claim_part, delivery_id, documents)
        ) is not None:
            officer, part = claimed
            try:
                await send_part(self.bot, self.budget, officer, documents, part)
            except Forbidden:
                log.warning(
                    "officer %s has blocked the bot or never started a chat with it; "
                    "they get no digest until they do",
                    officer,
                )
                await asyncio.to_thread(self._finish, delivery_id, "blocked")
                return
            except TelegramError:
                log.warning(
                    "the digest's %s could not be sent to officer %s",
                    PARTS[part],
                    officer,
                    exc_info=True,
                )
                failed = True
        await asyncio.to_thread(self._finish, delivery_id, "failed" if failed else "sent")

    # -- database (worker threads)

    def _documents(self, digest_id: int) -> Documents | None:
        self._rebuild_if_stale(digest_id)
        with Session(self.db) as session:
            digest = session.get(Digest, digest_id)
            if digest is None or digest.cleared_at is not None:
                return None
            consultation = session.get(Consultation, digest.consultation_id)
            assert consultation is not None
            # A quiet week's digest is stored as its summary alone.
            return Documents(
                consultation.slug,
                digest.period_end,
                digest.summary,
                digest.html,
                digest.csv,
                nothing_new=not digest.html,
            )

    def _rebuild_if_stale(self, digest_id: int) -> None:
        """Render a digest again if a resident it may quote was forgotten since it was built."""
        with Session(self.db) as session:
            digest = session.get(Digest, digest_id)
            if digest is None or not digest.stale or digest.cleared_at is not None:
                return
        documents = archived(self.db, digest_id, self.zone)
        with Session(self.db) as session, session.begin():
            digest = session.get(Digest, digest_id, with_for_update=True)
            if digest is not None and digest.stale and digest.cleared_at is None:
                digest.summary = documents.summary
                digest.html = "" if documents.nothing_new else documents.html
                digest.csv = "" if documents.nothing_new else documents.csv
                digest.stale = False
                session.add(digest)

    def _open_deliveries(self, digest_id: int) -> list[int]:
        with Session(self.db) as session:
            return [
                i
                for i in session.exec(
                    select(DigestDelivery.id)
                    .where(
                        DigestDelivery.digest_id == digest_id,
                        col(DigestDelivery.state).in_(("pending", "sending")),
                    )
                    .order_by(col(DigestDelivery.id))
                ).all()
                if i is not None
            ]

    def _claim_part(self, delivery_id: int, documents: Documents) -> tuple[int, int] | None:
        """Count the next part as sent, before it is sent: (officer, part), or None when done."""
        with Session(self.db) as session, session.begin():
            row = session.get(DigestDelivery, delivery_id, with_for_update=True)
            if row is None or row.state not in ("pending", "sending"):
                return None
            last = 1 if documents.nothing_new else len(PARTS)
            if row.next_part >= last:
                return None
            part = row.next_part
            row.next_part += 1
            row.state = "sending"
            row.updated_at = utcnow()
            session.add(row)
            return row.officer_id, part

    def _finish(self, delivery_id: int, state: str) -> None:
        with Session(self.db) as session, session.begin():
            row = session.get(DigestDelivery, delivery_id)
            if row is not None:
                row.state = state
                row.updated_at = utcnow()
                session.add(row)

    def _settle(self, digest_id: int) -> dict[str, int]:
        """Each state's count; once none is left to send, drop the documents (they quote residents)."""
        with Session(self.db) as session, session.begin():
            counts = dict(
                session.exec(
                    select(DigestDelivery.state, func.count())
                    .where(DigestDelivery.digest_id == digest_id)
                    .group_by(col(DigestDelivery.state))
                ).all()
            )
            digest = session.get(Digest, digest_id)
            if (
                digest is not None
                and digest.cleared_at is None
                and not (counts.get("pending") or counts.get("sending"))
            ):
                digest.summary = digest.html = digest.csv = ""
                digest.cleared_at = utcnow()
                session.add(digest)
            return {state: int(n) for state, n in counts.items()}


# --- the job ------------------------------------------------------------------------


class Digests:
    """The weekly job, and digests built now, for one process."""

    def __init__(
        self, config: Config, db: Engine, bot: Bot | None, budget: SendBudget | None = None
    ) -> None:
        self.config = config
        self.db = db
        self.bot = bot
        self.budget = budget or SendBudget()
        self.zone = ZoneInfo(config.digest.timezone)
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest")
        self._lock = asyncio.Lock()
        self._failed: set[tuple[str, datetime]] = set()  # retried by the weekly run, not each tick

    def registry(self) -> dict[str, Callable[[], Awaitable[None]]]:
        """The scheduler's jobs: "digest" weekly; "digest-catch-up" on every tick."""
        return {"digest": self.weekly, "digest-catch-up": self.catch_up}

    async def weekly(self) -> None:
        """Build and send this week's digests (the scheduled run)."""
        self._failed.clear()
        await self.catch_up()

    async def catch_up(self, *, now: datetime | None = None) -> None:
        """Build any digest due for the latest week and send what is still unsent."""
        async with self._lock:
            end = period_ending(now or utcnow(), self.config.digest)
            officers = self.config.staff.officers
            for slug in await asyncio.to_thread(weekly_due, self.db, end):
                if (slug, end) in self._failed:
                    continue
                try:
                    await self._build_weekly(slug, end, officers)
                except Exception:
                    self._failed.add((slug, end))
                    log.exception("the digest for %s could not be built", slug)
            await self.send_outstanding()

    async def _build_weekly(self, slug: str, end: datetime, officers: tuple[int, ...]) -> int:
        documents, run_id = await asyncio.get_running_loop().run_in_executor(
            self.pool, partial(build, self.db, slug, start=end - WEEK, end=end, zone=self.zone)
        )
        digest_id = await asyncio.to_thread(
            partial(
                store_digest,
                self.db,
                slug=slug,
                kind="weekly",
                start=end - WEEK,
                end=end,
                documents=documents,
                run_id=run_id,
                officers=officers,
            )
        )
        if not officers:
            log.warning(
                "the digest for %s is built but no officers are configured to get it "
                "(add their Telegram ids to [staff] officers)",
                slug,
            )
        log.info("built the digest for %s, week to %s", slug, end)
        return digest_id

    async def send_outstanding(self) -> None:
        if self.bot is None:
            return  # Telegram is off: the deliveries wait until it is on
        sender = DigestSender(self.db, self.bot, self.budget, self.zone)
        for digest_id in await asyncio.to_thread(self._outstanding):
            counts = await sender.deliver(digest_id)
            log.info("digest %d: %s", digest_id, counts)

    def _outstanding(self) -> list[int]:
        with Session(self.db) as session:
            return sorted(
                {
                    d
                    for d in session.exec(
                        select(DigestDelivery.digest_id)
                        .join(Digest, col(Digest.id) == col(DigestDelivery.digest_id))
                        .where(
                            Digest.kind == "weekly",
                            col(DigestDelivery.state).in_(("pending", "sending")),
                        )
                    ).all()
                }
            )

    async def build_now(self, slug: str) -> Documents:
        """The last seven days' digest, built in this process's digest thread."""
        return await asyncio.get_running_loop().run_in_executor(
            self.pool, partial(build_now, self.db, slug, self.zone)
        )

    async def send_now(self, slug: str) -> tuple[Documents, dict[str, int]]:
        """Build now and send to every configured officer (`needsfirst digest --send`)."""
        end = utcnow()
        documents, run_id = await asyncio.get_running_loop().run_in_executor(
            self.pool, partial(build, self.db, slug, start=end - WEEK, end=end, zone=self.zone)
        )
        officers = self.config.staff.officers
        if not officers:
            log.warning("no officers are configured: add their Telegram ids to [staff] officers")
            return documents, {}
        if self.bot is None:
            raise store.StoreError("Telegram is off: set [telegram] token to send digests")
        digest_id = await asyncio.to_thread(
            partial(
                store_digest,
                self.db,
                slug=slug,
                kind="on-demand",
                start=end - WEEK,
                end=end,
                documents=documents,
                run_id=run_id,
                officers=officers,
            )
        )
        return documents, await DigestSender(self.db, self.bot, self.budget, self.zone).deliver(
            digest_id
        )

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


async def send_to_officers(
    config: Config, db: Engine, slug: str
) -> tuple[Documents, dict[str, int]]:
    """The command line's `digest --send`: build now and deliver with a bot of its own."""
    if not config.telegram.token:
        digests = Digests(config, db, None)
        try:
            if config.staff.officers:
                raise store.StoreError("Telegram is off: set [telegram] token to send digests")
            return await digests.send_now(slug)
        finally:
            digests.close()
    bot = Bot(
        config.telegram.token,
        base_url=config.telegram.base_url,
        base_file_url=config.telegram.base_file_url,
    )
    async with bot:
        digests = Digests(config, db, bot)
        try:
            return await digests.send_now(slug)
        finally:
            digests.close()
