"""Database tables. Schema changes go through Alembic (conversations/migrations).

Residents are known everywhere by a pseudonym; the only table that holds a
channel's own user id (a Telegram id, a web cookie's hash) is ChannelIdentity.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Consultation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True, index=True)
    title: str = Field(max_length=500)
    script_toml: str = Field(sa_column=Column(Text, nullable=False))
    script_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Round(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("consultation_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    number: int
    kind: str = Field(default="needs", max_length=20)
    status: str = Field(default="draft", max_length=10)  # draft | open | closed
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None


class Resident(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    pseudonym: str = Field(max_length=32, unique=True, index=True)
    language: str = Field(default="en", max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
    # The conversation that free text and button presses go to.
    current_conversation_id: int | None = None
    invitations: bool = True  # False after /stop
    unreachable: bool = False  # the channel told us the resident blocked the bot


class ChannelIdentity(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    channel: str = Field(max_length=20)
    external_id: str = Field(max_length=128)
    chat_id: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    """One resident's conversation in one round, with the engine's state."""

    __table_args__ = (UniqueConstraint("resident_id", "round_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    state_json: str = Field(sa_column=Column(Text, nullable=False))
    source: str | None = Field(default=None, max_length=40)
    started_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    reminded_at: datetime | None = None  # the one gentle reminder, if it was sent


class Answer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("conversation_id", "step_id", "iteration"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    step_id: str = Field(max_length=24)
    iteration: int = 1
    kind: str = Field(max_length=10)  # text | choice
    value: str = Field(sa_column=Column(Text, nullable=False))
    display: str = Field(sa_column=Column(Text, nullable=False))
    profile: str | None = Field(default=None, max_length=24)
    skipped: bool = False
    confirmed: bool = True
    # Never quoted (a safeguarding disclosure, or abuse): stored, counted, not shown.
    withheld: str | None = Field(default=None, max_length=20)
    message_ref: str | None = Field(default=None, max_length=64)
    answered_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ConsentRecord(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    version: str = Field(max_length=40)
    given: bool
    channel: str = Field(max_length=20)
    recorded_at: datetime = Field(default_factory=utcnow)


class SafeguardingFlag(SQLModel, table=True):
    """A resident's words that suggest a risk of harm, open until a lead acknowledges it.

    status: open (no lead has acknowledged it) | acknowledged | closed (an outcome
    is recorded). After /forget an unclosed flag stays, without its resident, so that
    the disclosure still reaches a person (docs/safeguarding.md)."""

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    consultation_id: int | None = Field(default=None, foreign_key="consultation.id", index=True)
    categories: str = Field(max_length=200)
    excerpt: str = Field(sa_column=Column(Text, nullable=False))
    channel: str | None = Field(default=None, max_length=20)
    help_shown: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    raised_at: datetime = Field(default_factory=utcnow)
    notified_at: datetime | None = Field(default=None, index=True)  # first alert delivered
    status: str = Field(default="open", max_length=12, index=True)
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, max_length=80)
    escalated_at: datetime | None = None  # unacknowledged in time: every lead again
    fallback_at: datetime | None = None  # still unacknowledged: the configured fallback
    outcome: str | None = Field(default=None, max_length=20)
    closed_at: datetime | None = None
    closed_by: str | None = Field(default=None, max_length=80)
    resident_forgotten: bool = False


class SafeguardingDelivery(SQLModel, table=True):
    """One alert about a flag to one recipient ("telegram:<id>" or "email:<address>").

    Retried with backoff until sent; a recipient added later gets a row then."""

    __table_args__ = (UniqueConstraint("flag_id", "recipient", "purpose"),)
    id: int | None = Field(default=None, primary_key=True)
    flag_id: int = Field(foreign_key="safeguardingflag.id", index=True)
    recipient: str = Field(max_length=200)
    purpose: str = Field(max_length=12)  # alert | escalation | fallback
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None
    last_error: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class SafeguardingNote(SQLModel, table=True):
    """A lead's note on a flag (what was done, who was called)."""

    id: int | None = Field(default=None, primary_key=True)
    flag_id: int = Field(foreign_key="safeguardingflag.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    author: str = Field(max_length=80)
    text: str = Field(sa_column=Column(Text, nullable=False))


class InboxEntry(SQLModel, table=True):
    """An update already handled, with the replies it produced.

    Keyed by the channel's update id so that a redelivered update is handled once;
    replies are kept until delivered, so a crash between storing and sending
    loses nothing.
    """

    channel: str = Field(primary_key=True, max_length=20)
    update_key: str = Field(primary_key=True, max_length=64)
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    replies_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    handled_at: datetime = Field(default_factory=utcnow, index=True)
    # Which running service handled it: only that one can still be delivering.
    handled_by: str | None = Field(default=None, max_length=32)
    delivered_at: datetime | None = None
    # "abuse" (the text was abusive) or "paused" (told to take a break): see FLAGS.
    flag: str | None = Field(default=None, max_length=10)


class AuditEntry(SQLModel, table=True):
    """Who did what, when, on what: every staff action."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=80)
    action: str = Field(max_length=60)
    target: str = Field(max_length=200)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class Broadcast(SQLModel, table=True):
    """An invitation sent to a consultation's opted-in residents (or one group of them)."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    created_by: str = Field(max_length=80)
    message: str = Field(sa_column=Column(Text, nullable=False))
    group_dimension: str | None = Field(default=None, max_length=24)
    group_value: str | None = Field(default=None, max_length=40)
    window_minutes: int = 0  # spread sending over this long (0: as fast as allowed)
    # draft -> queued -> sending -> done | cancelled
    status: str = Field(default="draft", max_length=10, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Where the facilitator watches progress (a Telegram message the bot edits).
    progress_chat_id: str | None = Field(default=None, max_length=64)
    progress_message_id: int | None = None


class BroadcastRecipient(SQLModel, table=True):
    """One resident's invitation, recorded before and after sending so none goes twice."""

    __table_args__ = (
        UniqueConstraint("broadcast_id", "resident_id"),
        # The sender's claim (a broadcast's next pending rows by id) and its progress
        # counts read this alone, however many rows the broadcast has.
        Index("ix_broadcastrecipient_claim", "broadcast_id", "state", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    # pending -> sending -> sent | failed | blocked | left | skipped
    state: str = Field(default="pending", max_length=10, index=True)
    attempts: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class StaffLogin(SQLModel, table=True):
    """A one-time sign-in link for the dashboard (only its hash is kept)."""

    token_hash: str = Field(primary_key=True, max_length=64)
    staff_id: int
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class StaffSession(SQLModel, table=True):
    """A signed-in dashboard session (only its hash is kept), with its CSRF token."""

    token_hash: str = Field(primary_key=True, max_length=64)
    staff_id: int = Field(index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class WebTranscriptEntry(SQLModel, table=True):
    """One message of a web chat as the resident's browser shows it.

    Telegram keeps a chat's history on the resident's phone; the web chat keeps it
    here, keyed by the hash of the device's cookie (the web ChannelIdentity's
    external_id), and erases it with the resident.
    """

    __table_args__ = (UniqueConstraint("visitor", "update_key", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    visitor: str = Field(max_length=64, index=True)
    update_key: str = Field(max_length=64)
    position: int = 0  # order within one update's messages
    sender: str = Field(max_length=10)  # resident | bot
    text: str = Field(sa_column=Column(Text, nullable=False))
    buttons_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    language: str = Field(default="en", max_length=8)
    created_at: datetime = Field(default_factory=utcnow)


class AnalysisRun(SQLModel, table=True):
    """One run of the theme analysis over a consultation's answers."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    questions: str = Field(max_length=200)  # the step ids analysed, comma-separated
    created_at: datetime = Field(default_factory=utcnow, index=True)
    created_by: str = Field(max_length=80)
    answers: int = 0
    unthemed: int = 0
    seconds: float = 0.0


class RunTheme(SQLModel, table=True):
    """A theme as one run found it, under its stable id (kept across runs)."""

    __table_args__ = (UniqueConstraint("run_id", "theme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="analysisrun.id", index=True)
    theme_id: int  # stable within a consultation across runs
    label: str = Field(max_length=200)
    keywords_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    domains_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    # Quotes are answer ids, shown scrubbed; an erased answer's quote disappears.
    quote_answers_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    centroid_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    size: int = 0
    previous_size: int | None = None
    status: str = Field(max_length=10)  # new | growing | shrinking | steady | gone | merged


class AnswerTheme(SQLModel, table=True):
    """Which theme(s) an answer was given in a run: rank 0 primary, 1-2 secondary."""

    run_id: int = Field(foreign_key="analysisrun.id", primary_key=True)
    answer_id: int = Field(foreign_key="answer.id", primary_key=True, index=True)
    rank: int = Field(primary_key=True)
    theme_id: int = Field(index=True)


class AnswerEmbedding(SQLModel, table=True):
    """An answer's sentence embedding, computed once, off the resident's path.

    Only with the optional semantic extra. The vector is float32, little-endian;
    `answer_version` is the answer's `updated_at` when it was embedded, so a
    corrected answer is embedded again. Erased with the answer."""

    answer_id: int = Field(foreign_key="answer.id", primary_key=True)
    model: str = Field(primary_key=True, max_length=64)
    answer_version: datetime
    dimensions: int
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    embedded_at: datetime = Field(default_factory=utcnow)


class ThemeEdit(SQLModel, table=True):
    """An officer's rename, merge or split of a theme, replayed on every later run."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    action: str = Field(max_length=10)  # rename | merge | split
    theme_id: int
    other_theme_id: int | None = None  # merge: the theme it went into
    label: str | None = Field(default=None, max_length=200)
    # split: the theme's centroid when it was split (its parts are ThemeSplitPart rows)
    centroid_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    actor: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow)


class ThemeSplitPart(SQLModel, table=True):
    """One of the two themes an officer's split made, as the split found it.

    Every later run divides the theme that still looks like the split one between
    the parts' centroids (analysis.themes.tracking.apply_splits)."""

    edit_id: int = Field(foreign_key="themeedit.id", primary_key=True)
    position: int = Field(primary_key=True)  # 0: the larger part when split
    theme_id: int  # a new stable id
    label: str = Field(max_length=200)
    centroid_json: str = Field(sa_column=Column(Text, nullable=False))
    size: int = 0


class Digest(SQLModel, table=True):
    """A consultation's digest for officers, for one period, built once.

    Its documents quote residents, so they are kept only until every officer has
    had them (a resident who asks to be forgotten later is not kept here)."""

    __table_args__ = (UniqueConstraint("consultation_id", "kind", "period_end"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    kind: str = Field(default="weekly", max_length=10)  # weekly | on-demand
    period_start: datetime
    period_end: datetime
    run_id: int | None = None  # the analysis run its themes come from
    built_at: datetime = Field(default_factory=utcnow)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    html: str = Field(default="", sa_column=Column(Text, nullable=False))
    csv: str = Field(default="", sa_column=Column(Text, nullable=False))
    cleared_at: datetime | None = None  # documents dropped once delivered
    # A resident it may quote was forgotten before delivery: rendered again first.
    stale: bool = False


class DigestDelivery(SQLModel, table=True):
    """One officer's copy of a digest, recorded before and after each part is sent."""

    __table_args__ = (UniqueConstraint("digest_id", "officer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    digest_id: int = Field(foreign_key="digest.id", index=True)
    officer_id: int = Field(sa_column=Column(BigInteger, nullable=False))  # a Telegram user id
    # pending -> sending -> sent | blocked | failed
    state: str = Field(default="pending", max_length=10, index=True)
    # The next part to send (0 summary, 1 report, 2 table); a part is counted before
    # it is sent, so a crash mid-send never sends it twice.
    next_part: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class Decision(SQLModel, table=True):
    """What was decided on a theme ("you said, we did"), told to the residents who raised it."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    theme_id: int
    theme_label: str = Field(max_length=200)
    run_id: int  # the analysis run whose residents were told
    text: str = Field(sa_column=Column(Text, nullable=False))
    actor: str = Field(max_length=80)
    decided_at: datetime = Field(default_factory=utcnow, index=True)
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id")
    residents_told: int = 0


class PendingUpdate(SQLModel, table=True):
    """An update fetched from a channel and not yet handled, kept across a crash.

    Telegram forgets an update once the bot confirms it, and python-telegram-bot
    confirms a batch when it asks for the next, before the handlers have run: so
    each batch is written here first, and re-queued after a restart if unhandled.
    """

    channel: str = Field(primary_key=True, max_length=20)
    update_key: str = Field(primary_key=True, max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, index=True)


class RoundTheme(SQLModel, table=True):
    """A theme as a prioritise round shows it, fixed when the round opens."""

    __table_args__ = (UniqueConstraint("round_id", "theme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    theme_id: int  # the stable theme id of the analysis run it came from
    label: str = Field(max_length=200)
    quote: str = Field(default="", sa_column=Column(Text, nullable=False))  # scrubbed
    # The answer the quote came from: when its resident is forgotten, the quote goes.
    quote_answer_id: int | None = None
    position: int = 0


class PairVote(SQLModel, table=True):
    """A resident's answer to "which matters more?" on a pair of themes: once per pair a round."""

    __table_args__ = (UniqueConstraint("round_id", "resident_id", "low_theme_id", "high_theme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    step_id: str = Field(max_length=24)
    position: int  # the resident's nth pair
    low_theme_id: int
    high_theme_id: int
    left_theme_id: int  # the one shown first
    outcome: str = Field(max_length=10)  # low | high | same | unsure
    voted_at: datetime = Field(default_factory=utcnow)


class StatementVote(SQLModel, table=True):
    """A resident's agree / disagree / pass on a theme's statement: once per theme a round."""

    __table_args__ = (UniqueConstraint("round_id", "resident_id", "theme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    step_id: str = Field(max_length=24)
    position: int
    theme_id: int
    stance: str = Field(max_length=10)  # agree | disagree | pass
    voted_at: datetime = Field(default_factory=utcnow)


class ServerSecret(SQLModel, table=True):
    """A secret the service generated for itself, shared by every worker (e.g. the
    key that signs web chat devices when `[web] secret` is not configured)."""

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)


class WebNewcomer(SQLModel, table=True):
    """A new resident arriving in the web chat, by a keyed hash of their address,
    so that one client cannot pose as many residents (kept for a day)."""

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=64, index=True)
    arrived_at: datetime = Field(default_factory=utcnow, index=True)


class CodebookTheme(SQLModel, table=True):
    """A theme officers reviewed: in the consultation's codebook, coded against on every run.

    No run renames, renumbers, dissolves or merges it; only officers do (a merge or
    a split retires it, naming where its answers went)."""

    __table_args__ = (UniqueConstraint("consultation_id", "theme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    theme_id: int  # the theme's stable id (never reused)
    name: str = Field(max_length=200)
    state: str = Field(default="reviewed", max_length=10)  # reviewed | merged | split
    merged_into: int | None = None
    reviewed_by: str = Field(max_length=80)
    reviewed_at: datetime = Field(default_factory=utcnow)


class CodebookExample(SQLModel, table=True):
    """An answer a reviewed theme held when an officer reviewed it: what the coder learns from."""

    __table_args__ = (UniqueConstraint("consultation_id", "theme_id", "answer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    theme_id: int
    answer_id: int = Field(foreign_key="answer.id", index=True)


class AnswerCode(SQLModel, table=True):
    """An officer's coding of one answer, which wins over the coder on every run.

    Rank 0 is the primary theme, 1-2 further themes; a rank-0 row with no theme
    says the answer is not a need."""

    answer_id: int = Field(foreign_key="answer.id", primary_key=True)
    rank: int = Field(default=0, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    theme_id: int | None = None
    actor: str = Field(max_length=80)
    coded_at: datetime = Field(default_factory=utcnow)
