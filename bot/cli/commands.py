"""The `needsfirst` command line: the parser and its commands (docs/facilitator-guide.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session
from telegram.error import TelegramError

from analysis.personal_details.scrub import scrub
from bot.actions.consultations import load_consultation
from bot.cli import theme_commands
from bot.cli.arguments import (
    moment,
    out_file,
    record_id_argument,
    telegram_id_argument,
    whole_number_argument,
)
from bot.cli.terminal import SafeOutput, private_file
from bot.config import Config, ConfigError, load_config
from bot.database_setup import describe, open_database
from conversations.flow.script import ScriptError
from conversations.residents.service import ScriptCache
from conversations.staff import broadcasts, theme_edits
from conversations.staff.coverage import format_status
from conversations.staff.export import export_columns, export_records, write_export
from conversations.staff.rounds import ROUND_KINDS, Rounds, partner_links
from conversations.storage import store


class CommandError(Exception):
    """A command could not do what was asked; the message says why."""


def main(argv: Sequence[str] | None = None) -> int:
    # python-telegram-bot warns while building a 429's RetryAfter unless this is set.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.command == "run" else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Keep third-party request logs out: their URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Every scheduler tick would log twice per job; operators need only problems.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        config = load_config(args.config)
        # Residents' words are printed: never a control or bidi character with them.
        with redirect_stdout(SafeOutput(sys.stdout)):
            return int(args.handler(config, args) or 0)
    except (
        ConfigError, ScriptError, CommandError, store.StoreError, broadcasts.BroadcastError,
        theme_edits.ThemeEditError,
    ) as error:  # fmt: skip
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
    common.add_argument(
        "--create",
        action="store_true",
        default=False,
        help="make a new, empty SQLite database if there is none (`run` always may)",
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
        "round", parents=[common], help="open, close or schedule a consultation's round"
    )
    round_commands = rounds.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, helptext in (("open", "open the next round"), ("close", "close the open round")):
        sub = round_commands.add_parser(action, parents=[common], help=helptext)
        sub.add_argument("slug")
        sub.set_defaults(handler=_round, action=action)
        if action == "open":
            sub.add_argument("--kind", choices=ROUND_KINDS, default="needs",
                             help="needs (default), or prioritise: residents weigh the themes")  # fmt: skip
    schedule = round_commands.add_parser(
        "schedule", parents=[common], help="set when the next round opens and closes"
    )
    schedule.add_argument("slug")
    schedule.add_argument("--opens", type=moment, help="e.g. 2026-12-01T09:00 (local time)")
    schedule.add_argument("--closes", type=moment, help="e.g. 2026-12-15T17:00 (local time)")
    schedule.add_argument("--kind", choices=ROUND_KINDS,
                          help="what the round is (prioritise: the latest themes as it opens)")  # fmt: skip
    schedule.set_defaults(handler=_round_schedule)

    links = commands.add_parser(
        "links", parents=[common], help="deep links for a partner organisation"
    )
    links.add_argument("slug")
    links.add_argument("--source", required=True, help="the partner, e.g. tenants-association")
    links.set_defaults(handler=_links)

    broadcast = commands.add_parser(
        "broadcast", parents=[common], help="invite opted-in residents (or one group) by message"
    )
    broadcast.add_argument(
        "slug", help="a consultation's slug, or 'status' followed by a broadcast id"
    )
    broadcast.add_argument(
        "broadcast_id", nargs="?", type=record_id_argument, help=argparse.SUPPRESS
    )
    broadcast.add_argument("--message", help="the invitation's text")
    broadcast.add_argument("--group", help="only residents in DIMENSION=VALUE, e.g. area=south")
    broadcast.add_argument(
        "--window", type=whole_number_argument, default=0, help="spread sending over MINUTES"
    )
    broadcast.add_argument("--yes", action="store_true", help="send without asking")
    broadcast.set_defaults(handler=_broadcast)

    priorities = commands.add_parser(
        "priorities", parents=[common], help="how residents prioritised the themes, and consensus"
    )
    priorities.add_argument("slug")
    priorities.add_argument("--format", choices=["text", "json"], default="text")
    priorities.set_defaults(handler=_priorities)

    status = commands.add_parser(
        "status", parents=[common], help="progress and coverage of the current round"
    )
    status.add_argument("slug")
    status.add_argument("--format", choices=["text", "json"], default="text")
    status.set_defaults(handler=_status)

    analyse = commands.add_parser(
        "analyse", parents=[common], help="group answers into themes (any CSV, or a consultation's)"
    )
    analyse.add_argument("input", nargs="?", help="a CSV file of answers (or use --consultation)")
    analyse.add_argument(
        "--consultation", metavar="SLUG", help="analyse a consultation's stored answers"
    )
    analyse.add_argument("--text-column", default="text", help="the CSV column holding the answers")
    analyse.add_argument(
        "--themes",
        type=whole_number_argument,
        default=None,
        metavar="N",
        help="fix the number of themes",
    )
    analyse.add_argument(
        "--out", type=out_file, default=None, help="JSON file to write (default: standard output)"
    )
    analyse.add_argument(
        "--lexical",
        action="store_true",
        help="words only, even where the semantic extra is installed (faster, less exact)",
    )
    analyse.set_defaults(handler=_analyse)

    theme_commands.add_parser(commands, common, _theme)

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
    digest.set_defaults(handler=_digest)

    decide = commands.add_parser(
        "decide", parents=[common], help="record a decision on a theme and tell who raised it"
    )
    decide.add_argument("slug")
    decide.add_argument("theme_id", type=record_id_argument)
    decide.add_argument("--text", required=True, help="what was decided, in plain words")
    decide.add_argument(
        "--yes", action="store_true", help="send without asking (after the preview)"
    )
    decide.set_defaults(handler=_decide)

    login = commands.add_parser(
        "login", parents=[common], help="print a one-time sign-in link to the web dashboard"
    )
    login.add_argument(
        "user_id", type=telegram_id_argument, help="a staff member's Telegram user id, from [staff]"
    )
    login.set_defaults(handler=_login)
    return parser


@contextmanager
def _database(config: Config, args: argparse.Namespace) -> Iterator[Engine]:
    if config.source == "built-in defaults":
        # No config.toml here: perhaps not the service's folder. Say what is used.
        print(f"no config.toml here: using {describe(config.database.url)}", file=sys.stderr)
    db = open_database(config, create=args.create)
    try:
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
    with _database(config, args) as db:
        script, _ = load_consultation(db, args.script, actor=_actor())
    print(script.slug)
    return 0


def _consultation_list(config: Config, args: argparse.Namespace) -> int:
    with _database(config, args) as db, Session(db) as session:
        for consultation in store.all_consultations(session=session):
            assert consultation.id is not None
            latest = store.current_round(session=session, consultation_id=consultation.id)
            state = f"round {latest.number} {latest.status}" if latest else "no rounds"
            print(f"{consultation.slug}\t{state}\t{consultation.title}")
    return 0


def _round(config: Config, args: argparse.Namespace) -> int:
    with _database(config, args) as db:
        rounds = Rounds(db)
        if args.action == "open":
            from bot.actions.priorities import open_round

            round_ = open_round(db, args.slug, kind=args.kind, actor=_actor())
        else:
            round_ = rounds.close(args.slug, actor=_actor())
    kind = "" if round_.kind == "needs" else f" ({round_.kind})"
    print(f"{args.slug}: round {round_.number}{kind} {round_.status}")
    return 0


def _priorities(config: Config, args: argparse.Namespace) -> int:
    from bot.actions.priorities import format_priorities, priorities_report

    with _database(config, args) as db:
        report = priorities_report(db, args.slug)
    print(
        json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
        if args.format == "json"
        else format_priorities(report)
    )
    return 0


def _round_schedule(config: Config, args: argparse.Namespace) -> int:
    zone = ZoneInfo(config.digest.timezone)

    def in_utc(moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)

    with _database(config, args) as db:
        round_ = Rounds(db).schedule(
            args.slug,
            actor=_actor(),
            opens_at=in_utc(args.opens),
            closes_at=in_utc(args.closes),
            kind=args.kind,
        )
    opens = (
        round_.opens_at.astimezone(zone).isoformat(timespec="minutes") if round_.opens_at else "-"
    )
    closes = (
        round_.closes_at.astimezone(zone).isoformat(timespec="minutes") if round_.closes_at else "-"
    )
    print(
        f"{args.slug}: round {round_.number} ({round_.kind}, {round_.status}) opens {opens} "
        f"closes {closes}"
    )
    return 0


def _links(config: Config, args: argparse.Namespace) -> int:
    with _database(config, args) as db, Session(db) as session:
        store.require_consultation(session=session, slug=args.slug)
    public = config.web.public_url or f"http://{config.web.host}:{config.web.port}"
    links = partner_links(
        slug=args.slug,
        source=args.source,
        bot_username=config.telegram.bot_username,
        public_url=public,
    )
    for channel, link in links.items():
        print(f"{channel}: {link}")
    if "telegram" not in links:
        print("(set [telegram] bot_username to print the Telegram deep link too)", file=sys.stderr)
    return 0


def _broadcast(config: Config, args: argparse.Namespace) -> int:
    if args.slug == "status":
        if args.broadcast_id is None:
            raise CommandError("usage: needsfirst broadcast status ID")
        with _database(config, args) as db, Session(db) as session:
            print(
                broadcasts.format_progress(
                    broadcasts.progress(session=session, broadcast_id=args.broadcast_id)
                )
            )
        return 0
    if not args.message:
        raise CommandError("give the invitation's text with --message")
    group = broadcasts.parse_group(args.group)
    with _database(config, args) as db:
        with Session(db, expire_on_commit=False) as session, session.begin():
            draft, count = broadcasts.draft(
                session=session, slug=args.slug, message=args.message, created_by=_actor(),
                group=group, window_minutes=args.window,
            )  # fmt: skip
        assert draft.id is not None
        print(f"Broadcast {draft.id} to {count} residents of {args.slug}"
              + (f" in {group[0]}={group[1]}" if group else "") + ":\n")  # fmt: skip
        print("    " + args.message.replace("\n", "\n    ") + "\n")
        if not args.yes:
            if not sys.stdin.isatty():
                raise CommandError("not sent: confirm with --yes (no terminal to ask on)")
            if input("Send it? [y/N] ").strip().lower() not in ("y", "yes"):
                print("Not sent.")
                return 1
        with Session(db) as session, session.begin():
            broadcasts.queue(session=session, broadcast_id=draft.id, actor=_actor())
    print(draft.id)
    return 0


def _status(config: Config, args: argparse.Namespace) -> int:
    with _database(config, args) as db:
        report = Rounds(db).status(args.slug)
    print(
        json.dumps(report.to_dict(), indent=2) if args.format == "json" else format_status(report)
    )
    return 0


def _analyse(config: Config, args: argparse.Namespace) -> int:
    from analysis.themes.csv_input import AnalysisInputError
    from bot.actions.analysis_runs import AnalysisError, analyse_csv
    from bot.actions.theme_runs import analyse_consultation

    if args.themes is not None and not 1 <= args.themes <= 500:
        raise CommandError("--themes must be between 1 and 500")
    if (args.input is None) == (args.consultation is None):
        raise CommandError("give either a CSV file or --consultation SLUG")
    try:
        if args.input is not None:
            report = analyse_csv(
                args.input,
                text_column=args.text_column,
                n_themes=args.themes,
                encoder=None if args.lexical else "auto",
            )
        else:
            with _database(config, args) as db:
                run = analyse_consultation(
                    db,
                    args.consultation,
                    actor=_actor(),
                    n_themes=args.themes,
                    encoder=None if args.lexical else "auto",
                )
                report = run.report
    except (AnalysisInputError, AnalysisError) as error:
        raise CommandError(str(error)) from error
    document = json.dumps(report, ensure_ascii=False, indent=2)
    if args.out is None:
        print(document)
    else:
        with private_file(args.out) as handle:  # it quotes residents
            handle.write(document + "\n")
        print(f"{len(report['themes'])} themes written to {args.out}", file=sys.stderr)
    return 0


def _theme(config: Config, args: argparse.Namespace) -> int:
    with _database(config, args) as db:
        if args.action == "split":
            from bot.actions.analysis_runs import split_stored_theme

            split = split_stored_theme(db, args.slug, args.theme_id, actor=_actor())
            print(split.summary() + " Both parts are in the codebook now.", file=sys.stderr)
        theme_commands.run(db, args, _actor())
    return 0


def _export(config: Config, args: argparse.Namespace) -> int:
    with _database(config, args) as db, Session(db) as session:
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
    from bot.actions.digests import build_now, send_to_officers

    with _database(config, args) as db:
        if args.send:
            try:
                documents, counts = asyncio.run(send_to_officers(config, db, args.slug))
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
    if args.out is None:
        print(documents.summary)
    else:
        with private_file(args.out) as handle:
            handle.write(documents.html)
        print(f"digest written to {args.out}", file=sys.stderr)
    return 0


def _decide(config: Config, args: argparse.Namespace) -> int:
    from bot.actions.decisions import DecisionError, decide, format_recorded, preview

    with _database(config, args) as db:
        try:
            shown = preview(db, args.slug, args.theme_id)
            print(shown.summary(), file=sys.stderr)
            if not args.yes:
                if not sys.stdin.isatty():
                    raise CommandError("not recorded: confirm with --yes (no terminal to ask on)")
                if input("Record it and tell them? [y/N] ").strip().lower() not in ("y", "yes"):
                    print("Not recorded.")
                    return 1
            result = decide(db, args.slug, args.theme_id, args.text, actor=_actor())
        except DecisionError as error:
            raise CommandError(str(error)) from error
    print(format_recorded(result))
    if result.residents:
        print("The running service sends it within Telegram's limits.", file=sys.stderr)
    return 0


def _login(config: Config, args: argparse.Namespace) -> int:
    from bot.web.auth import NotStaff, create_login_link

    with _database(config, args) as db:
        try:
            link = create_login_link(db, config, args.user_id)
        except NotStaff as error:
            raise CommandError(str(error)) from error
    print(link)
    print("It works once, within 15 minutes.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
