"""The conversation engine: a pure function from (script, state, input) to an outcome.

It sends nothing and stores nothing (goflow's lesson): it returns the replies for
the channel to deliver, the answers for storage to write and the events that
happened, together with the new state, which is plain data that survives a JSON
round trip. Telegram, the web chat and the tests all drive it the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from conversations.flow import deliberation, matching
from conversations.flow.deliberation import PairVoted, StatementVoted
from conversations.flow.numbers import whole_number
from conversations.flow.phrases import phrase
from conversations.flow.script import Option, Script, Step

Phase = Literal["consent", "steps", "done", "declined"]
CONSENT_STEP = "_consent"
MAX_REFLECTED_VALUE = 600  # per item, so that a read-back stays under Telegram's limit


# --- inputs -------------------------------------------------------------------


@dataclass(frozen=True)
class Begin:
    """The resident (re)opened the conversation, e.g. with /start."""


@dataclass(frozen=True)
class TextInput:
    text: str
    ref: str | None = None  # the channel's message id, so that an edit can find the answer


@dataclass(frozen=True)
class EditedText:
    text: str
    ref: str


@dataclass(frozen=True)
class ChoiceInput:
    step_id: str
    iteration: int
    option_id: str


@dataclass(frozen=True)
class Unsupported:
    """A sticker, photo, voice note, location or anything else we cannot read."""

    kind: str


@dataclass(frozen=True)
class SetLanguage:
    language: str


Input = Begin | TextInput | EditedText | ChoiceInput | Unsupported | SetLanguage


# --- outputs ------------------------------------------------------------------


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


@dataclass
class ConversationState:
    """Where one resident is in one round's conversation. Plain, JSON-safe data."""

    language: str
    phase: Phase = "consent"
    step: str | None = None
    loops: dict[str, int] = field(default_factory=dict)
    # "step@iteration" -> (value, display) of answers a reflect step may read back
    values: dict[str, list[str]] = field(default_factory=dict)
    # channel message ref -> "step@iteration", for answers that can still be edited
    refs: dict[str, str] = field(default_factory=dict)
    selected: list[str] = field(default_factory=list)
    returning_to: str | None = None
    consent_version: str | None = None
    # A prioritise round's themes and this resident's planned questions (deliberation.py).
    deck: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        deck = {"deck": json_copy(self.deck)} if self.deck else {}
        return deck | {
            "language": self.language,
            "phase": self.phase,
            "step": self.step,
            "loops": dict(self.loops),
            "values": {k: list(v) for k, v in self.values.items()},
            "refs": dict(self.refs),
            "selected": list(self.selected),
            "returning_to": self.returning_to,
            "consent_version": self.consent_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConversationState:
        return cls(
            language=str(data["language"]),
            phase=data.get("phase", "consent"),
            step=data.get("step"),
            loops={str(k): int(v) for k, v in data.get("loops", {}).items()},
            values={str(k): [str(x) for x in v] for k, v in data.get("values", {}).items()},
            refs={str(k): str(v) for k, v in data.get("refs", {}).items()},
            selected=[str(x) for x in data.get("selected", [])],
            returning_to=data.get("returning_to"),
            consent_version=data.get("consent_version"),
            deck=json_copy(data.get("deck") or {}),
        )


@dataclass(frozen=True)
class Outcome:
    state: ConversationState
    replies: tuple[Reply, ...] = ()
    answers: tuple[AnswerRecord, ...] = ()
    events: tuple[Event, ...] = ()


def new_state(script: Script, language: str | None = None) -> ConversationState:
    """A fresh conversation in the resident's language if the script has it."""
    chosen = language if language in script.languages else script.default_language
    return ConversationState(language=chosen)


def step(script: Script, state: ConversationState, given: Input, *,
         channel: str | None = None) -> Outcome:  # fmt: skip
    """Advance one resident's conversation by one input (worded for `channel`, if given)."""
    return _Turn(script, state, channel).handle(given)


# --- the turn -------------------------------------------------------------------


class _Turn:
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

    def text_of(self, text: Any) -> str:
        return str(text.get(self.state.language, self.script.default_language, self.channel))

    # dispatch -------------------------------------------------------------------

    def handle(self, given: Input) -> Outcome:
        phase = self.state.phase
        if isinstance(given, SetLanguage):
            if given.language in self.script.languages:
                self.state.language = given.language
                self.say("language_set")
            self.prompt()
        elif isinstance(given, Begin):
            if phase == "steps":
                self.say("welcome_back")
                self.prompt()
            elif phase == "done":
                self.say("finished")
            else:
                self.state.phase = "consent"
                self.prompt()
        elif isinstance(given, Unsupported):
            self.say("unsupported_voice" if given.kind == "voice" else "unsupported")
            self.prompt()
        elif phase == "done":
            self.say("finished")
        elif phase == "declined":
            self.say("declined_again")
        elif isinstance(given, EditedText):
            self.edited(given)
        elif phase == "consent":
            self.consent(given)
        elif isinstance(given, ChoiceInput):
            self.choice(given)
        else:
            self.text(given)
        return self.outcome()

    # consent --------------------------------------------------------------------

    def consent(self, given: TextInput | ChoiceInput) -> None:
        consent = self.script.consent
        if isinstance(given, ChoiceInput):
            if given.step_id != CONSENT_STEP or given.option_id not in ("_agree", "_decline"):
                self.say("stale_button")
                self.prompt()
                return
            agreed = given.option_id == "_agree"
        else:
            names = [(True, [*self.everywhere(consent.agree), "yes", "i agree"]),
                     (False, [*self.everywhere(consent.decline), "no"])]  # fmt: skip
            said = matching.match(given.text, names)
            if said is None:
                self.say("use_buttons")
                self.prompt()
                return
            agreed = said
        if agreed:
            self.state.consent_version = consent.version
            self.state.phase = "steps"
            self.events.append(ConsentGiven(consent.version))
            # A resident asked again after the consent text changed carries on where they were.
            resume = (
                self.state.step
                if self.state.step and self.script.has_step(self.state.step)
                else None
            )
            self.enter(resume or self.script.steps[0].id)
        else:
            self.state.phase = "declined"
            self.events.append(ConsentDeclined(consent.version))
            self.replies.append(Reply(self.text_of(consent.declined)))

    # moving between steps ------------------------------------------------------

    def iteration(self, step_id: str) -> int:
        """Which pass through its loop a step is on (1 outside loops).

        A loop's own question counts too, so that its old "Yes" button is stale."""
        if self.script.step(step_id).kind == "loop":
            return self.state.loops.get(step_id, 1)
        if self.script.step(step_id).kind in deliberation.KINDS:
            return deliberation.position(self.script.step(step_id), self.state.deck)
        loop = self.script.loop_enclosing(step_id)
        return self.state.loops.get(loop.id, 1) if loop else 1

    def enter(self, step_id: str | None) -> None:
        """Run from `step_id` until a step waits for the resident, or the end."""
        while step_id is not None:
            current = self.script.step(step_id)
            self.state.step = current.id
            self.state.selected = []
            if current.kind == "message":
                self.replies.append(Reply(self.text_of(current.text)))
                step_id = self.after(current)
                continue
            if current.kind == "end":
                self.replies.append(Reply(self.text_of(current.text)))
                break
            if current.kind == "loop" and self.state.loops.get(current.id, 1) >= current.max:
                if current.limit_text is not None:
                    self.replies.append(Reply(self.text_of(current.limit_text)))
                step_id = self.after(current)
                continue
            if current.kind in deliberation.KINDS and not deliberation.pending(
                current, self.state.deck
            ):
                step_id = self.after(current)  # no themes, or all asked
                continue
            self.prompt()
            return
        self.state.step = None
        self.state.phase = "done"
        self.state.refs = {}
        self.events.append(Completed())

    def after(self, current: Step, option: Option | None = None) -> str | None:
        if option is not None and option.next:
            return option.next
        return current.next or self.script.following(current.id)

    def advance(self, current: Step, option: Option | None = None) -> None:
        """Leave a step that has been answered: back to a read-back, or onwards."""
        if self.state.returning_to is not None:
            target, self.state.returning_to = self.state.returning_to, None
            self.enter(target)
        else:
            self.enter(self.after(current, option))

    # prompts -------------------------------------------------------------------

    def prompt(self) -> None:
        """Show the question the resident is on (with its buttons)."""
        if self.state.phase == "consent":
            consent = self.script.consent
            row = (
                Button(self.text_of(consent.agree), CONSENT_STEP, 1, "_agree"),
                Button(self.text_of(consent.decline), CONSENT_STEP, 1, "_decline"),
            )
            self.replies.append(Reply(self.text_of(consent.text), (row,)))
        elif self.state.phase == "steps" and self.state.step is not None:
            self.replies.append(self.question(self.script.step(self.state.step)))
        elif self.state.phase == "done":
            self.say("finished")
        elif self.state.phase == "declined":
            self.say("declined_again")

    def question(self, current: Step, updates_prompt: bool = False) -> Reply:
        n = self.iteration(current.id)

        def button(label: str, option_id: str) -> Button:
            return Button(label, current.id, n, option_id)

        text = self.text_of(current.text)
        rows: list[tuple[Button, ...]] = []
        if current.kind == "choice":
            for option in current.options:
                label = self.text_of(option.label)
                if current.multi:
                    label = ("✅ " if option.id in self.state.selected else "▫️ ") + label
                rows.append((button(label, option.id),))
            extra = []
            if current.optional:
                extra.append(button(self.phrase("skip"), "_skip"))
            if current.multi:
                extra.append(button(self.phrase("done"), "_done"))
            if extra:
                rows.append(tuple(extra))
        elif current.kind == "text" and current.optional:
            rows.append((button(self.phrase("skip"), "_skip"),))
        elif current.kind == "loop":
            rows.append((button(self.phrase("yes"), "_yes"), button(self.phrase("no"), "_no")))
        elif current.kind in deliberation.KINDS:
            text, choices = deliberation.question(current, self.state.deck, self.text_of)
            rows += [tuple(button(label, option) for label, option in row) for row in choices]
        elif current.kind == "reflect":
            lines = [text, ""]
            for item in current.items:
                stored = self.state.values.get(f"{item.step}@{self.iteration(item.step)}")
                shown = stored[1] if stored and stored[1] else self.phrase("skipped")
                if len(shown) > MAX_REFLECTED_VALUE:
                    shown = shown[: MAX_REFLECTED_VALUE - 1] + "…"
                lines.append(f"• {self.text_of(item.label)}: {shown}")
            text = "\n".join(lines)
            rows.append((button(self.phrase("confirm"), "_yes"),))
            for number, item in enumerate(current.items):
                label = self.phrase("change", label=self.text_of(item.label))
                rows.append((button(label, f"_c{number}"),))
        return Reply(text, tuple(rows), updates_prompt=updates_prompt)

    # answers -------------------------------------------------------------------

    def record(self, current: Step, value: str, display: str, *, skipped: bool = False,
               ref: str | None = None) -> None:  # fmt: skip
        n = self.iteration(current.id)
        key = f"{current.id}@{n}"
        draft = self.reflected(current.id)
        self.state.values[key] = [value, display]
        self.state.refs = {r: k for r, k in self.state.refs.items() if k != key}
        if ref is not None and draft:
            self.state.refs[ref] = key
        self.answers.append(
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

    def reflected(self, step_id: str) -> bool:
        return any(
            item.step == step_id
            for s in self.script.steps
            if s.kind == "reflect"
            for item in s.items
        )

    def text(self, given: TextInput) -> None:
        assert self.state.step is not None
        current = self.script.step(self.state.step)
        if current.kind == "text":
            if not given.text.strip():
                self.say("empty_text")
                self.prompt()
                return
            skips = [phrase("skip", language) for language in self.script.languages]
            if current.optional and matching.words(given.text) in map(matching.words, skips):
                self.choice(ChoiceInput(current.id, self.iteration(current.id), "_skip"))
                return
            self.record(current, given.text, given.text, ref=given.ref)
            self.advance(current)
            return
        # Typed text at a button question: accept it when it names a button in any of
        # the script's languages, which helps people typing on the web chat or using
        # screen readers. At a multiple choice, the typed options are the whole answer.
        choices = self.button_names(current)
        pressed = matching.match(given.text, choices)
        if pressed is None and current.kind == "choice" and current.multi:
            several = [matching.match(part, choices) for part in matching.parts(given.text)]
            if several and None not in several:
                self.typed_choices(current, [p for p in several if p is not None])
                return
        if pressed is None:
            self.say("use_buttons")
            self.prompt()
        elif current.kind == "choice" and current.multi and not pressed.startswith("_"):
            self.typed_choices(current, [pressed])
        else:
            self.choice(ChoiceInput(current.id, self.iteration(current.id), pressed))

    def everywhere(self, text: Any) -> list[str]:
        """A script text in each of the script's languages."""
        return [text.get(language, self.script.default_language)
                for language in self.script.languages]  # fmt: skip

    def button_names(self, current: Step) -> list[tuple[str, list[str]]]:
        """Each button of the question (by option id) with its label in every language."""
        names: dict[str, list[str]] = {}
        spoken = self.state.language
        try:
            for language in (spoken, *self.script.languages):
                self.state.language = language
                for row in self.question(current).buttons:
                    for button in row:
                        label = button.label.removeprefix("✅ ").removeprefix("▫️ ")
                        names.setdefault(button.option_id, []).append(label)
        finally:
            self.state.language = spoken
        if current.kind == "choice":
            for option in current.options:
                names[option.id].append(option.id.replace("-", " "))
        return list(names.items())

    def typed_choices(self, current: Step, chosen_ids: list[str]) -> None:
        """Options typed at a multiple choice: recorded as if ticked, then Done."""
        chosen = [o for o in current.options if o.id in chosen_ids]
        if len(chosen) > 1 and any(o.exclusive for o in chosen):
            alone = next(o for o in chosen if o.exclusive)
            self.say("exclusive_typed", label=self.text_of(alone.label))
            self.prompt()
            return
        self.state.selected = [o.id for o in chosen]
        self.choose(current, "_done")

    def choice(self, given: ChoiceInput) -> None:
        current = self.script.step(self.state.step) if self.state.step else None
        if (
            current is None
            or given.step_id != current.id
            or given.iteration != self.iteration(current.id)
        ):
            self.say("stale_button")
            self.prompt()
            return
        if current.kind == "choice":
            self.choose(current, given.option_id)
        elif current.kind == "text" and current.optional and given.option_id == "_skip":
            self.record(current, "", "", skipped=True)
            self.advance(current)
        elif current.kind == "loop" and given.option_id in ("_yes", "_no"):
            if given.option_id == "_yes":
                self.state.loops[current.id] = self.state.loops.get(current.id, 1) + 1
                self.enter(current.back_to)
            else:
                self.enter(self.after(current))
        elif current.kind in deliberation.KINDS:
            self.deliberate(current, given.option_id)
        elif current.kind == "reflect" and given.option_id == "_yes":
            self.confirm(current)
        elif current.kind == "reflect" and _is_change(given.option_id, len(current.items)):
            item = current.items[int(given.option_id[2:])]
            self.state.returning_to = current.id
            self.say("changing")
            self.state.step = item.step
            self.state.selected = []
            self.prompt()
        else:
            self.say("stale_button")
            self.prompt()

    def choose(self, current: Step, option_id: str) -> None:
        if option_id == "_skip" and current.optional:
            self.record(current, "", "", skipped=True)
            self.advance(current)
            return
        if current.multi and option_id == "_done":
            if not self.state.selected:
                self.say("choose_one")
                self.prompt()
                return
            chosen = [o for o in current.options if o.id in self.state.selected]
            self.record(
                current,
                ",".join(o.id for o in chosen),
                ", ".join(self.text_of(o.label) for o in chosen),
            )
            self.advance(current)
            return
        option = current.option(option_id)
        if option is None:
            self.say("stale_button")
            self.prompt()
            return
        if current.multi:
            unticked = self.toggle(current, option)
            if unticked:
                # Never untick silently: say which answer cannot go with the others.
                if option.exclusive:
                    self.say("exclusive_alone", label=self.text_of(option.label))
                else:
                    dropped = current.option(unticked[0])
                    label = self.text_of(dropped.label) if dropped else ""
                    self.say("exclusive_unticked", label=label)
            self.replies.append(self.question(current, updates_prompt=True))
            return
        self.record(current, option.id, self.text_of(option.label))
        self.advance(current, option)

    def deliberate(self, current: Step, option_id: str) -> None:
        vote = deliberation.answer(current, self.state.deck, option_id)
        if vote is None:
            self.say("stale_button")
            self.prompt()
            return
        self.events.append(vote)
        if deliberation.pending(current, self.state.deck):
            self.prompt()
        else:
            self.advance(current)

    def toggle(self, current: Step, option: Option) -> list[str]:
        """Tick or untick `option`; returns the ids it unticked besides (exclusivity)."""
        selected = self.state.selected
        if option.id in selected:
            selected.remove(option.id)
            return []
        if option.exclusive:
            kept: list[str] = []
        else:
            exclusive = {o.id for o in current.options if o.exclusive}
            kept = [s for s in selected if s not in exclusive]
        self.state.selected = [*kept, option.id]
        return [s for s in selected if s not in kept]

    def confirm(self, current: Step) -> None:
        for item in current.items:
            n = self.iteration(item.step)
            stored = self.state.values.get(f"{item.step}@{n}")
            if stored is None:
                continue
            source = self.script.step(item.step)
            self.answers.append(
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
        self.state.refs = {}
        self.enter(self.after(current))

    def edited(self, given: EditedText) -> None:
        key = self.state.refs.get(given.ref)
        if key is None or not given.text.strip():
            self.say("edited_ignored")
            return
        step_id, _, number = key.partition("@")
        current = self.script.step(step_id)
        self.state.values[key] = [given.text, given.text]
        self.answers.append(
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
        self.say("edited")
        if self.state.step is not None and self.script.step(self.state.step).kind == "reflect":
            self.prompt()


def json_copy(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of JSON-safe data, so that no two states share a nested dict."""
    copied: dict[str, Any] = json.loads(json.dumps(data))
    return copied


def _is_change(option_id: str, count: int) -> bool:
    index = whole_number(option_id[2:], maximum=count - 1) if option_id.startswith("_c") else None
    return index is not None
