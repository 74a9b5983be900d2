"""Database tables, one module a subject. Schema changes go through Alembic
(conversations/migrations).

Importing this package registers every table on SQLModel.metadata (Alembic and
create_all need them all, foreign keys included), so the tables are named from here.
"""

from conversations.storage.models.broadcasts import Broadcast, BroadcastRecipient, in_language
from conversations.storage.models.channels import (
    InboxEntry,
    PendingUpdate,
    ServerSecret,
    WebNewcomer,
    WebTranscriptEntry,
)
from conversations.storage.models.consultations import ConsentRecord, Consultation, Round, utcnow
from conversations.storage.models.digests import Digest, DigestDelivery, DigestEmail
from conversations.storage.models.imports import ImportBatch, ImportUpload
from conversations.storage.models.priorities import Decision, PairVote, RoundTheme, StatementVote
from conversations.storage.models.residents import (
    Answer,
    ChannelIdentity,
    Conversation,
    Resident,
    ResidentContact,
)
from conversations.storage.models.safeguarding import (
    SafeguardingDelivery,
    SafeguardingFlag,
    SafeguardingNote,
)
from conversations.storage.models.staff import AuditEntry, StaffLogin, StaffSession
from conversations.storage.models.themes import (
    AnalysisRun,
    AnswerCode,
    AnswerEmbedding,
    AnswerTheme,
    CodebookExample,
    CodebookTheme,
    RunTheme,
    ThemeEdit,
    ThemeSplitPart,
)

__all__ = [
    "AnalysisRun",
    "Answer",
    "AnswerCode",
    "AnswerEmbedding",
    "AnswerTheme",
    "AuditEntry",
    "Broadcast",
    "BroadcastRecipient",
    "ChannelIdentity",
    "CodebookExample",
    "CodebookTheme",
    "ConsentRecord",
    "Consultation",
    "Conversation",
    "Decision",
    "Digest",
    "DigestDelivery",
    "DigestEmail",
    "ImportBatch",
    "ImportUpload",
    "InboxEntry",
    "PairVote",
    "PendingUpdate",
    "Resident",
    "ResidentContact",
    "Round",
    "RoundTheme",
    "RunTheme",
    "SafeguardingDelivery",
    "SafeguardingFlag",
    "SafeguardingNote",
    "ServerSecret",
    "StaffLogin",
    "StaffSession",
    "StatementVote",
    "ThemeEdit",
    "ThemeSplitPart",
    "WebNewcomer",
    "WebTranscriptEntry",
    "in_language",
    "utcnow",
]
