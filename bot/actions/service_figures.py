"""The database's side of the metrics, read at scrape time: broadcasts under way, the
durable inboxes' unhandled messages, open safeguarding flags.

Each read is one indexed query, and bounded: a scrape every 15 seconds must cost the
database next to nothing, however many residents a consultation has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from conversations.staff import broadcasts, safeguarding_flags
from conversations.storage.models import Broadcast, PendingUpdate, utcnow

ACTIVE_LIMIT = 20  # broadcasts under way reported at once (there are rarely two)
COUNT_LIMIT = 100_000  # a queue deeper than this is reported as this: it is on fire anyway


@dataclass(frozen=True)
class ServiceFigures:
    broadcasts: dict[int, dict[str, int]]  # broadcast under way -> recipients by state
    unhandled: dict[str, int]  # channel -> updates kept and not yet handled
    flags_open: int
    oldest_open_seconds: float  # 0 when none is open


def service_figures(db: Engine, now: datetime | None = None) -> ServiceFigures:
    """Read in one short transaction."""
    now = now or utcnow()
    with Session(db) as session:
        active = session.exec(
            select(Broadcast.id)
            .where(col(Broadcast.status).in_(("queued", "sending")))
            .order_by(col(Broadcast.id).desc())
            .limit(ACTIVE_LIMIT)
        ).all()
        counts = broadcasts.recipient_counts(
            session=session, broadcast_ids=[i for i in active if i is not None]
        )
        waiting = (
            select(PendingUpdate.channel).limit(COUNT_LIMIT).subquery()
        )  # bounded before it is counted
        unhandled = {
            channel: int(n)
            for channel, n in session.exec(
                select(waiting.c.channel, func.count()).group_by(waiting.c.channel)
            ).all()
        }
        flags = safeguarding_flags.waiting(session=session)
    oldest = (now - flags.oldest).total_seconds() if flags.oldest is not None else 0.0
    return ServiceFigures(counts, unhandled, flags.open, max(oldest, 0.0))
