"""When a resident's update is refused, paused, or needs the full path: one decision for both paths.

The batched path (conversations/residents/answer_batch.py) takes only plain answers
and declines anything else before writing; the full path (turn.py, answering.py)
then refuses, pauses or catches the resident up. Both ask here, so a resident meets
the same rule whichever path their update takes.

The flood limit counts the updates a resident sent within the window before this
one: FLOOD_LIMIT of them are answered as usual (more than anyone typing answers); the
next one, the first over the limit, is told once to slow down; the rest are ignored
until the window has moved on (docs/facilitator-guide.md, "More than 30 messages in
a minute get one 'slow down'").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Literal

from conversations.flow.inputs import EditedText, Input, TextInput
from conversations.flow.outcome import Completed, ConsentGiven, Outcome
from conversations.flow.script import Script
from conversations.flow.state import ConversationState

# Far beyond anyone typing answers: a script or a stuck key.
FLOOD_LIMIT = 30
FLOOD_WINDOW = timedelta(minutes=1)
# Abuse is stored (never quoted) and never argued with; after this many abusive
# texts within the window, a resident's free text waits until the window has moved
# on, with one calm word that their answers are safe.
ABUSE_LIMIT = 3
ABUSE_WINDOW = timedelta(minutes=10)

# "slow_down": the first update over the flood limit; "quiet": the rest of a flood;
# "paused": free text after repeated abuse.
Refusal = Literal["slow_down", "quiet", "paused"]

# What a batch writes in full (outcome_rows.Rows); a declined consent also erases
# what the resident sent (conversations/storage/erasure.py), votes need a deck.
_BATCH_EVENTS = (Completed, ConsentGiven)


def refusal(*, recent: int, given: Input | None, abusive: Callable[[], int],
            disclosure: Callable[[], bool]) -> Refusal | None:  # fmt: skip
    """Why this update is not answered as usual, if it is not.

    `recent`: the resident's updates already handled within FLOOD_WINDOW. `abusive`
    (their abusive texts within ABUSE_WINDOW) and `disclosure` (whether this text
    discloses a risk of harm) are asked only for free text, and only as far as needed."""
    if recent > FLOOD_LIMIT:
        return "quiet"
    if recent == FLOOD_LIMIT:
        return "slow_down"
    free_text = isinstance(given, TextInput | EditedText)
    if free_text and abusive() >= ABUSE_LIMIT and not disclosure():
        return "paused"  # a disclosure of harm never waits
    return None


def script_changed(script: Script, state: ConversationState) -> bool:
    """The script changed under a resident: their question is gone, or the consent
    text changed since they agreed. The full path catches them up (`catch_up`)."""
    return _question_gone(script, state) or _consent_changed(script, state)


def catch_up(script: Script, state: ConversationState) -> None:
    """Pick a resident up after the script changed under them: at its first question
    if theirs is gone, and asked for consent again before going on if its text changed."""
    if _question_gone(script, state):
        state.step = script.steps[0].id
    if _consent_changed(script, state):
        state.phase = "consent"


def _question_gone(script: Script, state: ConversationState) -> bool:
    return state.step is not None and not script.has_step(state.step)


def _consent_changed(script: Script, state: ConversationState) -> bool:
    return state.phase == "steps" and state.consent_version != script.consent.version


def batch_takes_round(*, status: str, kind: str) -> bool:
    """Whether a batch can step a conversation in this round: an open round, and not
    a prioritise round, whose deck of themes is dealt from the database."""
    return status == "open" and kind != "prioritise"


def batch_writes(outcome: Outcome, language: str) -> bool:
    """Whether a batch can store this outcome in full: no change of language, and no
    event but completing or consenting."""
    return outcome.state.language == language and all(
        isinstance(event, _BATCH_EVENTS) for event in outcome.events
    )
