"""Answers kept, read back and confirmed: what becomes an `AnswerRecord`, and when.

An answer that a reflect step will read back is recorded as a draft (and can be
changed by editing the message it came in) until the resident confirms the read-back;
a profile question's answer carries its dimension for the weighting of results.
"""

from __future__ import annotations

from conversations.flow.inputs import EditedText
from conversations.flow.outcome import AnswerRecord
from conversations.flow.questions import prompt
from conversations.flow.routing import after, enter
from conversations.flow.script import Step
from conversations.flow.turn import Turn


def record(turn: Turn, current: Step, value: str, display: str, *, skipped: bool = False,
           ref: str | None = None) -> None:  # fmt: skip
    """Keep the answer to `current`: a draft if a reflect step will read it back."""
    n = turn.iteration(current.id)
    key = f"{current.id}@{n}"
    draft = reflected(turn, current.id)
    turn.state.values[key] = [value, display]
    turn.state.refs = {r: k for r, k in turn.state.refs.items() if k != key}
    if ref is not None and draft:
        turn.state.refs[ref] = key
    turn.answers.append(
        AnswerRecord(
            step_id=current.id,
            iteration=n,
            value=value,
            display=display,
            kind="text" if current.kind == "text" else "choice",
            profile=current.profile,
            skipped=skipped,
            confirmed=not draft,
            ref=ref,
        )
    )


def reflected(turn: Turn, step_id: str) -> bool:
    """Whether a reflect step reads back the answer to `step_id`."""
    return any(
        item.step == step_id for s in turn.script.steps if s.kind == "reflect" for item in s.items
    )


def confirm(turn: Turn, current: Step) -> None:
    """The read-back is right: its answers count, and the conversation goes on."""
    for item in current.items:
        n = turn.iteration(item.step)
        stored = turn.state.values.get(f"{item.step}@{n}")
        if stored is None:
            continue
        source = turn.script.step(item.step)
        turn.answers.append(
            AnswerRecord(
                step_id=item.step,
                iteration=n,
                value=stored[0],
                display=stored[1],
                kind="text" if source.kind == "text" else "choice",
                profile=source.profile,
                skipped=stored[0] == "" and source.optional,
                confirmed=True,
            )
        )
    # Confirmed answers can no longer be changed by editing the old message.
    turn.state.refs = {}
    enter(turn, after(turn, current))


def edited(turn: Turn, given: EditedText) -> None:
    """The resident edited a message holding a draft answer: the draft follows the edit."""
    key = turn.state.refs.get(given.ref)
    if key is None or not given.text.strip():
        turn.say("edited_ignored")
        return
    step_id, _, number = key.partition("@")
    current = turn.script.step(step_id)
    turn.state.values[key] = [given.text, given.text]
    turn.answers.append(
        AnswerRecord(
            step_id=step_id,
            iteration=int(number),
            value=given.text,
            display=given.text,
            kind="text",
            profile=current.profile,
            confirmed=False,
            ref=given.ref,
        )
    )
    turn.say("edited")
    if turn.state.step is not None and turn.script.step(turn.state.step).kind == "reflect":
        prompt(turn)
