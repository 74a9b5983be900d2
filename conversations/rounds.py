"""Facilitators' actions on consultations and rounds, each one audited.

Shared by the command line, Telegram staff commands, the dashboard and the
scheduler, so that the rules (one open round at a time; a scheduled round opens
and closes on time) live in one place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from conversations import priority_votes, store
from conversations.coverage import RoundStatus, round_status
from conversations.deliberation import DeckTheme
from conversations.models import Consultation, Round, utcnow
from conversations.service import ScriptCache

SOURCE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEEP_LINK_LIMIT = 64  # Telegram's limit on a /start parameter
ROUND_KINDS = ("needs", "prioritise")


@dataclass(frozen=True)
class ConsultationSummary:
    slug: str
    title: str
    round: int | None
    status: str
    opens_at: datetime | None
    closes_at: datetime | None


class Rounds:
    """Open, close, schedule and report on rounds."""

    def __init__(self, db: Engine, scripts: ScriptCache | None = None) -> None:
        self.db = db
        self.scripts = scripts or ScriptCache()

    def consultations(self) -> list[ConsultationSummary]:
        with Session(self.db) as session:
            result = []
            for consultation in store.all_consultations(session=session):
                assert consultation.id is not None
                latest = store.current_round(session=session, consultation_id=consultation.id)
                result.append(
                    ConsultationSummary(
                        slug=consultation.slug,
                        title=consultation.title,
                        round=latest.number if latest else None,
                        status=latest.status if latest else "no rounds",
                        opens_at=latest.opens_at if latest else None,
                        closes_at=latest.closes_at if latest else None,
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
            if kind == "prioritise":
                if not self.scripts.get(consultation).prioritise:
                    raise store.StoreError(f"the script of '{slug}' has no [prioritise] part")
                if len(themes) < 2:
                    raise store.StoreError(
                        f"'{slug}' needs at least two themes to prioritise: run the analysis first"
                    )
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

    def schedule(self, slug: str, *, actor: str, opens_at: datetime | None,
                 closes_at: datetime | None) -> Round:  # fmt: skip
        """Set when the next (or the open) round opens and closes; the scheduler acts on it."""
        if opens_at is None and closes_at is None:
            raise store.StoreError("give an opening time, a closing time or both")
        if opens_at and closes_at and closes_at <= opens_at:
            raise store.StoreError("the round must close after it opens")
        now = utcnow()
        if closes_at is not None and closes_at <= now:
            raise store.StoreError("the closing time is in the past")
        with Session(self.db, expire_on_commit=False) as session, session.begin():
            consultation = store.require_consultation(session=session, slug=slug)
            assert consultation.id is not None
            latest = store.current_round(session=session, consultation_id=consultation.id)
            if latest is not None and latest.status == "open":
                if opens_at is not None:
                    raise store.StoreError(
                        f"round {latest.number} is already open; give only a closing time"
                    )
                target = latest
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
            session.add(target)
            session.flush()
            store.audit(
                session=session,
                actor=actor,
                action="round.schedule",
                target=f"{slug}#{target.number}",
                detail=f"opens {_when(target.opens_at)}, closes {_when(target.closes_at)}",
            )
            return target

    def run_due(self, *, now: datetime | None = None) -> list[str]:
        """Open and close rounds whose time has come (the scheduler calls this)."""
        now = now or utcnow()
        done: list[str] = []
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
                done.append(f"closed {consultation.slug}#{round_.number}")
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
                store.open_round(session=session, consultation=consultation)
                store.audit(session=session, actor="scheduler", action="round.open",
                            target=f"{consultation.slug}#{round_.number}")  # fmt: skip
                done.append(f"opened {consultation.slug}#{round_.number}")
        return done

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


def partner_links(*, slug: str, source: str, bot_username: str, public_url: str) -> dict[str, str]:
    """Deep links that record which partner organisation brought a resident."""
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
    return links


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "when opened by hand"
