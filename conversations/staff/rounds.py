"""Facilitators' actions on consultations and rounds, each one audited.

Shared by the command line, Telegram staff commands, the dashboard and the
scheduler, so that the rules (one open round at a time; a scheduled round opens
and closes on time) live in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from conversations.flow.deliberation import DeckTheme
from conversations.staff.coverage import RoundStatus, round_status
from conversations.storage import priority_votes, store
from conversations.storage.models import Consultation, Round, utcnow
from conversations.storage.scripts import ScriptCache

SOURCE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEEP_LINK_LIMIT = 64  # Telegram's limit on a /start parameter
ROUND_KINDS = ("needs", "prioritise")
MIN_PRIORITISE_THEMES = 2

# The themes a prioritise round shows, chosen when it opens (bot/actions/priorities.py).
ThemesFor = Callable[[Session, Consultation], Sequence[DeckTheme]]


@dataclass(frozen=True)
class DueChange:
    """What the scheduler did to a round ("opened", "closed"), or why it could not."""

    action: str
    slug: str
    number: int
    problem: str = ""  # set when the round was due to open and did not

    def __str__(self) -> str:
        if self.problem:
            return f"did not open {self.slug}#{self.number}: {self.problem}"
        return f"{self.action} {self.slug}#{self.number}"


@dataclass(frozen=True)
class ConsultationSummary:
    slug: str
    title: str
    round: int | None
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    kind: str = "needs"
    next_round: int | None = None  # a draft scheduled after the open round
    next_kind: str = "needs"
    next_opens_at: datetime | None = None


class Rounds:
    """Open, close, schedule and report on rounds."""

    def __init__(self, db: Engine, scripts: ScriptCache | None = None,
                 themes_for: ThemesFor | None = None) -> None:  # fmt: skip
        self.db = db
        self.scripts = scripts or ScriptCache()
        self.themes_for = themes_for

    def consultations(self) -> list[ConsultationSummary]:
        with Session(self.db) as session:
            result = []
            for consultation in store.all_consultations(session=session):
                assert consultation.id is not None
                current = store.current_round(session=session, consultation_id=consultation.id)
                latest = store.latest_round(session=session, consultation_id=consultation.id)
                upcoming = latest if latest is not current else None
                result.append(
                    ConsultationSummary(
                        slug=consultation.slug,
                        title=consultation.title,
                        round=current.number if current else None,
                        status=current.status if current else "no rounds",
                        opens_at=current.opens_at if current else None,
                        closes_at=current.closes_at if current else None,
                        kind=current.kind if current else "needs",
                        next_round=upcoming.number if upcoming else None,
                        next_kind=upcoming.kind if upcoming else "needs",
                        next_opens_at=upcoming.opens_at if upcoming else None,
                    )
                )
            return result

    def open(self, slug: str, *, actor: str, kind: str = "needs",
             themes: Sequence[DeckTheme] = ()) -> Round:  # fmt: skip
        """Open the next round; a prioritise round shows `themes` (at least two)."""
        if kind not in ROUND_KINDS:
            raise store.StoreError(f"a round is one of {', '.join(ROUND_KINDS)}, not '{kind}'")
        with Session(self.db, expire_on_commit=False) as session, session.begin():
            consultation = store.require_consultation(session=session, slug=slug)
            if kind == "prioritise" and (problem := self._prioritise_problem(consultation, themes)):
                raise store.StoreError(problem)
            round_ = store.open_round(session=session, consultation=consultation, kind=kind)
            if kind == "prioritise":
                assert round_.id is not None
                priority_votes.save_round_themes(session=session, round_id=round_.id, themes=themes)
            store.audit(
                session=session, actor=actor, action="round.open", target=f"{slug}#{round_.number}",
                detail="" if kind == "needs" else f"{kind}: {len(themes)} themes",
            )  # fmt: skip
            return round_

    def close(self, slug: str, *, actor: str) -> Round:
        with Session(self.db, expire_on_commit=False) as session, session.begin():
            consultation = store.require_consultation(session=session, slug=slug)
            round_ = store.close_round(session=session, consultation=consultation)
            store.audit(
                session=session, actor=actor, action="round.close", target=f"{slug}#{round_.number}"
            )
            return round_

    def _prioritise_problem(self, consultation: Consultation,
                            themes: Sequence[DeckTheme] | None) -> str:  # fmt: skip
        """Why a prioritise round cannot open (with `themes`; None: not chosen yet), or ""."""
        if not self.scripts.get(consultation).prioritise:
            return f"the script of '{consultation.slug}' has no [prioritise] part"
        if themes is not None and len(themes) < MIN_PRIORITISE_THEMES:
            return (
                f"'{consultation.slug}' needs at least {MIN_PRIORITISE_THEMES} themes to "
                f"prioritise and its codebook has {len(themes)} reviewed themes with answers: "
                "review the themes first (accept, rename or merge them)"
            )
        return ""

    def schedule(self, slug: str, *, actor: str, opens_at: datetime | None,
                 closes_at: datetime | None, kind: str | None = None) -> Round:  # fmt: skip
        """Set when a round opens and closes; the scheduler acts on it.

        With an opening time this is the next round (while one is open, it opens once
        that one has closed); with only a closing time, the open round if there is one.
        `kind` sets what the next round is (a prioritise round takes its themes from
        the latest analysis when it opens); left out, a draft keeps its kind."""
        if opens_at is None and closes_at is None:
            raise store.StoreError("give an opening time, a closing time or both")
        if kind is not None and kind not in ROUND_KINDS:
            raise store.StoreError(f"a round is one of {', '.join(ROUND_KINDS)}, not '{kind}'")
        if opens_at and closes_at and closes_at <= opens_at:
            raise store.StoreError("the round must close after it opens")
        now = utcnow()
        if closes_at is not None and closes_at <= now:
            raise store.StoreError("the closing time is in the past")
        with Session(self.db, expire_on_commit=False) as session, session.begin():
            consultation = store.require_consultation(session=session, slug=slug)
            assert consultation.id is not None
            current = store.current_round(session=session, consultation_id=consultation.id)
            latest = store.latest_round(session=session, consultation_id=consultation.id)
            if kind == "prioritise" and (problem := self._prioritise_problem(consultation, None)):
                raise store.StoreError(problem)
            if current is not None and current.status == "open" and opens_at is None:
                if kind is not None and kind != current.kind:
                    raise store.StoreError(
                        f"round {current.number} is already open as a {current.kind} round"
                    )
                target = current
            elif latest is not None and latest.status == "draft":
                target = latest
            else:
                target = Round(
                    consultation_id=consultation.id,
                    number=1 if latest is None else latest.number + 1,
                )
            if opens_at is not None:
                target.opens_at = opens_at
            if closes_at is not None:
                target.closes_at = closes_at
            if kind is not None:
                target.kind = kind
            session.add(target)
            session.flush()
            store.audit(
                session=session,
                actor=actor,
                action="round.schedule",
                target=f"{slug}#{target.number}",
                detail=f"{target.kind}: opens {_when(target.opens_at)}, "
                f"closes {_when(target.closes_at)}",
            )
            return target

    def run_due(self, *, now: datetime | None = None) -> list[DueChange]:
        """Open and close rounds whose time has come (the scheduler calls this)."""
        now = now or utcnow()
        done: list[DueChange] = []
        with Session(self.db, expire_on_commit=False) as session, session.begin():
            closing = session.exec(
                select(Round, Consultation)
                .join(Consultation, col(Consultation.id) == col(Round.consultation_id))
                .where(
                    Round.status == "open",
                    col(Round.closes_at).is_not(None),
                    col(Round.closes_at) <= now,
                )
                .with_for_update(of=Round)
            ).all()
            for round_, consultation in closing:
                store.close_round(session=session, consultation=consultation)
                store.audit(session=session, actor="scheduler", action="round.close",
                            target=f"{consultation.slug}#{round_.number}")  # fmt: skip
                done.append(DueChange("closed", consultation.slug, round_.number))
            opening = session.exec(
                select(Round, Consultation)
                .join(Consultation, col(Consultation.id) == col(Round.consultation_id))
                .where(
                    Round.status == "draft",
                    col(Round.opens_at).is_not(None),
                    col(Round.opens_at) <= now,
                )
                .with_for_update(of=Round)
            ).all()
            for round_, consultation in opening:
                assert consultation.id is not None
                if store.open_round_of(session=session, consultation_id=consultation.id):
                    continue  # still open: it opens once the previous round has closed
                if round_.closes_at is not None and round_.closes_at <= now:
                    round_.status = "closed"  # its whole window passed while we were down
                    session.add(round_)
                    continue
                name = f"{consultation.slug}#{round_.number}"
                if round_.kind == "prioritise":
                    if problem := self._open_prioritise(session, consultation, round_):
                        # Not tried again each tick: the facilitator is told and decides.
                        round_.opens_at = None
                        session.add(round_)
                        store.audit(session=session, actor="scheduler",
                                    action="round.not_opened", target=name, detail=problem)  # fmt: skip
                        done.append(DueChange("opened", consultation.slug, round_.number, problem))
                        continue
                else:
                    store.open_round(session=session, consultation=consultation)
                store.audit(session=session, actor="scheduler", action="round.open", target=name)
                done.append(DueChange("opened", consultation.slug, round_.number))
        return done

    def _open_prioritise(self, session: Session, consultation: Consultation,
                         round_: Round) -> str:  # fmt: skip
        """Open a scheduled prioritise round with the latest themes; else say why not."""
        themes = self.themes_for(session, consultation) if self.themes_for else []
        if problem := self._prioritise_problem(consultation, themes):
            return problem
        store.open_round(session=session, consultation=consultation)
        assert round_.id is not None
        priority_votes.save_round_themes(session=session, round_id=round_.id, themes=themes)
        return ""

    def status(self, slug: str) -> RoundStatus:
        with Session(self.db) as session:
            consultation = store.require_consultation(session=session, slug=slug)
            assert consultation.id is not None
            round_ = store.current_round(session=session, consultation_id=consultation.id)
            if round_ is None:
                raise store.StoreError(f"'{slug}' has no rounds yet")
            return round_status(
                session=session,
                script=self.scripts.get(consultation),
                round_=round_,
                consultation_slug=slug,
            )


def partner_links(*, slug: str, source: str, bot_username: str, public_url: str,
                  whatsapp_number: str = "") -> dict[str, str]:  # fmt: skip
    """Deep links that record which partner organisation brought a resident. WhatsApp's
    (wa.me) opens a chat with "start slug--source" typed in, ready to send."""
    source = source.strip().lower()
    if not SOURCE_PATTERN.match(source):
        raise store.StoreError("a source is 1-40 lower-case letters, digits, '-' or '_'")
    parameter = f"{slug}--{source}"
    if len(parameter) > DEEP_LINK_LIMIT:
        raise store.StoreError(
            f"'{parameter}' is longer than Telegram's {DEEP_LINK_LIMIT} characters"
        )
    links = {"web": f"{public_url.rstrip('/')}/c/{quote(slug)}/{quote(source)}"}
    if bot_username:
        links["telegram"] = f"https://t.me/{bot_username.lstrip('@')}?start={parameter}"
    if whatsapp_number:
        links["whatsapp"] = f"https://wa.me/{whatsapp_number}?text={quote('start ' + parameter)}"
    return links


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "when opened by hand"
