"""Officers' digests: built, stored, and rendered again from what is stored now.

A consultation's digest for a week is one row (unique on consultation, kind and
the week's end), built at most once, with a delivery row per officer
(conversations/staff/digest_records.py). Each officer gets three parts (summary,
report, table), and the whole consultation's evidence pack as a PDF when the digest
carries one ([digest] with_pack, or asked for). Sending is a channel's job (bot/telegram/digest_delivery.py);
when it happens, bot/scheduling/digest_job.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from analysis.digest import render_csv, render_html, render_summary
from analysis.digest.figures import render_figures
from bot.actions.analysis_runs import MIN_ANSWERS, AnalysisError
from bot.actions.digest_figures import gather
from bot.actions.packs import PackFile, make_pack
from bot.actions.theme_languages import unread_answers
from bot.actions.theme_runs import analyse_consultation
from bot.config import DAYS, DigestConfig
from conversations.screening.cleaning import spreadsheet_cell
from conversations.staff import digest_records, themes
from conversations.storage import store
from conversations.storage.models import AnalysisRun, Consultation, Digest, utcnow
from conversations.storage.scripts import ScriptCache

PARTS = ("summary", "report", "table", "pack")
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
    figures: str = ""  # counts only, never residents' words: an email's body
    title: str = ""  # the consultation's title
    pack: bytes | None = None  # the whole consultation's evidence pack (PDF), if carried

    def filename(self, extension: str) -> str:
        return f"digest-{self.slug}-{self.period_end:%Y-%m-%d}.{extension}"

    def pack_filename(self) -> str:
        return f"digest-{self.slug}-{self.period_end:%Y-%m-%d}-evidence-pack.pdf"

    @property
    def part_names(self) -> tuple[str, ...]:
        """Which of PARTS officers get, in the order sent: a quiet week's digest is its
        summary alone; the evidence pack, when carried, comes last (a quiet week too)."""
        names = PARTS[:1] if self.nothing_new else PARTS[:3]
        return names + (PARTS[3:] if self.pack is not None else ())

    @property
    def parts(self) -> int:
        return len(self.part_names)


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
        languages = unread_answers(db, slug).sentences()
        return run, " ".join([
            f"{run.unthemed} answer{'' if run.unthemed == 1 else 's'} "
            f"{'is' if run.unthemed == 1 else 'are'} not yet themed: a new analysis would "
            "propose themes for them, for officers to review.",
            *(sentence for _, sentence in languages),
        ])  # fmt: skip
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
        render_figures(data),
        data.consultation_title,
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
        render_figures(data),
        data.consultation_title,
    )


def with_pack(db: Engine, documents: Documents, zone: ZoneInfo, *, actor: str = ACTOR) -> Documents:
    """The digest carrying the whole consultation's evidence pack as a PDF (its making
    audited with `actor`: it quotes residents)."""
    made = make_pack(db, documents.slug, theme_id=None, fmt="pdf", actor=actor, zone=zone)
    return replace(documents, pack=made.content)


def pack_of(db: Engine, digest_id: int, zone: ZoneInfo, *, actor: str) -> PackFile:
    """The evidence pack of a digest that carries one, for the archive: as the whole
    consultation's pack reads today (the PDF sent is not kept), its making audited."""
    with Session(db) as session:
        digest = session.get(Digest, digest_id)
        consultation = session.get(Consultation, digest.consultation_id) if digest else None
        if digest is None or consultation is None or not digest.with_pack:
            raise store.StoreError(f"digest {digest_id} has no evidence pack")
        slug = consultation.slug
    return make_pack(db, slug, theme_id=None, fmt="pdf", actor=actor, zone=zone)


def build_now(db: Engine, slug: str, zone: ZoneInfo) -> Documents:
    """The digest of the seven days up to now (the command line and /digest)."""
    end = utcnow()
    return build(db, slug, start=end - WEEK, end=end, zone=zone)[0]


def build_to_read(db: Engine, slug: str, zone: ZoneInfo, *, actor: str,
                  pack: bool = False) -> tuple[Documents, int | None]:  # fmt: skip
    """The digest of the seven days up to now, built as `needsfirst digest` builds it, and
    kept in the archive (kind "on-demand", sent to nobody) for staff to read on the
    dashboard; its id, or None for a quiet week, which is not kept. The documents are not
    stored: they quote residents, and the archive renders them again from what is stored
    (with `pack`, the archive lists the evidence pack beside it, made when downloaded)."""
    end = utcnow()
    documents, run_id = build(db, slug, start=end - WEEK, end=end, zone=zone)
    if documents.nothing_new:
        return documents, None
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug=slug)
        digest_id = digest_records.add(
            session=session, consultation=consultation, kind="on-demand", start=end - WEEK,
            end=end, run_id=run_id, summary="", html="", csv="", officers=(), actor=actor,
            with_pack=pack,
        )  # fmt: skip
    return documents, digest_id


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
    emails: tuple[str, ...] = (),
) -> int:
    """Keep a built digest with a delivery row per officer (on Telegram, and by email);
    the first one stored wins."""
    with Session(db) as session:
        try:
            with session.begin():
                return digest_records.add(
                    session=session,
                    consultation=store.require_consultation(session=session, slug=slug),
                    kind=kind,
                    start=start,
                    end=end,
                    run_id=run_id,
                    summary=documents.summary,
                    html="" if documents.nothing_new else documents.html,
                    csv="" if documents.nothing_new else documents.csv,
                    officers=officers,
                    actor=ACTOR,
                    figures=documents.figures,
                    emails=emails,
                    with_pack=documents.pack is not None,
                    pack=documents.pack,
                )
        except IntegrityError:  # built meanwhile by another attempt: keep that one
            existing = digest_records.stored(session=session, slug=slug, kind=kind, end=end)
            assert existing is not None and existing.id is not None
            return existing.id


def weekly_due(db: Engine, end: datetime) -> list[str]:
    """Consultations that should have a digest for the week to `end` and have none yet."""
    with Session(db) as session:
        return digest_records.weekly_due(session=session, start=end - WEEK, end=end)


def documents_to_send(db: Engine, digest_id: int, zone: ZoneInfo) -> Documents | None:
    """A stored digest's documents, rendered again first if a resident it may quote was
    forgotten since it was built; None once they are dropped (every officer had them)."""
    with Session(db) as session:
        stale = digest_records.is_stale(session=session, digest_id=digest_id)
        digest = session.get(Digest, digest_id)
        packed = digest is not None and digest.with_pack
    if stale:
        documents = archived(db, digest_id, zone)
        if packed:
            documents = with_pack(db, documents, zone)
        with Session(db) as session, session.begin():
            digest_records.replace_documents(
                session=session,
                digest_id=digest_id,
                summary=documents.summary,
                html="" if documents.nothing_new else documents.html,
                csv="" if documents.nothing_new else documents.csv,
                pack=documents.pack,
            )
    with Session(db) as session:
        found = digest_records.to_send(session=session, digest_id=digest_id)
        if found is None:
            return None
        digest, slug, title = found
        # A quiet week's digest is stored as its summary alone.
        return Documents(slug, digest.period_end, digest.summary, digest.html, digest.csv,
                         nothing_new=not digest.html, figures=digest.figures,
                         title=title, pack=digest.pack)  # fmt: skip
