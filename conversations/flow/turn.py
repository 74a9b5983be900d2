"""The workings of one call to the engine's `step`: what it reads, and what it has said so far.

A `Turn` holds the script, a copy of the resident's state (the caller's is left as
it was) and the replies, answers and events gathered while the input is handled;
the parts of the engine (questions, routing, answering, read-back) each take it.
It never outlives the call.
"""

from __future__ import annotations

from conversations.flow import deliberation
from conversations.flow.outcome import AnswerRecord, Event, Outcome, Reply
from conversations.flow.phrases import phrase
from conversations.flow.script import Script, Text
from conversations.flow.state import ConversationState


class Turn:
    """The mutable workings of one call to `step`; never outlives it."""

    def __init__(self, script: Script, state: ConversationState, channel: str | None) -> None:
        self.script = script
        self.channel = channel
        # Work on a copy: the caller's state is left as it was.
        self.state = ConversationState.from_dict(state.to_dict())
        self.replies: list[Reply] = []
        self.answers: list[AnswerRecord] = []
        self.events: list[Event] = []

    def outcome(self) -> Outcome:
        return Outcome(self.state, tuple(self.replies), tuple(self.answers), tuple(self.events))

    def say(self, key: str, **values: str) -> None:
        self.replies.append(Reply(self.phrase(key, **values)))

    def phrase(self, key: str, **values: str) -> str:
        text = phrase(key, self.state.language, self.channel)
        return text.format(**values) if values else text

    def text_of(self, text: Text) -> str:
        return str(text.get(self.state.language, self.script.default_language, self.channel))

    def everywhere(self, text: Text) -> list[str]:
        """A script text in each of the script's languages."""
        return [text.get(language, self.script.default_language)
                for language in self.script.languages]  # fmt: skip

    def iteration(self, step_id: str) -> int:
        """Which pass through its loop a step is on (1 outside loops).

        A loop's own question counts too, so that its old "Yes" button is stale."""
        if self.script.step(step_id).kind == "loop":
            return self.state.loops.get(step_id, 1)
        if self.script.step(step_id).kind in deliberation.KINDS:
            return deliberation.position(self.script.step(step_id), self.state.deck)
        loop = self.script.loop_enclosing(step_id)
        return self.state.loops.get(loop.id, 1) if loop else 1
