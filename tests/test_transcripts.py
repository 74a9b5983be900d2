"""Golden transcripts: a script and a resident's inputs, with the engine's replies,
stored answers and events, kept in tests/transcripts/*.json.

The state is stored as JSON and read back before every input, as it is in
production, so a conversation must survive a restart at every step. Regenerate
after an intended change with `pytest tests/test_transcripts.py --update-transcripts`
and read the diff: it is the conversation a resident will see.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from conversations.flow import engine
from conversations.flow.inputs import (
    Begin,
    ChoiceInput,
    EditedText,
    Input,
    SetLanguage,
    TextInput,
    Unsupported,
)
from conversations.flow.outcome import Outcome
from conversations.flow.script import Script
from conversations.flow.script_toml import load_script
from conversations.flow.state import ConversationState, new_state

TRANSCRIPTS = Path(__file__).parent / "transcripts"
SCRIPTS = Path(__file__).resolve().parent.parent / "conversations" / "flow" / "scripts"


def parse_input(line: str) -> Input:
    """`begin`, `text: ...`, `press: step:iteration:option`, `edit: ref: ...`, ..."""
    verb, _, rest = line.partition(": ")
    if verb == "begin":
        return Begin()
    if verb == "text":
        ref, _, words = rest.partition("| ") if rest.startswith("#") else ("", "", rest)
        return TextInput(words, ref=ref.strip("# ") or None)
    if verb == "edit":
        ref, _, words = rest.partition("| ")
        return EditedText(words, ref=ref.strip("# "))
    if verb == "press":
        step_id, iteration, option = rest.split(":")
        return ChoiceInput(step_id, int(iteration), option)
    if verb == "unsupported":
        return Unsupported(rest)
    if verb == "language":
        return SetLanguage(rest)
    raise ValueError(f"unknown transcript input {line!r}")


def run(script: Script, language: str, inputs: list[str],
        channel: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    return replay(script, new_state(script, language), inputs, channel=channel)


def replay(script: Script, state: ConversationState, inputs: list[str],
           *, full_events: bool = False, channel: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Each input's turn, with the state stored as JSON and read back before every input."""
    stored = json.dumps(state.to_dict())
    turns = []
    for line in inputs:
        outcome = engine.step(
            script,
            ConversationState.from_dict(json.loads(stored)),
            parse_input(line),
            channel=channel,
        )
        stored = json.dumps(outcome.state.to_dict())
        turns.append(describe(line, outcome, full_events=full_events))
    return turns


def describe(line: str, outcome: Outcome, *, full_events: bool = False) -> dict[str, Any]:
    """One turn as the golden files hold it."""
    return {
        "input": line,
        "replies": [
            {
                "text": reply.text,
                "buttons": [
                    [f"{b.label} -> {b.step_id}:{b.iteration}:{b.option_id}" for b in row]
                    for row in reply.buttons
                ],
                **({"updates_prompt": True} if reply.updates_prompt else {}),
            }
            for reply in outcome.replies
        ],
        "answers": [
            {k: v for k, v in asdict(a).items() if v not in (None, False) or k == "confirmed"}
            for a in outcome.answers
        ],
        "events": [
            {"event": type(e).__name__, **asdict(e)}
            if full_events and asdict(e)
            else type(e).__name__
            for e in outcome.events
        ],
    }


@pytest.mark.parametrize("path", sorted(TRANSCRIPTS.glob("*.json")), ids=lambda p: p.stem)
def test_transcript(path: Path, request: pytest.FixtureRequest) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    script = load_script(SCRIPTS / document["script"])
    inputs = [t["input"] for t in document["turns"]]
    # A transcript may be worded for one channel ("web", "telegram"); none means the script's own.
    turns = run(script, document["language"], inputs, document.get("channel"))
    compare_or_update(path, document, turns, request.config)


def compare_or_update(path: Path, document: dict[str, Any], turns: list[dict[str, Any]],
                      config: pytest.Config) -> None:  # fmt: skip
    """The turns must be the transcript's; with --update-transcripts they become it."""
    if config.getoption("--update-transcripts"):
        document["turns"] = turns
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    for expected, actual in zip(document["turns"], turns, strict=True):
        assert actual == expected, f"turn {expected['input']!r} differs"
