"""Conversation scripts in TOML: reading a script file and validating it, table by table.

Every error names the file, the step and the problem (goflow's lesson: say which node
is wrong); checks that span several steps are in :mod:`conversations.flow.script_checks`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from conversations.flow.script import (
    STEP_KINDS,
    Consent,
    Option,
    ReflectItem,
    Script,
    ScriptError,
    Step,
    Text,
)
from conversations.flow.script_checks import check_links, check_population

# Deliberation steps (only in [prioritise]) and the keys each takes: a count and button texts.
DELIBERATION_KEYS = {"pairwise": ("count", "same", "unsure"),
                     "agree": ("count", "agree", "disagree", "pass")}  # fmt: skip
DELIBERATION_COUNTS = {"pairwise": (8, 30), "agree": (3, 10)}  # default, most

# Ids travel inside Telegram callback data (64 bytes at most), so keep them short
# and plain; the engine reserves ids starting with "_" for its own buttons.
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}$")
TOP_KEYS = frozenset(
    {
        "slug",
        "title",
        "area",
        "languages",
        "description",
        "help_lines",
        "consent",
        "steps",
        "population",
        "prioritise",
    }
)
STEP_KEYS = frozenset(
    {"id", "kind", "text", "next", "options", "multi", "optional", "profile", "themes", "items",
     "back_to", "max", "limit_text", "count", "same", "unsure", "agree", "disagree", "pass"}
)  # fmt: skip
# The channels a script may word a text for (each shows its own way to see data,
# delete it and stop invitations): Telegram's commands, the web chat's buttons.
CHANNELS = ("telegram", "web")
MAX_TEXT = 3500  # leaves room under Telegram's 4,096 characters for lists and buttons
MAX_OPTIONS = 20
MAX_LOOP = 10


def load_script(path: str | Path) -> Script:
    """Read and validate a script file; raise ScriptError naming what is wrong."""
    path_str = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ScriptError(path_str, "file", f"cannot be read ({error.strerror})") from error
    return parse_script(raw, path_str)


def parse_script(raw: bytes | str, path: str = "<script>") -> Script:
    """Parse and validate a script's TOML text."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as error:
        raise ScriptError(path, "file", f"is not UTF-8 (byte {error.start})") from error
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScriptError(path, "file", f"is not valid TOML: {error}") from error
    return _Validator(path, document).script()


class _Validator:
    """Builds a Script from a TOML document, failing at the first problem."""

    def __init__(self, path: str, document: dict[str, Any]) -> None:
        self.path = path
        self.document = document
        self.languages: tuple[str, ...] = ()
        self.part = "steps"  # or "prioritise", while its steps are read

    def fail(self, where: str, problem: str) -> ScriptError:
        return ScriptError(self.path, where, problem)

    def script(self) -> Script:
        doc = self.document
        known = TOP_KEYS
        for key in doc:
            if key not in known:
                raise self.fail(key, f"unknown key (expected one of {', '.join(sorted(known))})")
        slug = self.string(doc, "slug", "top level")
        if not SLUG_PATTERN.fullmatch(slug):
            raise self.fail("slug", "must be 2-40 lower-case letters, digits or hyphens")
        if "--" in slug or slug.endswith("-"):
            # A deep link is SLUG--SOURCE: the first "--" ends the slug.
            raise self.fail(
                "slug",
                f"{slug!r} cannot contain '--' or end in '-': links split SLUG--SOURCE there",
            )
        languages = doc.get("languages", ["en"])
        if (
            not isinstance(languages, list)
            or not languages
            or not all(isinstance(x, str) and LANGUAGE_PATTERN.match(x) for x in languages)
        ):
            raise self.fail("languages", 'must be a list of language codes such as ["en", "cy"]')
        if set(languages) & set(CHANNELS):
            raise self.fail("languages", f"{', '.join(CHANNELS)} name channels, not languages")
        if len(set(languages)) != len(languages):
            raise self.fail("languages", "lists a language twice")
        self.languages = tuple(languages)
        title = self.text(doc, "title", "title")
        area = self.string(doc, "area", "top level")
        description = self.text(doc, "description", "description") if "description" in doc else None
        help_lines = self.text(doc, "help_lines", "help_lines") if "help_lines" in doc else None
        consent = self.consent(doc.get("consent"))
        steps = self.steps(doc.get("steps"))
        script = Script(
            slug=slug,
            title=title,
            area=area,
            languages=self.languages,
            consent=consent,
            steps=steps,
            description=description,
            help_lines=help_lines,
            source_path=self.path,
        )
        check_links(script)
        population = check_population(doc.get("population", {}), script)
        prioritise = self.prioritise(doc["prioritise"], script) if "prioritise" in doc else ()
        return replace(script, population=population, prioritise=prioritise)

    # --- pieces -------------------------------------------------------------

    def string(self, table: Mapping[str, Any], key: str, where: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(
                where if where != "top level" else key, f"'{key}' must be a non-empty string"
            )
        return value

    def text(self, table: Mapping[str, Any], key: str, where: str) -> Text:
        value = table.get(key)
        if value is None:
            raise self.fail(where, f"'{key}' is missing")
        if isinstance(value, str):
            value = {self.languages[0]: value}
        if not isinstance(value, dict):
            raise self.fail(where, f"'{key}' must be a string or a table of languages")
        languages = {k: v for k, v in value.items() if k not in CHANNELS}
        channels = {k: v for k, v in value.items() if k in CHANNELS}
        by_channel = {}
        for channel, wording in channels.items():
            name = f"{key}.{channel}"
            if isinstance(wording, str):
                wording = {self.languages[0]: wording}
            if not isinstance(wording, dict):
                raise self.fail(where, f"'{name}' must be a string or a table of languages")
            by_channel[channel] = self.languages_of(wording, name, where)
        return Text(self.languages_of(languages, key, where), by_channel)

    def languages_of(self, value: dict[str, Any], key: str, where: str) -> dict[str, str]:
        """One text's words in every language of the script, checked."""
        for language, words in value.items():
            if language not in self.languages:
                known = ", ".join((*self.languages, *CHANNELS))
                raise self.fail(
                    where, f"'{key}' has key '{language}': not a language or channel ({known})"
                )
            if not isinstance(words, str) or not words.strip():
                raise self.fail(where, f"'{key}.{language}' must be a non-empty string")
            if len(words) > MAX_TEXT:
                raise self.fail(where, f"'{key}.{language}' is longer than {MAX_TEXT} characters")
        missing = [lang for lang in self.languages if lang not in value]
        if missing:
            raise self.fail(where, f"'{key}' has no text in {', '.join(missing)}")
        return dict(value)

    def consent(self, table: Any) -> Consent:
        if not isinstance(table, dict):
            raise self.fail("consent", "a [consent] table is required")
        version = table.get("version")
        if not isinstance(version, str | int) or not str(version).strip():
            raise self.fail("consent", "'version' is required (for example \"2026-11-01\")")
        return Consent(
            version=str(version),
            text=self.text(table, "text", "consent"),
            agree=self.text(table, "agree", "consent"),
            decline=self.text(table, "decline", "consent"),
            declined=self.text(table, "declined", "consent"),
        )

    def steps(self, raw: Any) -> tuple[Step, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail("steps", "at least one [[steps]] entry is required")
        seen: set[str] = set()
        steps = []
        for position, table in enumerate(raw, start=1):
            if not isinstance(table, dict):
                raise self.fail(f"step #{position}", "must be a table")
            step_id = table.get("id")
            if not isinstance(step_id, str) or not ID_PATTERN.match(step_id):
                raise self.fail(
                    f"step #{position}",
                    "'id' must be 1-24 lower-case letters, digits, '_' or '-'",
                )
            if step_id in seen:
                raise self.fail(f"step '{step_id}'", "id is used by an earlier step")
            seen.add(step_id)
            steps.append(self.step(step_id, table))
        return tuple(steps)

    def step(self, step_id: str, table: dict[str, Any]) -> Step:
        where = f"step '{step_id}'"
        allowed = STEP_KEYS
        for key in table:
            if key not in allowed:
                raise self.fail(where, f"unknown key '{key}'")
        kind = table.get("kind")
        if kind not in STEP_KINDS:
            raise self.fail(where, f"'kind' must be one of {', '.join(STEP_KINDS)}")
        if kind in DELIBERATION_KEYS and self.part != "prioritise":
            raise self.fail(where, f"a {kind} step belongs in [[prioritise.steps]] only")
        for key in ("count", "same", "unsure", "agree", "disagree", "pass"):
            if key in table and key not in DELIBERATION_KEYS.get(kind, ()):
                raise self.fail(where, f"'{key}' does not apply to a {kind} step")
        next_id = table.get("next")
        if next_id is not None and not isinstance(next_id, str):
            raise self.fail(where, "'next' must be a step id")
        step = Step(id=step_id, kind=kind, text=self.text(table, "text", where), next=next_id)
        if kind == "choice":
            return self.choice(step, table, where)
        if kind == "text":
            optional = self.flag(table, "optional", where)
            return replace(step, optional=optional, themes=self.flag(table, "themes", where))
        if "themes" in table:
            raise self.fail(where, "'themes' applies only to text steps")
        if kind == "reflect":
            return self.reflect(step, table, where)
        if kind == "loop":
            return self.loop(step, table, where)
        if kind in DELIBERATION_KEYS:
            return self.deliberation(step, table, where)
        for key in ("options", "multi", "optional", "profile", "items", "back_to", "max"):
            if key in table:
                raise self.fail(where, f"'{key}' does not apply to a {kind} step")
        return step

    def flag(self, table: dict[str, Any], key: str, where: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(where, f"'{key}' must be true or false")
        return value

    def choice(self, step: Step, table: dict[str, Any], where: str) -> Step:
        raw = table.get("options")
        if not isinstance(raw, list) or len(raw) < 2:
            raise self.fail(where, "a choice step needs 'options' with at least two entries")
        if len(raw) > MAX_OPTIONS:
            raise self.fail(where, f"has more than {MAX_OPTIONS} options")
        options: list[Option] = []
        for number, entry in enumerate(raw, start=1):
            if not isinstance(entry, dict):
                raise self.fail(where, f"option #{number} must be a table")
            option_id = entry.get("id")
            if not isinstance(option_id, str) or not ID_PATTERN.match(option_id):
                raise self.fail(where, f"option #{number}: 'id' must be a short lower-case id")
            if any(o.id == option_id for o in options):
                raise self.fail(where, f"option '{option_id}' appears twice")
            for key in entry:
                if key not in {"id", "label", "next", "exclusive"}:
                    raise self.fail(where, f"option '{option_id}': unknown key '{key}'")
            next_id = entry.get("next")
            if next_id is not None and not isinstance(next_id, str):
                raise self.fail(where, f"option '{option_id}': 'next' must be a step id")
            options.append(
                Option(
                    id=option_id,
                    label=self.text(entry, "label", f"{where} option '{option_id}'"),
                    next=next_id,
                    exclusive=self.flag(entry, "exclusive", f"{where} option '{option_id}'"),
                )
            )
        multi = self.flag(table, "multi", where)
        if multi and any(o.next for o in options):
            raise self.fail(where, "a multi-select step cannot branch per option; use 'next'")
        profile = table.get("profile")
        if profile is not None and (not isinstance(profile, str) or not ID_PATTERN.match(profile)):
            raise self.fail(where, "'profile' must be a short dimension name such as 'area'")
        optional = self.flag(table, "optional", where)
        return replace(
            step, options=tuple(options), multi=multi, profile=profile, optional=optional
        )

    def reflect(self, step: Step, table: dict[str, Any], where: str) -> Step:
        raw = table.get("items")
        if not isinstance(raw, list) or not raw:
            raise self.fail(where, "a reflect step needs 'items': the steps it reads back")
        items = []
        for number, entry in enumerate(raw, start=1):
            if not isinstance(entry, dict) or not isinstance(entry.get("step"), str):
                raise self.fail(where, f"item #{number} needs 'step' and 'label'")
            items.append(
                ReflectItem(
                    step=entry["step"], label=self.text(entry, "label", f"{where} item #{number}")
                )
            )
        return replace(step, items=tuple(items))

    def loop(self, step: Step, table: dict[str, Any], where: str) -> Step:
        back_to = table.get("back_to")
        if not isinstance(back_to, str):
            raise self.fail(where, "a loop step needs 'back_to': the step where the loop starts")
        maximum = table.get("max", 3)
        if (
            not isinstance(maximum, int)
            or isinstance(maximum, bool)
            or not 1 <= maximum <= MAX_LOOP
        ):
            raise self.fail(where, f"'max' must be a whole number from 1 to {MAX_LOOP}")
        limit_text = self.text(table, "limit_text", where) if "limit_text" in table else None
        return replace(step, back_to=back_to, max=maximum, limit_text=limit_text)

    def deliberation(self, step: Step, table: dict[str, Any], where: str) -> Step:
        default, most = DELIBERATION_COUNTS[step.kind]
        count = table.get("count", default)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= most:
            raise self.fail(where, f"'count' must be a whole number from 1 to {most}")
        names = DELIBERATION_KEYS[step.kind][1:]
        labels = {name: self.text(table, name, where) for name in names}
        return replace(step, count=count, labels=labels)

    def prioritise(self, table: Any, script: Script) -> tuple[Step, ...]:
        """The [prioritise] part: the steps of a round where residents weigh the themes."""
        if not isinstance(table, dict) or set(table) != {"steps"}:
            raise self.fail("prioritise", "must be a table holding [[prioritise.steps]] only")
        self.part = "prioritise"
        steps = self.steps(table["steps"])
        self.part = "steps"
        for step in steps:
            if script.has_step(step.id):
                raise self.fail(f"step '{step.id}'", "id is used by a step of the needs round")
        for kind in DELIBERATION_KEYS:
            if len([s for s in steps if s.kind == kind]) > 1:
                raise self.fail("prioritise", f"has more than one {kind} step")
        part = replace(script, steps=steps)
        check_links(part)
        for step in steps:
            if step.kind in DELIBERATION_KEYS and part.loop_enclosing(step.id):
                raise self.fail(f"step '{step.id}'", f"a {step.kind} step cannot be inside a loop")
        return steps
