"""Taking a resident's words back: when they decline a changed consent text.

A resident who declines the consent text of a consultation they had agreed to
is told that nothing they sent is stored, so it must be true: their answers and
votes in that consultation go, with what was derived from them (theme links,
vectors, safeguarding excerpts), the read-backs of their words kept for
redelivery, and the web chat's transcript. Their latest consent record is then
a refusal, so they are no longer invited (coverage.opted_in_residents).
"""

from __future__ import annotations

from sqlmodel import Session, col, delete, select, update

from conversations.models import (
    Answer,
    AnswerEmbedding,
    AnswerTheme,
    ChannelIdentity,
    InboxEntry,
    PairVote,
    Round,
    SafeguardingFlag,
    StatementVote,
    WebTranscriptEntry,
)


def withdraw_words(*, session: Session, resident_id: int, consultation_id: int) -> int:
    """Erase what a resident sent to one consultation; how many answers went."""
    rounds = select(Round.id).where(Round.consultation_id == consultation_id)
    answers = select(Answer.id).where(
        col(Answer.resident_id) == resident_id, col(Answer.round_id).in_(rounds)
    )
    gone = len(session.exec(answers).all())
    session.exec(delete(AnswerTheme).where(col(AnswerTheme.answer_id).in_(answers)))
    session.exec(delete(AnswerEmbedding).where(col(AnswerEmbedding.answer_id).in_(answers)))
    session.exec(
        delete(Answer).where(
            col(Answer.resident_id) == resident_id, col(Answer.round_id).in_(rounds)
        )
    )
    for vote in (PairVote, StatementVote):
        session.exec(
            delete(vote).where(col(vote.resident_id) == resident_id, col(vote.round_id).in_(rounds))
        )
    session.exec(
        delete(SafeguardingFlag).where(
            col(SafeguardingFlag.resident_id) == resident_id,
            col(SafeguardingFlag.consultation_id) == consultation_id,
        )
    )
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
    return gone
