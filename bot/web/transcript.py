"""What the resident chose, read back from the web chat's transcript as their page showed it.

The transcript itself is kept by conversations.storage.web_transcript.
"""

from __future__ import annotations

from collections.abc import Callable

from conversations.flow import callbacks
from conversations.flow.inputs import ChoiceInput
from conversations.flow.questions import TICKS
from conversations.storage.web_transcript import Line


def pressed_label(data: str) -> Callable[[list[Line]], str | None]:
    """What the resident chose with the button they pressed, as they saw it (None if it
    was not offered): its label, or for a multiple choice's Done the options ticked."""
    press = callbacks.parse(data)
    done = isinstance(press, ChoiceInput) and press.option_id == "_done"

    def find(lines: list[Line]) -> str | None:
        for line in reversed(lines):
            for row in line.buttons:
                for button in row:
                    if button.data == data:
                        ticked = [b.label.removeprefix(TICKS[0]) for r in line.buttons
                                  for b in r if b.label.startswith(TICKS[0])]  # fmt: skip
                        if done and ticked:
                            return ", ".join(ticked)
                        return button.label.removeprefix(TICKS[0]).removeprefix(TICKS[1])
        return None

    return find
