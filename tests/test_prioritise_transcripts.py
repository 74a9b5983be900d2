"""Golden transcripts of prioritise rounds: tests/transcripts/prioritise/*.json.

As tests/test_transcripts.py, with the round's themes and the resident's seed in
the document: the deck is built from them, kept in the state, and the state is
stored as JSON and read back before every input. Votes are shown in full. After
an intended change: `pytest tests/test_prioritise_transcripts.py --update-transcripts`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from conversations import engine
from conversations.deliberation import DeckTheme, new_deck
from conversations.script import load_script
from tests.test_transcripts import SCRIPTS, parse_input

TRANSCRIPTS = Path(__file__).parent / "transcripts" / "prioritise"


def run(document: dict[str, Any]) -> list[dict[str, Any]]:
    script = load_script(SCRIPTS / document["script"]).for_round("prioritise")
    state = engine.new_state(script, document["language"])
    shown = [DeckTheme(*theme) for theme in document["themes"]]
    state.deck = new_deck(script.steps, shown, seed=document["seed"])
    stored = json.dumps(state.to_dict())
    turns = []
    for line in [t["input"] for t in document["turns"]]:
        outcome = engine.step(
            script, engine.ConversationState.from_dict(json.loads(stored)), parse_input(line)
        )
        stored = json.dumps(outcome.state.to_dict())
        turns.append(
            {
                "input": line,
                "replies": [
                    {
                        "text": reply.text,
                        "buttons": [
                            [f"{b.label} -> {b.step_id}:{b.iteration}:{b.option_id}" for b in row]
                            for row in reply.buttons
                        ],
                    }
                    for reply in outcome.replies
                ],
                "answers": [
                    {
                        k: v
                        for k, v in asdict(a).items()
                        if v not in (None, False) or k == "confirmed"
                    }
                    for a in outcome.answers
                ],
                "events": [
                    {"event": type(e).__name__, **asdict(e)} if asdict(e) else type(e).__name__
                    for e in outcome.events
                ],
            }
        )
    return turns


@pytest.mark.parametrize("path", sorted(TRANSCRIPTS.glob("*.json")), ids=lambda p: p.stem)
def test_prioritise_transcript(path: Path, request: pytest.FixtureRequest) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    turns = run(document)
    if request.config.getoption("--update-transcripts"):
        document["turns"] = turns
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    for expected, actual in zip(document["turns"], turns, strict=True):
        assert actual == expected, f"turn {expected['input']!r} differs"
