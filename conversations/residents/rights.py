"""The resident's rights, on any channel: their language, a copy of everything held
about them, no more invitations, and being forgotten."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, select

from conversations.flow import callbacks
from conversations.flow.inputs import SetLanguage
from conversations.flow.messages import Attachment, ButtonSpec, Message, fit
from conversations.locale import LANGUAGES
from conversations.locale.catalogues import language_name
from conversations.residents.answering import step
from conversations.residents.texts import service_text
from conversations.residents.turn import Turn
from conversations.storage import contacts, erasure, priority_votes, store
from conversations.storage.models import (
    ChannelIdentity,
    ConsentRecord,
    Consultation,
    Resident,
    Round,
)


def language_menu(turn: Turn) -> None:
    """The languages of their consultation's script, one button each."""
    current = turn.current()
    languages = turn.scripts.get(current[2]).languages if current else LANGUAGES
    rows = tuple(
        (ButtonSpec(language_name(code), callbacks.language_data(code)),) for code in languages
    )
    turn.messages.append(Message(service_text("language_ask", turn.language), rows))


def set_language(turn: Turn, language: str) -> None:
    resident = turn.known_resident()
    current = turn.current()
    if current is not None:
        step(turn, *current, SetLanguage(language))
        return
    if language in LANGUAGES:
        resident.language = language
        turn.session.add(resident)
    turn.say("language_saved")


def stop(turn: Turn) -> None:
    """No more invitations (broadcasts, reminders)."""
    if turn.resident is not None:
        turn.resident.invitations = False
        turn.session.add(turn.resident)
    turn.say("stopped")


def ask_to_forget(turn: Turn) -> None:
    """Ask before forgetting them: the buttons carry the answer."""
    if turn.resident is None:
        turn.say("nothing_held")
        return
    yes = ButtonSpec(service_text("forget_yes", turn.language), callbacks.forget_data(True))
    no = ButtonSpec(service_text("forget_no", turn.language), callbacks.forget_data(False))
    turn.messages.append(Message(service_text("forget_ask", turn.language), ((yes, no),)))


def forget(turn: Turn, confirmed: bool) -> None:
    if not confirmed:
        turn.say("forget_cancelled")
        return
    if turn.resident is None or turn.resident.id is None:
        turn.say("nothing_held")
        return
    kept = erasure.erase_resident(session=turn.session, resident_id=turn.resident.id)
    turn.resident = None
    turn.erased = True
    turn.say("forgotten")
    if kept:
        turn.say("forgotten_flag_kept")


def my_data(turn: Turn) -> None:
    """Everything held about them: a summary, and the whole record as a JSON file."""
    resident = turn.resident
    if resident is None or resident.id is None:
        turn.say("nothing_held")
        return
    record = _record_of(turn.session, resident)
    document = json.dumps(record, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    lines = [service_text("mydata_intro", turn.language, count=str(len(record["answers"])))]
    for answer in record["answers"]:
        lines.append(f"• {answer['consultation']} / {answer['question']}: {answer['answer']}")
    outro = service_text("mydata_outro", turn.language, channel=turn.who.channel)
    text = fit("\n".join(lines) + "\n\n" + outro)
    turn.messages.append(
        Message(text, attachment=Attachment(f"needsfirst-{resident.pseudonym}.json", document))
    )


def _record_of(session: Session, resident: Resident) -> dict[str, Any]:
    assert resident.id is not None
    consultations: dict[int, str] = {}
    rounds: dict[int, Round] = {}

    def round_of(round_id: int) -> Round:
        if round_id not in rounds:
            found = session.get(Round, round_id)
            assert found is not None
            rounds[round_id] = found
        return rounds[round_id]

    def slug_of(consultation_id: int) -> str:
        if consultation_id not in consultations:
            found = session.get(Consultation, consultation_id)
            consultations[consultation_id] = found.slug if found else "?"
        return consultations[consultation_id]

    answers = [
        {
            "consultation": slug_of(round_of(a.round_id).consultation_id),
            "round": round_of(a.round_id).number,
            "question": a.step_id,
            "iteration": a.iteration,
            "answer": a.display if not a.skipped else "(skipped)",
            "answered_at": a.answered_at.isoformat(),
        }
        for a in store.answers_for_resident(session=session, resident_id=resident.id)
    ]
    consents = session.exec(
        select(ConsentRecord).where(ConsentRecord.resident_id == resident.id)
    ).all()
    return {
        "pseudonymous_id": resident.pseudonym,
        "language": resident.language,
        "invitations": resident.invitations,
        "joined": resident.created_at.isoformat(),
        "channels": _channels(session, resident.id),
        # Left by them to hear back by text message or email; they can remove it.
        "contact": [
            {"kind": c.kind, "address": c.address, "left": c.created_at.isoformat()}
            for c in contacts.of_resident(session=session, resident_id=resident.id)
        ],
        "consents": [
            {
                "consultation": slug_of(c.consultation_id),
                "version": c.version,
                "given": c.given,
                "at": c.recorded_at.isoformat(),
            }
            for c in consents
        ],
        "answers": answers,
        "votes": priority_votes.votes_of_resident(session=session, resident_id=resident.id),
    }


def _channels(session: Session, resident_id: int) -> list[str]:
    rows = session.exec(
        select(ChannelIdentity.channel).where(ChannelIdentity.resident_id == resident_id)
    ).all()
    return sorted(set(rows))
