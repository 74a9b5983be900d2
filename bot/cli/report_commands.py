"""`needsfirst export|digest`: what officers take away: every answer, and the digest now.

Both quote residents: a file they write is readable by its owner only."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session
from telegram.error import TelegramError

from analysis.personal_details.scrub import scrub
from bot.cli.arguments import out_file
from bot.cli.console import CommandError, actor, database
from bot.cli.pack_commands import write_private
from bot.cli.terminal import private_file
from bot.config import Config
from conversations.staff.export import export_columns, export_records, write_export
from conversations.storage import store
from conversations.storage.scripts import ScriptCache


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """The export and the digest."""
    export = commands.add_parser("export", parents=[common], help="write every stored answer")
    export.add_argument("slug")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument(
        "--scrub",
        action="store_true",
        help="remove personal details (emails, phones, names...) from answers",
    )
    export.add_argument(
        "--out", type=out_file, default=None, help="file to write (default: standard output)"
    )
    export.set_defaults(handler=_export)

    digest = commands.add_parser(
        "digest", parents=[common], help="build the officers' digest of the last 7 days now"
    )
    digest.add_argument("slug")
    digest.add_argument("--out", type=out_file, default=None, help="write the report to FILE.html")
    digest.add_argument("--send", action="store_true", help="send it to the configured officers")
    digest.add_argument(
        "--with-pack",
        action="store_true",
        help="add the whole consultation's evidence pack as a PDF (beside --out; with --send,"
        " one more part of each officer's digest, on Telegram and by email)",
    )
    digest.set_defaults(handler=_digest)


def _export(config: Config, args: argparse.Namespace) -> int:
    with database(config, args) as db, Session(db) as session:
        consultation = store.require_consultation(session=session, slug=args.slug)
        script = ScriptCache().get(consultation)
        records = export_records(
            session=session,
            consultation=consultation,
            script=script,
            scrub=scrub if args.scrub else None,
        )
        columns = export_columns(script)
        if args.out is None:
            write_export(sys.stdout, args.format, columns, records)
        else:
            with private_file(args.out) as handle:
                write_export(handle, args.format, columns, records)
    return 0


def _digest(config: Config, args: argparse.Namespace) -> int:
    from bot.actions.digests import build_now
    from bot.scheduling.digest_job import send_to_officers

    if args.with_pack and not (args.send or args.out):
        raise CommandError(
            "--with-pack needs --out FILE.html (the pack is written beside it) or --send"
        )
    with database(config, args) as db:
        if args.send:
            try:
                documents, counts = asyncio.run(
                    send_to_officers(config, db, args.slug, pack=args.with_pack, actor=actor())
                )
            except (TelegramError, OSError) as error:
                reason = str(error).replace(config.telegram.token, "<token>")
                raise CommandError(
                    f"Telegram cannot be reached at {config.telegram.base_url} "
                    f"({type(error).__name__}: {reason}), so the digest was not sent. "
                    "Try again later, or save it with --out and without --send"
                ) from error
            sent = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
            print(f"officers: {sent or 'none configured, so not sent'}", file=sys.stderr)
        else:
            documents = build_now(db, args.slug, ZoneInfo(config.digest.timezone))
        # Sent, the pack is the digest's own (made once); else it is made for the file.
        pack = documents.pack
        if args.with_pack and args.out and pack is None:
            pack = _pack(config, db, args.slug)
    if args.out is None:
        print(documents.summary)
    else:
        with private_file(args.out) as handle:
            handle.write(documents.html)
        print(f"digest written to {args.out}", file=sys.stderr)
        if pack is not None:
            beside = args.out.with_name(f"{args.out.stem}-pack.pdf")
            write_private(beside, pack)
            print(f"evidence pack written to {beside}", file=sys.stderr)
    return 0


def _pack(config: Config, db: Engine, slug: str) -> bytes:
    """The whole consultation's evidence pack as a PDF, for the file beside the report."""
    from bot.actions.packs import make_pack

    return make_pack(
        db, slug, theme_id=None, fmt="pdf", actor=actor(), zone=ZoneInfo(config.digest.timezone)
    ).content
