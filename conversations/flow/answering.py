"""What the resident's typed text or pressed button does at the question they are on.

Typed text answers a text question, or names a button (in any of the script's
languages); a press picks an option, ticks or unticks one of a multiple choice,
skips, loops, votes in a deliberation step, or confirms or changes a read-back.
A press for an earlier question is stale and shows where the resident is.
"""

from __future__ import annotations

from conversations.flow import deliberation, matching
from conversations.flow.inputs import ChoiceInput, TextInput
from conversations.flow.numbers import whole_number
from conversations.flow.phrases import phrase
from conversations.flow.questions import TICKS, prompt, question
from conversations.flow.readback import confirm, record
from conversations.flow.routing import advance, after, enter
from conversations.flow.script import Option, Step
from conversations.flow.turn import Turn


def typed(turn: Turn, given: TextInput) -> None:
    """Text typed at the current question."""
    assert turn.state.step is not None
    current = turn.script.step(turn.state.step)
    if current.kind == "text":
        if not given.text.strip():
            turn.say("empty_text")
            prompt(turn)
            return
        skips = [phrase("skip", language) for language in turn.script.languages]
        if current.optional and matching.words(given.text) in map(matching.words, skips):
            pressed(turn, ChoiceInput(current.id, turn.iteration(current.id), "_skip"))
            return
        record(turn, current, given.text, given.text, ref=given.ref)
        advance(turn, current)
        return
    # Typed text at a button question: accept it when it names a button in any of
    # the script's languages, which helps people typing on the web chat or using
    # screen readers. At a multiple choice, the typed options are the whole answer.
    choices = button_names(turn, current)
    named = matching.match(given.text, choices)
    if named is None and current.kind == "choice" and current.multi:
        several = [matching.match(part, choices) for part in matching.parts(given.text)]
        if several and None not in several:
            typed_choices(turn, current, [p for p in several if p is not None])
            return
    if named is None:
        turn.say("use_buttons")
        prompt(turn)
    elif current.kind == "choice" and current.multi and not named.startswith("_"):
        typed_choices(turn, current, [named])
    else:
        pressed(turn, ChoiceInput(current.id, turn.iteration(current.id), named))


def button_names(turn: Turn, current: Step) -> list[tuple[str, list[str]]]:
    """Each button of the question (by option id) with its label in every language."""
    names: dict[str, list[str]] = {}
    spoken = turn.state.language
    try:
        for language in (spoken, *turn.script.languages):
            turn.state.language = language
            for row in question(turn, current).buttons:
                for button in row:
                    label = button.label.removeprefix(TICKS[0]).removeprefix(TICKS[1])
                    names.setdefault(button.option_id, []).append(label)
    finally:
        turn.state.language = spoken
    if current.kind == "choice":
        for option in current.options:
            names[option.id].append(option.id.replace("-", " "))
    return list(names.items())


def typed_choices(turn: Turn, current: Step, chosen_ids: list[str]) -> None:
    """Options typed at a multiple choice: recorded as if ticked, then Done."""
    chosen = [o for o in current.options if o.id in chosen_ids]
    if len(chosen) > 1 and any(o.exclusive for o in chosen):
        alone = next(o for o in chosen if o.exclusive)
        turn.say("exclusive_typed", label=turn.text_of(alone.label))
        prompt(turn)
        return
    turn.state.selected = [o.id for o in chosen]
    choose(turn, current, "_done")


def pressed(turn: Turn, given: ChoiceInput) -> None:
    """A button pressed: checked against the question the resident is on."""
    current = turn.script.step(turn.state.step) if turn.state.step else None
    if (
        current is None
        or given.step_id != current.id
        or given.iteration != turn.iteration(current.id)
    ):
        turn.say("stale_button")
        prompt(turn)
        return
    if current.kind == "choice":
        choose(turn, current, given.option_id)
    elif current.kind == "text" and current.optional and given.option_id == "_skip":
        record(turn, current, "", "", skipped=True)
        advance(turn, current)
    elif current.kind == "loop" and given.option_id in ("_yes", "_no"):
        if given.option_id == "_yes":
            turn.state.loops[current.id] = turn.state.loops.get(current.id, 1) + 1
            enter(turn, current.back_to)
        else:
            enter(turn, after(turn, current))
    elif current.kind in deliberation.KINDS:
        deliberate(turn, current, given.option_id)
    elif current.kind == "reflect" and given.option_id == "_yes":
        confirm(turn, current)
    elif current.kind == "reflect" and _is_change(given.option_id, len(current.items)):
        item = current.items[int(given.option_id[2:])]
        turn.state.returning_to = current.id
        turn.say("changing")
        turn.state.step = item.step
        turn.state.selected = []
        prompt(turn)
    else:
        turn.say("stale_button")
        prompt(turn)


def choose(turn: Turn, current: Step, option_id: str) -> None:
    """An option of a choice step: picked, ticked or unticked; or Skip, or Done."""
    if option_id == "_skip" and current.optional:
        record(turn, current, "", "", skipped=True)
        advance(turn, current)
        return
    if current.multi and option_id == "_done":
        if not turn.state.selected:
            turn.say("choose_one")
            prompt(turn)
            return
        chosen = [o for o in current.options if o.id in turn.state.selected]
        record(
            turn,
            current,
            ",".join(o.id for o in chosen),
            ", ".join(turn.text_of(o.label) for o in chosen),
        )
        advance(turn, current)
        return
    option = current.option(option_id)
    if option is None:
        turn.say("stale_button")
        prompt(turn)
        return
    if current.multi:
        unticked = toggle(turn, current, option)
        if unticked:
            # Never untick silently: say which answer cannot go with the others.
            if option.exclusive:
                turn.say("exclusive_alone", label=turn.text_of(option.label))
            else:
                dropped = current.option(unticked[0])
                label = turn.text_of(dropped.label) if dropped else ""
                turn.say("exclusive_unticked", label=label)
        turn.replies.append(question(turn, current, updates_prompt=True))
        return
    record(turn, current, option.id, turn.text_of(option.label))
    advance(turn, current, option)


def deliberate(turn: Turn, current: Step, option_id: str) -> None:
    """A vote on a deliberation question; the next question, or onwards when none is left."""
    vote = deliberation.answer(current, turn.state.deck, option_id)
    if vote is None:
        turn.say("stale_button")
        prompt(turn)
        return
    turn.events.append(vote)
    if deliberation.pending(current, turn.state.deck):
        prompt(turn)
    else:
        advance(turn, current)


def toggle(turn: Turn, current: Step, option: Option) -> list[str]:
    """Tick or untick `option`; returns the ids it unticked besides (exclusivity)."""
    selected = turn.state.selected
    if option.id in selected:
        selected.remove(option.id)
        return []
    if option.exclusive:
        kept: list[str] = []
    else:
        exclusive = {o.id for o in current.options if o.exclusive}
        kept = [s for s in selected if s not in exclusive]
    turn.state.selected = [*kept, option.id]
    return [s for s in selected if s not in kept]


def _is_change(option_id: str, count: int) -> bool:
    index = whole_number(option_id[2:], maximum=count - 1) if option_id.startswith("_c") else None
    return index is not None
