"""Taking a resident's words back: on /forget, from the copies made of them, and
when they decline a changed consent text.

On /forget (erase_resident) everything held about a resident goes, identity
included, except the safeguarding flags no lead has closed (keep_open_flags).

Answers are copied in two places that outlive them: a prioritise round shows
one quote per theme (RoundTheme, and every voter's deck and page), and a weekly
digest is stored until officers have it. `forget_copies` takes the quotes back
everywhere they were copied and marks undelivered digests to be rendered again
(bot/actions/digests.py), for /forget and for a declined consent alike.

A resident who declines the consent text of a consultation they had agreed to
is told that nothing they sent is stored, so it must be true: their answers and
votes in that consultation go, with what was derived from them (theme links,
vectors, codes, quotes; safeguarding flags as on /forget), the read-backs of their words kept for
redelivery, and the web chat's transcript. Their latest consent record is then
a refusal, so they are no longer invited (coverage.opted_in_residents).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.sql import Select
from sqlmodel import Session, col, delete, select, update

from conversations.storage.models import (
    Answer,
    AnswerCode,
    AnswerEmbedding,
    AnswerTheme,
    BroadcastRecipient,
    ChannelIdentity,
    CodebookExample,
    ConsentRecord,
    Conversation,
    Digest,
    InboxEntry,
    PairVote,
    Resident,
    ResidentContact,
    Round,
    RoundTheme,
    SafeguardingDelivery,
    SafeguardingFlag,
    SafeguardingNote,
    StatementVote,
    WebTranscriptEntry,
)


def erase_resident(*, session: Session, resident_id: int) -> int:
    """Delete everything held about a resident, identity included, except the flags
    no safeguarding lead has closed (see keep_open_flags); returns how many are kept."""
    their_answers = select(Answer.id).where(col(Answer.resident_id) == resident_id)
    delete_answers(session=session, answers=their_answers)
    session.exec(delete(PairVote).where(col(PairVote.resident_id) == resident_id))
    session.exec(delete(StatementVote).where(col(StatementVote.resident_id) == resident_id))
    session.exec(delete(ConsentRecord).where(col(ConsentRecord.resident_id) == resident_id))
    kept = keep_open_flags(session=session, resident_id=resident_id)
    session.exec(delete(InboxEntry).where(col(InboxEntry.resident_id) == resident_id))
    session.exec(
        delete(BroadcastRecipient).where(col(BroadcastRecipient.resident_id) == resident_id)
    )
    # The web chat's transcript is keyed by the device's identity, so it goes first.
    web_devices = select(ChannelIdentity.external_id).where(
        ChannelIdentity.resident_id == resident_id, ChannelIdentity.channel == "web"
    )
    session.exec(delete(WebTranscriptEntry).where(col(WebTranscriptEntry.visitor).in_(web_devices)))
    session.exec(delete(ChannelIdentity).where(col(ChannelIdentity.resident_id) == resident_id))
    session.exec(delete(ResidentContact).where(col(ResidentContact.resident_id) == resident_id))
    session.exec(delete(Conversation).where(col(Conversation.resident_id) == resident_id))
    session.exec(delete(Resident).where(col(Resident.id) == resident_id))
    return kept


def keep_open_flags(*, session: Session, resident_id: int) -> int:
    """On /forget, a disclosure no lead has closed must still reach a person (vital
    interests): its flag stays without the resident, keeping only what they wrote
    there, until a lead records an outcome. Closed flags go with everything else."""
    return _keep_open(session, col(SafeguardingFlag.resident_id) == resident_id)


def keep_open_flags_of(*, session: Session, residents: Select[Any]) -> int:
    """keep_open_flags for many residents at once (a select of their ids)."""
    return _keep_open(session, col(SafeguardingFlag.resident_id).in_(residents))


def _keep_open(session: Session, theirs: ColumnElement[bool]) -> int:
    _drop_closed_flags(session, theirs)
    kept = session.exec(
        update(SafeguardingFlag).where(theirs).values(resident_id=None, resident_forgotten=True)
    )
    return int(kept.rowcount or 0)


def withdraw_words(*, session: Session, resident_id: int, consultation_id: int
                   ) -> tuple[int, int]:  # fmt: skip
    """Erase what a resident sent to one consultation; how many answers went, and how
    many safeguarding flags stay until a lead closes them."""
    rounds = select(Round.id).where(Round.consultation_id == consultation_id)
    answers = select(Answer.id).where(
        col(Answer.resident_id) == resident_id, col(Answer.round_id).in_(rounds)
    )
    gone = len(session.exec(answers).all())
    delete_answers(session=session, answers=answers)
    for vote in (PairVote, StatementVote):
        session.exec(
            delete(vote).where(col(vote.resident_id) == resident_id, col(vote.round_id).in_(rounds))
        )
    # As on /forget: a disclosure no lead has closed still reaches a person (vital
    # interests) and the resident is told so; closed flags go now.
    theirs = (
        col(SafeguardingFlag.resident_id) == resident_id,
        col(SafeguardingFlag.consultation_id) == consultation_id,
    )
    _drop_closed_flags(session, *theirs)
    kept = len(session.exec(select(SafeguardingFlag.id).where(*theirs)).all())
    # Replies kept for redelivery read their words back; the flags on them stay
    # (an abuse pause must not end by declining).
    session.exec(
        update(InboxEntry)
        .where(col(InboxEntry.resident_id) == resident_id)
        .values(replies_json="[]")
    )
    devices = select(ChannelIdentity.external_id).where(
        ChannelIdentity.resident_id == resident_id, ChannelIdentity.channel == "web"
    )
    session.exec(delete(WebTranscriptEntry).where(col(WebTranscriptEntry.visitor).in_(devices)))
    return gone, kept


def delete_answers(*, session: Session, answers: Select[Any]) -> None:
    """Delete answers (a select of their ids) with everything derived from them: the
    one list of what refers to an answer, for /forget and a declined consent alike."""
    forget_copies(session=session, answers=answers)
    for derived in (AnswerTheme, AnswerCode, CodebookExample, AnswerEmbedding):
        session.exec(delete(derived).where(col(derived.answer_id).in_(answers)))
    session.exec(delete(Answer).where(col(Answer.id).in_(answers)))


def forget_copies(*, session: Session, answers: Select[Any]) -> None:
    """Take back the copies of `answers` (a select of answer ids), before they go."""
    for row in session.exec(
        select(RoundTheme).where(col(RoundTheme.quote_answer_id).in_(answers))
    ).all():
        if row.quote:
            _redact_round(session, row.round_id, row.quote)
        row.quote, row.quote_answer_id = "", None
        session.add(row)
    themed = select(Round.consultation_id).join(Answer, col(Answer.round_id) == col(Round.id))
    session.exec(
        update(Digest)
        .where(
            col(Digest.cleared_at).is_(None),
            col(Digest.consultation_id).in_(themed.where(col(Answer.id).in_(answers))),
        )
        .values(stale=True)
    )


def _redact_round(session: Session, round_id: int, quote: str) -> None:
    """A quote out of the round's decks, the replies kept for redelivery and web pages."""
    escaped = json.dumps(quote, ensure_ascii=True)[1:-1]
    for conversation in session.exec(
        select(Conversation).where(
            Conversation.round_id == round_id, col(Conversation.state_json).contains(escaped)
        )
    ).all():
        state = json.loads(conversation.state_json)
        for entry in state.get("deck", {}).get("themes", {}).values():
            if len(entry) > 1 and entry[1] == quote:
                entry[1] = ""
        conversation.state_json = json.dumps(state)
        session.add(conversation)
    for inbox in session.exec(
        select(InboxEntry).where(col(InboxEntry.replies_json).contains(escaped))
    ).all():
        replies = json.loads(inbox.replies_json)
        for reply in replies:
            if isinstance(reply.get("text"), str):
                reply["text"] = reply["text"].replace(quote, "")
        inbox.replies_json = json.dumps(replies)
        session.add(inbox)
    for line in session.exec(
        select(WebTranscriptEntry).where(col(WebTranscriptEntry.text).contains(quote))
    ).all():
        line.text = line.text.replace(quote, "")
        session.add(line)


def _drop_closed_flags(session: Session, *theirs: ColumnElement[bool]) -> None:
    """The closed flags among `theirs` go, with their alerts and notes."""
    closed = select(SafeguardingFlag.id).where(*theirs, col(SafeguardingFlag.status) == "closed")
    session.exec(delete(SafeguardingDelivery).where(col(SafeguardingDelivery.flag_id).in_(closed)))
    session.exec(delete(SafeguardingNote).where(col(SafeguardingNote.flag_id).in_(closed)))
    session.exec(delete(SafeguardingFlag).where(*theirs, col(SafeguardingFlag.status) == "closed"))
