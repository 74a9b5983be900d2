"""What the command line writes: nothing a terminal would run, nothing others can read.

Residents' words reach standard output in exports, theme labels and digest
summaries. `SafeOutput` drops control and bidirectional characters on the way
(an ESC could rewrite the operator's screen; U+202E reverses a line), keeping
newlines, tabs and CSV's CR LF line ends. `private_file` opens an output file
that only its owner can read: exports and digests quote residents.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import TextIO

# As conversations.screening.cleaning, with a carriage return kept only before a newline.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|\r(?!\n)")


class SafeOutput(io.TextIOBase):
    """A text stream that writes to `target` less control and bidi characters."""

    def __init__(self, target: TextIO) -> None:
        self.target = target

    def write(self, text: str) -> int:
        self.target.write(_UNSAFE.sub("", text))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def writable(self) -> bool:
        return True


def private_file(path: Path) -> TextIO:
    """`path` opened for writing text, readable by its owner only (also if it existed)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    return open(descriptor, "w", encoding="utf-8", newline="")
