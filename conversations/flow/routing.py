"""Moving through a script: which step comes next, and running until one waits for the resident.

Messages are said and passed, a loop at its limit lets the resident on, a
deliberation step with nothing left to ask is skipped, and the end completes the
conversation; a step changed from a read-back returns to the read-back.
"""

from __future__ import annotations

from conversations.flow import deliberation
from conversations.flow.outcome import Completed, Reply
from conversations.flow.questions import prompt
from conversations.flow.script import Option, Step
from conversations.flow.turn import Turn


def enter(turn: Turn, step_id: str | None) -> None:
    """Run from `step_id` until a step waits for the resident, or the end."""
    state = turn.state
    while step_id is not None:
        current = turn.script.step(step_id)
        state.step = current.id
        state.selected = []
        if current.kind == "message":
            turn.replies.append(Reply(turn.text_of(current.text)))
            step_id = after(turn, current)
            continue
        if current.kind == "end":
            turn.replies.append(Reply(turn.text_of(current.text)))
            break
        if current.kind == "loop" and state.loops.get(current.id, 1) >= current.max:
            if current.limit_text is not None:
                turn.replies.append(Reply(turn.text_of(current.limit_text)))
            step_id = after(turn, current)
            continue
        if current.kind in deliberation.KINDS and not deliberation.pending(current, state.deck):
            step_id = after(turn, current)  # no themes, or all asked
            continue
        prompt(turn)
        return
    state.step = None
    state.phase = "done"
    state.refs = {}
    turn.events.append(Completed())


def after(turn: Turn, current: Step, option: Option | None = None) -> str | None:
    """The step that follows `current` (or its chosen `option`)."""
    if option is not None and option.next:
        return option.next
    return current.next or turn.script.following(current.id)


def advance(turn: Turn, current: Step, option: Option | None = None) -> None:
    """Leave a step that has been answered: back to a read-back, or onwards."""
    if turn.state.returning_to is not None:
        target, turn.state.returning_to = turn.state.returning_to, None
        enter(turn, target)
    else:
        enter(turn, after(turn, current, option))
