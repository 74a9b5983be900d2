"""`needsfirst consultation|round|links|status|priorities`: consultations and their rounds."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.actions.consultations import load_consultation
from bot.actions.round_times import in_utc
from bot.actions.staff_access import public_base_url
from bot.cli.arguments import moment
from bot.cli.console import actor, database
from bot.config import Config
from conversations.staff.coverage import format_status
from conversations.staff.rounds import ROUND_KINDS, Rounds, partner_links
from conversations.storage import store


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """The commands about consultations, rounds and partners' links."""
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


def _consultation_load(config: Config, args: argparse.Namespace) -> int:
    with database(config, args) as db:
        script, _ = load_consultation(db, args.script, actor=actor())
    print(script.slug)
    return 0


def _consultation_list(config: Config, args: argparse.Namespace) -> int:
    with database(config, args) as db, Session(db) as session:
        for consultation in store.all_consultations(session=session):
            assert consultation.id is not None
            latest = store.current_round(session=session, consultation_id=consultation.id)
            state = f"round {latest.number} {latest.status}" if latest else "no rounds"
            print(f"{consultation.slug}\t{state}\t{consultation.title}")
    return 0


def _round(config: Config, args: argparse.Namespace) -> int:
    with database(config, args) as db:
        rounds = Rounds(db)
        if args.action == "open":
            from bot.actions.priorities import open_round

            round_ = open_round(db, args.slug, kind=args.kind, actor=actor())
        else:
            round_ = rounds.close(args.slug, actor=actor())
    kind = "" if round_.kind == "needs" else f" ({round_.kind})"
    print(f"{args.slug}: round {round_.number}{kind} {round_.status}")
    return 0


def _priorities(config: Config, args: argparse.Namespace) -> int:
    from bot.actions.priorities import format_priorities, priorities_report

    with database(config, args) as db:
        report = priorities_report(db, args.slug)
    print(
        json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
        if args.format == "json"
        else format_priorities(report)
    )
    return 0


def _round_schedule(config: Config, args: argparse.Namespace) -> int:
    zone = ZoneInfo(config.digest.timezone)
    with database(config, args) as db:
        round_ = Rounds(db).schedule(
            args.slug,
            actor=actor(),
            opens_at=in_utc(args.opens, zone),
            closes_at=in_utc(args.closes, zone),
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
    with database(config, args) as db, Session(db) as session:
        store.require_consultation(session=session, slug=args.slug)
    links = partner_links(
        slug=args.slug,
        source=args.source,
        bot_username=config.telegram.bot_username,
        public_url=public_base_url(config),
        whatsapp_number=config.whatsapp.display_number,
    )
    for channel, link in links.items():
        print(f"{channel}: {link}")
    if "telegram" not in links:
        print("(set [telegram] bot_username to print the Telegram deep link too)", file=sys.stderr)
    return 0


def _status(config: Config, args: argparse.Namespace) -> int:
    with database(config, args) as db:
        report = Rounds(db).status(args.slug)
    print(
        json.dumps(report.to_dict(), indent=2) if args.format == "json" else format_status(report)
    )
    return 0
