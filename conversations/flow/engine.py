"""The conversation engine: a pure function from (script, state, input) to an outcome.

It sends nothing and stores nothing (goflow's lesson): it returns the replies for
the channel to deliver, the answers for storage to write and the events that
happened, together with the new state, which is plain data that survives a JSON
round trip. Telegram, the web chat and the tests all drive it the same way.

`step` dispatches on the input and the conversation's phase; consent is handled
here, the rest by the parts it calls: `answering` (typed text and presses),
`readback` (answers kept and confirmed), `routing` (the next step) and `questions`
(what the resident is shown).
"""

from __future__ import annotations

from conversations.flow import matching
from conversations.flow.answering import pressed, typed
from conversations.flow.inputs import (
    Begin,
    ChoiceInput,
    EditedText,
    Input,
    SetLanguage,
    TextInput,
    Unsupported,
)
from conversations.flow.outcome import ConsentDeclined, ConsentGiven, Outcome, Reply
from conversations.flow.questions import CONSENT_STEP, prompt
from conversations.flow.readback import edited
from conversations.flow.routing import enter
from conversations.flow.script import Script
from conversations.flow.state import ConversationState
from conversations.flow.turn import Turn


def step(script: Script, state: ConversationState, given: Input, *,
         channel: str | None = None) -> Outcome:  # fmt: skip
    """Advance one resident's conversation by one input (worded for `channel`, if given)."""
    turn = Turn(script, state, channel)
    _handle(turn, given)
    return turn.outcome()


def _handle(turn: Turn, given: Input) -> None:
    phase = turn.state.phase
    if isinstance(given, SetLanguage):
        if given.language in turn.script.languages:
            turn.state.language = given.language
            turn.say("language_set")
        prompt(turn)
    elif isinstance(given, Begin):
        if phase == "steps":
            turn.say("welcome_back")
            prompt(turn)
        elif phase == "done":
            turn.say("finished")
        else:
            turn.state.phase = "consent"
            prompt(turn)
    elif isinstance(given, Unsupported):
        turn.say("unsupported_voice" if given.kind == "voice" else "unsupported")
        prompt(turn)
    elif phase == "done":
        turn.say("finished")
    elif phase == "declined":
        turn.say("declined_again")
    elif isinstance(given, EditedText):
        edited(turn, given)
    elif phase == "consent":
        _consent(turn, given)
    elif isinstance(given, ChoiceInput):
        pressed(turn, given)
    else:
        typed(turn, given)


def _consent(turn: Turn, given: TextInput | ChoiceInput) -> None:
    consent = turn.script.consent
    if isinstance(given, ChoiceInput):
        if given.step_id != CONSENT_STEP or given.option_id not in ("_agree", "_decline"):
            turn.say("stale_button")
            prompt(turn)
            return
        agreed = given.option_id == "_agree"
    else:
        names = [(True, [*turn.everywhere(consent.agree), "yes", "i agree"]),
                 (False, [*turn.everywhere(consent.decline), "no"])]  # fmt: skip
        said = matching.match(given.text, names)
        if said is None:
            turn.say("use_buttons")
            prompt(turn)
            return
        agreed = said
    if agreed:
        turn.state.consent_version = consent.version
        turn.state.phase = "steps"
        turn.events.append(ConsentGiven(consent.version))
        # A resident asked again after the consent text changed carries on where they were.
        resume = (
            turn.state.step if turn.state.step and turn.script.has_step(turn.state.step) else None
        )
        enter(turn, resume or turn.script.steps[0].id)
    else:
        turn.state.phase = "declined"
        turn.events.append(ConsentDeclined(consent.version))
        turn.replies.append(Reply(turn.text_of(consent.declined)))
