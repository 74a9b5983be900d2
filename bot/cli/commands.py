"""The `needsfirst` command line: the parser and its commands (docs/facilitator-guide.md).

The commands are grouped by subject: round_commands.py (consultations, rounds, links,
status, priorities), theme_commands.py (analyse, theme), outreach_commands.py
(broadcast, decide, decision), report_commands.py (export, digest) and import_commands.py
(import); `run` and `login` are here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from contextlib import redirect_stdout

from bot import logs
from bot.actions import answer_vectors
from bot.cli import (
    doctor_commands,
    import_commands,
    outreach_commands,
    pack_commands,
    report_commands,
    round_commands,
    theme_commands,
)
from bot.cli.arguments import telegram_id_argument
from bot.cli.console import CommandError, database
from bot.cli.terminal import SafeOutput
from bot.config import Config, ConfigError
from bot.config_loading import load_config
from conversations.flow.script import ScriptError
from conversations.staff import broadcasts, theme_edits
from conversations.storage import store


def main(argv: Sequence[str] | None = None) -> int:
    # python-telegram-bot warns while building a 429's RetryAfter unless this is set.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    parser = _parser()
    args = parser.parse_args(argv)
    logs.configure(args.command)
    try:
        # The doctor reads the configuration itself: a bad one is one of its findings.
        config = Config() if args.command == "doctor" else load_config(args.config)
        logs.use_format(config.logging.format)
        answer_vectors.use_model(config.themes.embedding_model)
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
    round_commands.add_parsers(commands, common)
    outreach_commands.add_parsers(commands, common)
    theme_commands.add_parsers(commands, common)
    report_commands.add_parsers(commands, common)
    pack_commands.add_parsers(commands, common)
    doctor_commands.add_parsers(commands, common)
    import_commands.add_parsers(commands, common)
    login = commands.add_parser(
        "login", parents=[common], help="print a one-time sign-in link to the web dashboard"
    )
    login.add_argument(
        "user_id", type=telegram_id_argument, help="a staff member's Telegram user id, from [staff]"
    )
    login.set_defaults(handler=_login)
    return parser


def _run(config: Config, args: argparse.Namespace) -> int:
    from bot.app import run

    asyncio.run(run(config))
    return 0


def _login(config: Config, args: argparse.Namespace) -> int:
    from bot.actions.staff_access import NotStaff, create_login_link

    with database(config, args) as db:
        try:
            link = create_login_link(db, config, args.user_id)
        except NotStaff as error:
            raise CommandError(str(error)) from error
    print(link)
    print("It works once, within 15 minutes.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
