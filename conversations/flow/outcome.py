"""What one step of the engine gives back: replies to deliver, answers to store, events.

The engine sends and stores nothing itself (goflow's lesson): the channel delivers
the replies, storage writes the answers, and the events say what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from conversations.flow.deliberation import PairVoted, StatementVoted
from conversations.flow.state import ConversationState


@dataclass(frozen=True)
class Button:
    label: str
    step_id: str
    iteration: int
    option_id: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    # True when this reply is the current question's keyboard redrawn (multi-select
    # ticks): a channel may edit the message that was pressed instead of sending.
    updates_prompt: bool = False


@dataclass(frozen=True)
class AnswerRecord:
    step_id: str
    iteration: int
    value: str  # text as given, or the chosen option id(s), comma-separated
    display: str  # as the resident saw it: their text, or the option label(s)
    kind: Literal["text", "choice"]
    profile: str | None = None
    skipped: bool = False
    confirmed: bool = True  # False until a reflect-back step has been confirmed
    ref: str | None = None


@dataclass(frozen=True)
class ConsentGiven:
    version: str


@dataclass(frozen=True)
class ConsentDeclined:
    version: str


@dataclass(frozen=True)
class Completed:
    pass


Event = ConsentGiven | ConsentDeclined | Completed | PairVoted | StatementVoted


@dataclass(frozen=True)
class Outcome:
    state: ConversationState
    replies: tuple[Reply, ...] = ()
    answers: tuple[AnswerRecord, ...] = ()
    events: tuple[Event, ...] = ()
