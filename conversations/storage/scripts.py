"""Consultations' scripts, parsed once: every part that reads a consultation's script asks here."""

from __future__ import annotations

from conversations.flow.script import Script
from conversations.flow.script_toml import parse_script
from conversations.storage.models import Consultation


class ScriptCache:
    """Parsed scripts by content hash: immutable, so safe to share between workers."""

    def __init__(self) -> None:
        self._scripts: dict[str, Script] = {}

    def get(self, consultation: Consultation) -> Script:
        script = self._scripts.get(consultation.script_hash)
        if script is None:
            script = parse_script(consultation.script_toml, f"consultation '{consultation.slug}'")
            self._scripts[consultation.script_hash] = script
        return script

    def parsed(self, script_hash: str) -> Script | None:
        """The script with this hash, if it has been parsed already."""
        return self._scripts.get(script_hash)
