"""Argument types for the command line: every id, number, file and time an operator types.

Ids and numbers go through the one parser the web and Telegram use
(conversations.flow.numbers), so "²", "٣" and 99999999999999999999999 are usage errors
here too, never a traceback from the database. Times go through the one reading every
staff front uses (bot/actions/round_times.py).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from bot.actions.round_times import EXAMPLE, typed_time
from conversations.flow.numbers import record_id, whole_number


def record_id_argument(text: str) -> int:
    """A record's id, through the one parser every route uses."""
    found = record_id(text)
    if found is None:
        raise argparse.ArgumentTypeError(f"not an id (a number such as 12): {text!r}")
    return found


def whole_number_argument(text: str) -> int:
    found = whole_number(text)
    if found is None:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return found


def telegram_id_argument(text: str) -> int:
    found = whole_number(text, minimum=1, maximum=2**53)  # Telegram's ids fit in 52 bits
    if found is None:
        raise argparse.ArgumentTypeError(f"not a Telegram user id: {text!r}")
    return found


def out_file(text: str) -> Path:
    """A file --out may write: its folder must exist (it is not made), and not be a folder."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name in it")
    if not path.resolve().parent.is_dir():
        raise argparse.ArgumentTypeError(
            f"the folder {path.resolve().parent} does not exist; make it first"
        )
    return path


def moment(text: str) -> datetime | None:
    """A round's time as typed (bot/actions/round_times.py); "-" for unchanged."""
    try:
        return typed_time(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date and time like {EXAMPLE}: {text!r}") from error
