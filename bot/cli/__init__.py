"""The `needsfirst` command line: one front beside Telegram and the web.

`main` is imported lazily, so that importing `bot.cli.arguments` alone stays cheap."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (the `needsfirst` entry point)."""
    from bot.cli.commands import main as run

    return run(argv)
