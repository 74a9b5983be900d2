"""Golden transcripts of prioritise rounds: tests/transcripts/prioritise/*.json.

As tests/test_transcripts.py, with the round's themes and the resident's seed in
the document: the deck is built from them, kept in the state, and the state is
stored as JSON and read back before every input. Votes are shown in full. After
an intended change: `pytest tests/test_prioritise_transcripts.py --update-transcripts`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conversations.flow.deliberation import DeckTheme, new_deck
from conversations.flow.script_toml import load_script
from conversations.flow.state import new_state
from tests.test_transcripts import SCRIPTS, compare_or_update, replay

TRANSCRIPTS = Path(__file__).parent / "transcripts" / "prioritise"


def run(document: dict[str, Any]) -> list[dict[str, Any]]:
    script = load_script(SCRIPTS / document["script"]).for_round("prioritise")
    state = new_state(script, document["language"])
    shown = [DeckTheme(*theme) for theme in document["themes"]]
    state.deck = new_deck(script.steps, shown, seed=document["seed"])
    return replay(script, state, [t["input"] for t in document["turns"]], full_events=True)


@pytest.mark.parametrize("path", sorted(TRANSCRIPTS.glob("*.json")), ids=lambda p: p.stem)
def test_prioritise_transcript(path: Path, request: pytest.FixtureRequest) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    compare_or_update(path, document, run(document), request.config)
