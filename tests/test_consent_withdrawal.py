"""Declining a changed consent text (issue 17, item 21): the resident is told nothing
they sent is stored, so their words go and they are invited no more, on both paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from conversations.residents.service import ConversationService
from conversations.staff.coverage import opted_in_residents
from conversations.storage.models import (
    Answer,
    AnswerCode,
    ChannelIdentity,
    ConsentRecord,
    Consultation,
    Conversation,
    SafeguardingFlag,
)
from tests.example_consultation import Resident_, change_consent


def opted_in(db: Engine) -> list[int]:
    with Session(db) as session:
        consultation = session.exec(select(Consultation)).one()
        assert consultation.id is not None
        return opted_in_residents(session=session, consultation_id=consultation.id)


@pytest.mark.parametrize("how", ["button", "typed"])
def test_declining_a_changed_consent_erases_their_words_and_invitations(
    service: ConversationService, db: Engine, tmp_path: Path, how: str
) -> None:
    ann = Resident_(service, "5101")
    bob = Resident_(service, "5102")
    for resident in (ann, bob):
        resident.start()
        resident.press("happy to take part")
        resident.press("North")
        resident.press("35 to 64")
        resident.say("I'm scared he will hurt me again, the Quillfeather buses")
    assert len(opted_in(db)) == 2
    with Session(db) as session, session.begin():  # an officer coded Ann's answer meanwhile
        consultation = session.exec(select(Consultation)).one()
        ann_id = session.exec(
            select(ChannelIdentity.resident_id).where(ChannelIdentity.external_id == "5101")
        ).one()
        need = session.exec(
            select(Answer).where(Answer.resident_id == ann_id, Answer.step_id == "need")
        ).one()
        assert consultation.id is not None and need.id is not None
        session.add(AnswerCode(answer_id=need.id, consultation_id=consultation.id,
                               theme_id=1, actor="staff:1"))  # fmt: skip
    change_consent(db, tmp_path)
    ann.press("My family")  # on the old question: consent comes first now
    assert "Are you happy to take part?" in ann.last
    if how == "button":
        ann.press("No thanks")  # handled wherever the fast path would take it
    else:
        ann.say("no")
    texts = [m.text for m in ann.inbox[-2:]]
    assert "Nothing you have sent is stored" in texts[0]
    # Her disclosure stays until a lead closes it, and she is told so (as on /forget).
    assert "what you told us that made us worried you may not be safe" in texts[1]
    with Session(db) as session:
        kept = session.exec(select(Answer.resident_id)).all()
        assert len(set(kept)) == 1  # only Bob's answers are left
        consents = session.exec(select(ConsentRecord.given).order_by(ConsentRecord.id)).all()
        assert consents[-1] is False
        states = [json.loads(c.state_json) for c in session.exec(select(Conversation)).all()]
        assert not any("Quillfeather" in json.dumps(s) for s in states if s["phase"] == "declined")
        flagged = sorted(session.exec(select(SafeguardingFlag.resident_id)).all())
        bob_id = next(iter(set(kept)))
    assert flagged == sorted([bob_id, ann_id])  # open flags stay for the leads
    assert opted_in(db) == [bob_id]  # Ann is not invited any more
    # Agreeing again later starts afresh, from the first question, and is invited again.
    ann.start()
    ann.press("happy to take part")
    assert "Which part of the borough" in " ".join(m.text for m in ann.inbox[-3:])
    assert len(opted_in(db)) == 2


def test_a_closed_safeguarding_flag_goes_with_a_declined_consent(
    service: ConversationService, db: Engine, tmp_path: Path
) -> None:
    ann = Resident_(service, "5201")
    ann.start()
    ann.press("happy to take part")
    ann.press("North")
    ann.press("35 to 64")
    ann.say("I'm scared he will hurt me again")
    with Session(db) as session, session.begin():
        flag = session.exec(select(SafeguardingFlag)).one()
        flag.status = "closed"  # a lead recorded an outcome
        session.add(flag)
    change_consent(db, tmp_path)
    ann.press("My family")
    ann.press("No thanks")
    assert "Nothing you have sent is stored" in ann.last
    with Session(db) as session:
        assert session.exec(select(SafeguardingFlag)).all() == []
        assert session.exec(select(Answer)).all() == []
