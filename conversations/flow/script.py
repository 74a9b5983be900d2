"""Conversation scripts: the data model a consultation's conversation is written in.

A script is data (as in RapidPro's flows): a consultation's consent text and an
ordered list of steps. It is read from TOML and validated once, when it is loaded
(:mod:`conversations.flow.script_toml`), so that the engine can trust it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

StepKind = Literal["message", "choice", "text", "reflect", "loop", "end", "pairwise", "agree"]
STEP_KINDS: tuple[str, ...] = get_args(StepKind)


class ScriptError(ValueError):
    """A conversation script is invalid; the message names file, step and problem."""

    def __init__(self, path: str, where: str, problem: str) -> None:
        self.path = path
        self.where = where
        self.problem = problem
        super().__init__(f"{path}: {where}: {problem}")


@dataclass(frozen=True)
class Text:
    """A text in one or more languages, and optionally a channel's own wording of it."""

    by_language: Mapping[str, str]
    # channel -> language -> text, used on that channel instead (e.g. web: no /commands)
    by_channel: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def get(self, language: str, fallback: str, channel: str | None = None) -> str:
        own = self.by_channel.get(channel or "")
        if own is not None:
            return own.get(language) or own[fallback]
        return self.by_language.get(language) or self.by_language[fallback]


@dataclass(frozen=True)
class Option:
    id: str
    label: Text
    next: str | None = None
    # Picking an exclusive option ("prefer not to say") clears the others.
    exclusive: bool = False


@dataclass(frozen=True)
class ReflectItem:
    step: str
    label: Text


@dataclass(frozen=True)
class Step:
    id: str
    kind: StepKind
    text: Text
    next: str | None = None
    options: tuple[Option, ...] = ()
    multi: bool = False
    optional: bool = False
    profile: str | None = None
    items: tuple[ReflectItem, ...] = ()
    back_to: str | None = None
    max: int = 1
    limit_text: Text | None = None
    # Free-text answers that are needs, grouped into themes by the weekly analysis.
    themes: bool = False
    # Deliberation steps: how many questions, and their buttons' texts by name.
    count: int = 0
    labels: Mapping[str, Text] = field(default_factory=dict)

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Consent:
    version: str
    text: Text
    agree: Text
    decline: Text
    declined: Text


@dataclass(frozen=True)
class Script:
    slug: str
    title: Text
    area: str
    languages: tuple[str, ...]
    consent: Consent
    steps: tuple[Step, ...]
    # dimension (a profile step's `profile`) -> option id -> population share
    population: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    description: Text | None = None
    # Local places to get help, shown with the national ones after a disclosure.
    help_lines: Text | None = None
    source_path: str = "<script>"
    # The steps of a prioritise round (residents weigh the themes), if the script has them.
    prioritise: tuple[Step, ...] = ()

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def step(self, step_id: str) -> Step:
        return self._index()[step_id][1]

    def for_round(self, kind: str) -> Script:
        """The script a round of `kind` runs: the [prioritise] part's steps, or these."""
        if kind != "prioritise" or not self.prioritise:
            return self
        derived: Script | None = self.__dict__.get("_prioritise_script")
        if derived is None:
            derived = replace(self, steps=self.prioritise, prioritise=())
            object.__setattr__(self, "_prioritise_script", derived)
        return derived

    def has_step(self, step_id: str) -> bool:
        return step_id in self._index()

    def following(self, step_id: str) -> str | None:
        """The step after `step_id` in document order, ignoring `next`."""
        position = self._index()[step_id][0]
        return self.steps[position + 1].id if position + 1 < len(self.steps) else None

    def loop_enclosing(self, step_id: str) -> Step | None:
        """The loop step whose body (from its `back_to` up to itself) holds `step_id`."""
        position = self._index()[step_id][0]
        for loop in self.steps:
            if loop.kind == "loop" and loop.back_to is not None:
                start, end = self._index()[loop.back_to][0], self._index()[loop.id][0]
                if start <= position < end:
                    return loop
        return None

    def theme_steps(self) -> list[str]:
        """The free-text questions whose answers are analysed into themes.

        Those marked `themes = true`; if none is marked, every required text step."""
        marked = [s.id for s in self.steps if s.kind == "text" and s.themes]
        needs = marked or [s.id for s in self.steps if s.kind == "text" and not s.optional]
        # "Did we miss something?" in a prioritise round adds needs for the next analysis.
        return needs + [s.id for s in self.prioritise if s.kind == "text" and s.themes]

    def own_labels(self) -> list[str]:
        """The script's own words: its area and every option's label, in every language
        (a resident naming them is answering, not disclosing: screening.safeguarding)."""
        labels = [self.area]
        for step in (*self.steps, *self.prioritise):
            for option in step.options:
                labels += option.label.by_language.values()
        return labels

    def profile_dimensions(self) -> dict[str, Step]:
        return {s.profile: s for s in self.steps if s.profile}

    def _index(self) -> dict[str, tuple[int, Step]]:
        cached: dict[str, tuple[int, Step]] | None = self.__dict__.get("_cached_index")
        if cached is None:
            cached = {s.id: (i, s) for i, s in enumerate(self.steps)}
            object.__setattr__(self, "_cached_index", cached)
        return cached
