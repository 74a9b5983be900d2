"""Answers gathered elsewhere: a file's columns mapped to the script's questions, and
every row checked before anything is written.

A column maps to a question by its heading: the question's id ("need") or its words
as the script asks them, in any of its languages, ignoring case and punctuation; or
as the person importing says (`COLUMN=QUESTION`, or `COLUMN=` to leave it out). A
choice's cell names one of its options as a resident may type it (the option's id or
label, conversations.flow.matching), several for a multiple choice; a text cell is
cleaned and limited as the chat's messages are, then screened as the chat screens
them: a disclosure of harm is withheld and raises a flag for the leads, abuse is
withheld. A file with any bad row is a Plan with errors, and none of it is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from conversations.flow import matching
from conversations.flow.script import Option, Script, Step
from conversations.screening import moderation, safeguarding
from conversations.staff.import_files import Table

MAX_TEXT = 4096  # as the chat takes a message (bot/web/chat.py; Telegram's limit)
IMPORTABLE = ("text", "choice")
LEAVE_OUT = ("", "-")  # COLUMN= or COLUMN=- : a column not to import


class MappingProblem(ValueError):
    """The columns cannot be mapped as they are (the message names the column)."""


@dataclass(frozen=True)
class Column:
    heading: str
    step_id: str | None  # None: left out


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    problem: str

    def __str__(self) -> str:
        return f"row {self.row}, column '{self.column}': {self.problem}"


@dataclass(frozen=True)
class PlannedAnswer:
    step_id: str
    kind: str  # text | choice
    value: str
    display: str
    profile: str | None
    withheld: str | None  # safeguarding | abuse: never quoted


@dataclass(frozen=True)
class PlannedFlag:
    categories: str
    excerpt: str


@dataclass(frozen=True)
class PlannedRow:
    number: int
    answers: tuple[PlannedAnswer, ...]
    flags: tuple[PlannedFlag, ...] = ()


@dataclass
class Plan:
    """What a file would import, and what is wrong with it."""

    columns: list[Column]
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    blank: int = 0  # rows with nothing in any imported column, passed over
    bad_rows: list[int] = field(default_factory=list)

    @property
    def answers(self) -> int:
        return sum(len(row.answers) for row in self.rows)

    @property
    def flags(self) -> int:
        return sum(len(row.flags) for row in self.rows)

    def counts(self) -> dict[str, Counter[str]]:
        """Per question: a choice's options by id; a text's answers given and withheld."""
        counts: dict[str, Counter[str]] = {c.step_id: Counter() for c in self.columns if c.step_id}
        for row in self.rows:
            for answer in row.answers:
                if answer.kind == "choice":
                    counts[answer.step_id].update(answer.value.split(","))
                else:
                    counts[answer.step_id]["answers"] += 1
                    if answer.withheld:
                        counts[answer.step_id][f"withheld ({answer.withheld})"] += 1
        return counts


def importable_steps(script: Script) -> list[Step]:
    """The questions a column can answer: text and choice steps (profile ones included)."""
    return [step for step in script.steps if step.kind in IMPORTABLE]


def required_steps(script: Script) -> list[str]:
    """Questions every imported row must answer: the required questions whose answers are themed."""
    themed = set(script.theme_steps())
    return [s.id for s in importable_steps(script) if s.id in themed and not s.optional]


def _key(text: str) -> tuple[str, ...]:
    return matching.words(text)


def _by_words(script: Script) -> dict[tuple[str, ...], str]:
    """A question's id and its words in every language, as words -> its id."""
    by_words: dict[tuple[str, ...], str] = {}
    for step in importable_steps(script):
        by_words.setdefault(_key(step.id), step.id)
        for text in step.text.by_language.values():
            by_words.setdefault(_key(text), step.id)
    return by_words


def guesses(script: Script, headings: Sequence[str]) -> dict[str, str | None]:
    """The question each heading names by its words, if any (what `map_columns` assumes)."""
    by_words = _by_words(script)
    return {heading: by_words.get(_key(heading)) for heading in headings}


def map_columns(script: Script, headings: Sequence[str], chosen: Mapping[str, str]) -> list[Column]:
    """Each heading's question: as `chosen` says (heading -> step id, "" to leave out),
    else by the heading's words; a MappingProblem naming every column that fits none."""
    by_words = _by_words(script)
    ids = {step.id for step in importable_steps(script)}
    wanted = {_key(heading): (heading, step) for heading, step in chosen.items()}
    problems = []
    for key, (heading, step_id) in wanted.items():
        if not any(_key(h) == key for h in headings):
            problems.append(f"there is no column '{heading}' in the file (its columns: "
                            f"{', '.join(headings)})")  # fmt: skip
        elif step_id.strip() not in LEAVE_OUT and step_id.strip() not in ids:
            problems.append(f"'{heading}={step_id}': the script has no question '{step_id}' "
                            f"(its questions: {', '.join(sorted(ids))})")  # fmt: skip
    columns = []
    for heading in headings:
        if _key(heading) in wanted:
            step_id = wanted[_key(heading)][1].strip()
            columns.append(Column(heading, None if step_id in LEAVE_OUT else step_id))
        elif (found := by_words.get(_key(heading))) is not None:
            columns.append(Column(heading, found))
        else:
            problems.append(f"column '{heading}' matches no question: map it "
                            f"('{heading}=QUESTION') or leave it out ('{heading}=')")  # fmt: skip
    answered: dict[str, str] = {}
    for column in columns:
        if column.step_id is None:
            continue
        if column.step_id in answered:
            problems.append(f"columns '{answered[column.step_id]}' and '{column.heading}' both "
                            f"answer '{column.step_id}': leave one out")  # fmt: skip
        answered[column.step_id] = column.heading
    for step_id in required_steps(script):
        if step_id not in answered:
            problems.append(f"no column answers '{step_id}', which every row must answer "
                            f"(map one: 'COLUMN={step_id}')")  # fmt: skip
    if problems:
        raise MappingProblem("; ".join(problems))
    return columns


def plan(script: Script, table: Table, columns: list[Column]) -> Plan:
    """Every row checked, cleaned and screened: what would be stored, and every error."""
    result = Plan(columns)
    steps = {step.id: step for step in importable_steps(script)}
    required = set(required_steps(script))
    language = script.default_language
    own = safeguarding.own_words(script.own_labels())
    choices = {step_id: _choices(step) for step_id, step in steps.items() if step.options}
    mapped = [(i, c.heading, steps[c.step_id]) for i, c in enumerate(columns) if c.step_id]
    for number, cells in table.rows:
        if not any(cells[i] for i, _, _ in mapped):
            result.blank += 1
            continue
        answers: list[PlannedAnswer | None] = []  # None: a text, screened below
        flags: list[PlannedFlag] = []
        errors: list[RowError] = []
        texts: list[tuple[int, Step, str]] = []
        for i, heading, step in mapped:
            cell = cells[i]
            if not cell:
                if step.id in required:
                    errors.append(RowError(number, heading, f"empty, and every row must answer "
                                                            f"'{step.id}'"))  # fmt: skip
                continue
            if step.kind == "text":
                if len(cell) > MAX_TEXT:
                    errors.append(RowError(number, heading, f"{len(cell):,} characters: the chat "
                                                            f"takes at most {MAX_TEXT:,}"))  # fmt: skip
                    continue
                texts.append((len(answers), step, cell))
                answers.append(None)
                continue
            chosen = _chosen(step, cell, choices[step.id])
            if isinstance(chosen, str):
                errors.append(RowError(number, heading, chosen))
                continue
            labels = ", ".join(o.label.get(language, language) for o in chosen)
            answers.append(PlannedAnswer(step.id, "choice", ",".join(o.id for o in chosen),
                                         labels, step.profile, None))  # fmt: skip
        if errors:
            result.errors += errors
            result.bad_rows.append(number)
            continue
        # Screened once the row is known good: a bad file is told its errors at once.
        for position, step, text in texts:
            withheld, flag = _screen(text, language, own)
            answers[position] = PlannedAnswer(step.id, "text", text, text, step.profile, withheld)
            if flag is not None:
                flags.append(flag)
        stored = tuple(a for a in answers if a is not None)
        result.rows.append(PlannedRow(number, stored, tuple(flags)))
    return result


def _choices(step: Step) -> list[tuple[str, list[str]]]:
    """Each option by id, with its labels in every language and its id as words."""
    return [(o.id, [*o.label.by_language.values(), o.id.replace("-", " ")]) for o in step.options]


def _chosen(step: Step, cell: str, choices: list[tuple[str, list[str]]]) -> list[Option] | str:
    """The options a cell names, in the script's order; or what is wrong with it."""
    named = matching.match(cell, choices)
    found = [named] if named is not None else []
    if named is None and step.multi:
        several = [matching.match(part, choices) for part in matching.parts(cell)]
        if several and None not in several:
            found = [p for p in several if p is not None]
    if not found:
        ids = ", ".join(o.id for o in step.options)
        return f"'{_short(cell)}' is not one of the options of '{step.id}' ({ids})"
    options = [o for o in step.options if o.id in found]
    if len(options) > 1 and any(o.exclusive for o in options):
        alone = next(o for o in options if o.exclusive)
        return f"'{alone.id}' goes alone, not with other options"
    return list(options)


def _screen(
    text: str, language: str, own: tuple[str, ...]
) -> tuple[str | None, PlannedFlag | None]:
    """As the chat screens a typed answer: why it is withheld, and the leads' flag if any."""
    risk = safeguarding.assess(text, language, own)
    if risk.risk:
        return "safeguarding", PlannedFlag(",".join(risk.categories), text[:2000])
    if moderation.assess_abuse(text).flagged:
        return "abuse", None
    return None, None


def _short(cell: str) -> str:
    return cell if len(cell) <= 40 else cell[:39] + "…"
