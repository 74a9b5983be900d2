"""The `needsfirst` command line (see DESIGN.md for the contract)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import Config, ConfigError, load_config
from bot.consultations import load_consultation
from conversations import store
from conversations.coverage import format_status, round_status
from conversations.db import make_engine, migrate
from conversations.export import export_columns, export_records, write_export
from conversations.script import ScriptError
from conversations.service import ScriptCache


class CommandError(Exception):
    """A command could not do what was asked; the message says why."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.command == "run" else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Keep third-party request logs out: their URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        config = load_config(args.config)
        return int(args.handler(config, args) or 0)
    except (ConfigError, ScriptError, CommandError, store.StoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=None,
        help="configuration file (default ./config.toml, else built-in defaults)",
    )
    parser = argparse.ArgumentParser(
        prog="needsfirst", description="Needs First: a needs-first consultation chatbot.",
        parents=[common],
    )  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", parents=[common], help="run the bot, web server and scheduler")
    run.set_defaults(handler=_run)

    consultation = commands.add_parser(
        "consultation", parents=[common], help="manage consultations"
    )
    consultation_commands = consultation.add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    load = consultation_commands.add_parser(
        "load", parents=[common], help="validate a script and create or update its consultation"
    )
    load.add_argument("script", type=Path)
    load.set_defaults(handler=_consultation_load)
    listing = consultation_commands.add_parser("list", parents=[common], help="list consultations")
    listing.set_defaults(handler=_consultation_list)

    rounds = commands.add_parser(
        "round", parents=[common], help="open or close a consultation's round"
    )
    round_commands = rounds.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, helptext in (("open", "open the next round"), ("close", "close the open round")):
        sub = round_commands.add_parser(action, parents=[common], help=helptext)
        sub.add_argument("slug")
        sub.set_defaults(handler=_round, action=action)

    status = commands.add_parser(
        "status", parents=[common], help="progress and coverage of the current round"
    )
    status.add_argument("slug")
    status.add_argument("--format", choices=["text", "json"], default="text")
    status.set_defaults(handler=_status)

    export = commands.add_parser("export", parents=[common], help="write every stored answer")
    export.add_argument("slug")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument(
        "--out", type=Path, default=None, help="file to write (default: standard output)"
    )
    export.set_defaults(handler=_export)
    return parser


@contextmanager
def _database(config: Config) -> Iterator[Engine]:
    db = make_engine(config.database.url)
    try:
        migrate(db)
        yield db
    finally:
        db.dispose()


def _actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def _run(config: Config, args: argparse.Namespace) -> int:
    from bot.app import run

    asyncio.run(run(config))
    return 0


def _consultation_load(config: Config, args: argparse.Namespace) -> int:
    with _database(config) as db:
        script, _ = load_consultation(db, args.script, actor=_actor())
    print(script.slug)
    return 0


def _consultation_list(config: Config, args: argparse.Namespace) -> int:
    with _database(config) as db, Session(db) as session:
        for consultation in store.all_consultations(session=session):
            assert consultation.id is not None
            latest = store.current_round(session=session, consultation_id=consultation.id)
            state = f"round {latest.number} {latest.status}" if latest else "no rounds"
            print(f"{consultation.slug}\t{state}\t{consultation.title}")
    return 0


def _round(config: Config, args: argparse.Namespace) -> int:
    with _database(config) as db, Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug=args.slug)
        if args.action == "open":
            round_ = store.open_round(session=session, consultation=consultation)
        else:
            round_ = store.close_round(session=session, consultation=consultation)
        store.audit(
            session=session, actor=_actor(), action=f"round.{args.action}",
            target=f"{args.slug}#{round_.number}",
        )  # fmt: skip
        print(f"{args.slug}: round {round_.number} {round_.status}")
    return 0


def _status(config: Config, args: argparse.Namespace) -> int:
    with _database(config) as db, Session(db) as session:
        consultation = store.require_consultation(session=session, slug=args.slug)
        assert consultation.id is not None
        round_ = store.current_round(session=session, consultation_id=consultation.id)
        if round_ is None:
            raise CommandError(
                f"'{args.slug}' has no rounds yet (needsfirst round open {args.slug})"
            )
        report = round_status(
            session=session,
            script=ScriptCache().get(consultation),
            round_=round_,
            consultation_slug=consultation.slug,
        )
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_status(report))
    return 0


def _export(config: Config, args: argparse.Namespace) -> int:
    with _database(config) as db, Session(db) as session:
        consultation = store.require_consultation(session=session, slug=args.slug)
        script = ScriptCache().get(consultation)
        records = export_records(session=session, consultation=consultation, script=script)
        columns = export_columns(script)
        if args.out is None:
            write_export(sys.stdout, args.format, columns, records)
        else:
            with args.out.open("w", encoding="utf-8", newline="") as handle:
                write_export(handle, args.format, columns, records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
