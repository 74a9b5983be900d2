"""Where a decision stands: agreed (as recorded), under way, done, or not going ahead.

Officers keep each decision's status up to date, with an optional short public
note ("Funding agreed for 2027"); the public results page shows both, with the
date the status last changed, and the weekly digest shows the status of the
decisions it lists. Every change is audited ("decision.status"). No message is
sent to residents when a status changes: only the page and the digest show it
(telling the residents who raised the theme may come later).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.decisions import DecisionError
from conversations.screening.cleaning import clean_text
from conversations.staff import public_results
from conversations.storage import store
from conversations.storage.models import Decision, utcnow
from conversations.storage.models.priorities import DECISION_STATUSES, MAX_STATUS_NOTE

# How a status reads to staff (the public page has its own words, in each language).
STATUS_NAMES = {
    "agreed": "agreed",
    "under_way": "under way",
    "done": "done",
    "not_going_ahead": "not going ahead",
}


@dataclass(frozen=True)
class StatusChange:
    decision_id: int
    theme_label: str
    old: str
    new: str
    note: str | None
    changed: bool  # False: it already stood so, with that note; nothing was recorded

    def summary(self) -> str:
        if not self.changed:
            return (
                f"Decision {self.decision_id} ({self.theme_label}) is already "
                f"{STATUS_NAMES[self.new]}; nothing changed."
            )
        moved = (
            f"is now {STATUS_NAMES[self.new]} (was {STATUS_NAMES[self.old]})"
            if self.old != self.new
            else f"is still {STATUS_NAMES[self.new]}, with a new note"
        )
        return (
            f"Decision {self.decision_id} ({self.theme_label}) {moved}"
            + (f": {self.note}" if self.note else ", with no note")
            + ". The public results page shows it now; residents are not sent a message."
        )


def parse_status(status: str) -> str:
    """One of DECISION_STATUSES as typed ("under way", "under-way", "Done"), or a
    DecisionError naming them."""
    typed = "_".join(status.strip().lower().replace("-", " ").split())
    if typed not in DECISION_STATUSES:
        raise DecisionError(
            f"'{status}' is not a decision status: use one of " + ", ".join(DECISION_STATUSES)
        )
    return typed


def parse_note(note: str | None) -> str | None:
    """The note on one line, cleaned of control characters; None when there is none."""
    text = " ".join(clean_text(note or "").split())
    if len(text) > MAX_STATUS_NOTE:
        raise DecisionError(
            f"keep the note to {MAX_STATUS_NOTE} characters (it has {len(text)}): "
            "it is a short public line beside the decision"
        )
    return text or None


def record_status(*, session: Session, slug: str, decision_id: int, status: str,
                  note: str | None, actor: str) -> StatusChange:  # fmt: skip
    """Set the decision's status and note (no note clears the old one) and audit it."""
    new, text = parse_status(status), parse_note(note)
    decision = _decision_of(session, slug, decision_id)
    old = decision.status
    if (old, decision.status_note) == (new, text):
        return StatusChange(decision_id, decision.theme_label, old, new, text, changed=False)
    if new != old:
        decision.status_changed_at = utcnow()
    decision.status, decision.status_note = new, text
    session.add(decision)
    store.audit(
        session=session,
        actor=actor,
        action="decision.status",
        target=f"{slug} decision {decision_id}",
        detail=f"{old} -> {new}" + (f": {text}" if text else ""),
    )
    return StatusChange(decision_id, decision.theme_label, old, new, text, changed=True)


def set_status(db: Engine, slug: str, decision_id: int, status: str, *,
               note: str | None, actor: str) -> StatusChange:  # fmt: skip
    """Record a decision's status in its own transaction (the command line). No message
    is sent to residents for a status change: the public results page and the digest
    show it (a later change may tell the residents who raised the theme)."""
    with Session(db) as session, session.begin():
        return record_status(
            session=session, slug=slug, decision_id=decision_id, status=status, note=note,
            actor=actor,
        )  # fmt: skip


def _decision_of(session: Session, slug: str, decision_id: int) -> Decision:
    """The consultation's decision, or a DecisionError saying why not."""
    consultation = store.require_consultation(session=session, slug=slug)
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise DecisionError(f"there is no decision {decision_id}")
    if decision.consultation_id != consultation.id:
        raise DecisionError(
            f"decision {decision_id} is another consultation's, not '{slug}'s: "
            f"see `needsfirst decision list {slug}`"
        )
    return decision


@dataclass(frozen=True)
class DecisionListed:
    decision_id: int
    theme_id: int
    theme_label: str
    text: str
    decided_at: datetime
    residents_told: int
    status: str
    status_changed_at: datetime | None
    status_note: str | None
    actor: str = ""  # who recorded it, as the audit log names them

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.decision_id,
            "theme_id": self.theme_id,
            "theme": self.theme_label,
            "text": self.text,
            "decided_at": self.decided_at.isoformat(),
            "residents_told": self.residents_told,
            "status": self.status,
            "status_changed_at": self.status_changed_at.isoformat()
            if self.status_changed_at
            else None,
            "status_note": self.status_note,
        }


def decisions_of(db: Engine, slug: str) -> list[DecisionListed]:
    """The consultation's decisions, oldest first, with where each stands."""
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        return [
            DecisionListed(
                d.id,
                d.theme_id,
                d.theme_label,
                d.text,
                d.decided_at,
                d.residents_told,
                d.status,
                d.status_changed_at,
                d.status_note,
                d.actor,
            )
            for d in public_results.decisions(session=session, consultation_id=consultation.id)
            if d.id is not None
        ]


def format_listed(decisions: list[DecisionListed], zone: ZoneInfo) -> str:
    """The decisions as an officer reads them at the terminal, in local time."""
    if not decisions:
        return "No decisions have been recorded yet."

    def day(moment: datetime) -> str:
        return f"{moment.astimezone(zone):%d %b %Y}"

    lines = []
    for d in decisions:
        since = f" since {day(d.status_changed_at)}" if d.status_changed_at else ""
        lines.append(
            f"Decision {d.decision_id}, theme {d.theme_id} ({d.theme_label}), decided "
            f"{day(d.decided_at)}: {STATUS_NAMES.get(d.status, d.status)}{since}"
            + (f" ({d.status_note})" if d.status_note else "")
        )
        lines.append("    " + d.text.replace("\n", "\n    "))
    return "\n".join(lines)
