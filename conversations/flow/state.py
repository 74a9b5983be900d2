"""Where one resident is in one round's conversation: plain data that survives a JSON round trip.

Nothing lives only in memory (goflow's test runner stores and reloads the session
before every resume; our tests do the same), which is also what makes a restart safe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from conversations.flow.script import Script

Phase = Literal["consent", "steps", "done", "declined"]


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


def new_state(script: Script, language: str | None = None) -> ConversationState:
    """A fresh conversation in the resident's language if the script has it."""
    chosen = language if language in script.languages else script.default_language
    return ConversationState(language=chosen)


def json_copy(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of JSON-safe data, so that no two states share a nested dict."""
    copied: dict[str, Any] = json.loads(json.dumps(data))
    return copied
