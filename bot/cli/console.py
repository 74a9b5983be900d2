"""What every `needsfirst` command shares: the database it opens, who it acts as in the
audit log, and the error it stops with."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from bot.config import Config
from bot.database_setup import describe, open_database


class CommandError(Exception):
    """A command could not do what was asked; the message says why."""


@contextmanager
def database(config: Config, args: argparse.Namespace) -> Iterator[Engine]:
    """The configured database, for the length of one command."""
    if config.source == "built-in defaults":
        # No config.toml here: perhaps not the service's folder. Say what is used.
        print(f"no config.toml here: using {describe(config.database.url)}", file=sys.stderr)
    db = open_database(config, create=args.create)
    try:
        yield db
    finally:
        db.dispose()


def actor() -> str:
    """Who the audit log names: the operator's login name."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def confirmed(question: str, refusal: str) -> bool:
    """The operator's yes at the terminal; without a terminal, a CommandError (`refusal`)."""
    if not sys.stdin.isatty():
        raise CommandError(refusal)
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
