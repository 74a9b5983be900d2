"""What the resident is shown: the question they are on, with its buttons and read-back.

A choice's options (ticked or not, for a multiple choice), Skip and Done, a loop's
Yes and No, a deliberation question, and a reflect step's read-back of the answers
with a button to change each one.
"""

from __future__ import annotations

from conversations.flow import deliberation
from conversations.flow.outcome import Button, Reply
from conversations.flow.script import Step
from conversations.flow.turn import Turn

CONSENT_STEP = "_consent"
MAX_REFLECTED_VALUE = 600  # per item, so that a read-back stays under Telegram's limit
TICKS = ("✅ ", "▫️ ")  # a multiple choice's ticked and unticked marks, before the label


def prompt(turn: Turn) -> None:
    """Show the question the resident is on (with its buttons)."""
    state = turn.state
    if state.phase == "consent":
        consent = turn.script.consent
        row = (
            Button(turn.text_of(consent.agree), CONSENT_STEP, 1, "_agree"),
            Button(turn.text_of(consent.decline), CONSENT_STEP, 1, "_decline"),
        )
        turn.replies.append(Reply(turn.text_of(consent.text), (row,)))
    elif state.phase == "steps" and state.step is not None:
        turn.replies.append(question(turn, turn.script.step(state.step)))
    elif state.phase == "done":
        turn.say("finished")
    elif state.phase == "declined":
        turn.say("declined_again")


def question(turn: Turn, current: Step, updates_prompt: bool = False) -> Reply:
    """The question `current` as the resident sees it now."""
    n = turn.iteration(current.id)

    def button(label: str, option_id: str) -> Button:
        return Button(label, current.id, n, option_id)

    text = turn.text_of(current.text)
    rows: list[tuple[Button, ...]] = []
    if current.kind == "choice":
        for option in current.options:
            label = turn.text_of(option.label)
            if current.multi:
                label = TICKS[0 if option.id in turn.state.selected else 1] + label
            rows.append((button(label, option.id),))
        extra = []
        if current.optional:
            extra.append(button(turn.phrase("skip"), "_skip"))
        if current.multi:
            extra.append(button(turn.phrase("done"), "_done"))
        if extra:
            rows.append(tuple(extra))
    elif current.kind == "text" and current.optional:
        rows.append((button(turn.phrase("skip"), "_skip"),))
    elif current.kind == "loop":
        rows.append((button(turn.phrase("yes"), "_yes"), button(turn.phrase("no"), "_no")))
    elif current.kind in deliberation.KINDS:
        text, choices = deliberation.question(current, turn.state.deck, turn.text_of)
        rows += [tuple(button(label, option) for label, option in row) for row in choices]
    elif current.kind == "reflect":
        lines = [text, ""]
        for item in current.items:
            stored = turn.state.values.get(f"{item.step}@{turn.iteration(item.step)}")
            shown = stored[1] if stored and stored[1] else turn.phrase("skipped")
            if len(shown) > MAX_REFLECTED_VALUE:
                shown = shown[: MAX_REFLECTED_VALUE - 1] + "…"
            lines.append(f"• {turn.text_of(item.label)}: {shown}")
        text = "\n".join(lines)
        rows.append((button(turn.phrase("confirm"), "_yes"),))
        for number, item in enumerate(current.items):
            label = turn.phrase("change", label=turn.text_of(item.label))
            rows.append((button(label, f"_c{number}"),))
    return Reply(text, tuple(rows), updates_prompt=updates_prompt)
