"""`needsfirst pack SLUG [--theme ID] --out FILE`: an evidence pack, in the format of
the file's extension (.html, .pdf, .csv or .xlsx). It quotes residents: the file is
readable by its owner only, and its making is audited (bot/actions/packs.py)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any
from zoneinfo import ZoneInfo

from bot.actions.packs import FORMATS, PackError, make_pack
from bot.cli.arguments import out_file, record_id_argument
from bot.cli.console import CommandError, actor, database
from bot.config import Config


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    pack = commands.add_parser(
        "pack",
        parents=[common],
        help="write an evidence pack of a reviewed theme, or of the whole consultation",
    )
    pack.add_argument("slug")
    pack.add_argument(
        "--theme",
        type=record_id_argument,
        default=None,
        help="a reviewed theme's id (default: all)",
    )
    pack.add_argument(
        "--out",
        type=out_file,
        required=True,
        help=f"file to write; its extension says the format ({', '.join('.' + f for f in FORMATS)})",
    )
    pack.set_defaults(handler=_pack)


def _pack(config: Config, args: argparse.Namespace) -> int:
    fmt = args.out.suffix.lower().removeprefix(".")
    if fmt not in FORMATS:
        raise CommandError(
            f"{args.out} ends in {args.out.suffix or 'no extension'}: name a file ending in "
            + ", ".join("." + f for f in FORMATS)
        )
    with database(config, args) as db:
        try:
            made = make_pack(
                db,
                args.slug,
                theme_id=args.theme,
                fmt=fmt,
                actor=actor(),
                zone=ZoneInfo(config.digest.timezone),
            )
        except PackError as error:
            raise CommandError(str(error)) from error
    write_private(args.out, made.content)
    print(f"evidence pack written to {args.out}", file=sys.stderr)
    return 0


def write_private(path: os.PathLike[str], content: bytes) -> None:
    """Bytes to a file only its owner can read (a pack quotes residents)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with open(descriptor, "wb") as handle:
        handle.write(content)
