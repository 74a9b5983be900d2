"""`needsfirst broadcast|decide|decision`: invite residents, tell them what was decided,
and keep each decision's status up to date.

broadcast and decide show what will be sent and ask before sending (or take --yes);
`decision status` sends nothing (the public results page shows it), so it does not ask."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.cli.arguments import record_id_argument, whole_number_argument
from bot.cli.console import CommandError, actor, confirmed, database
from bot.config import Config
from conversations.staff import broadcasts
from conversations.storage import store


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """The commands that send residents a message."""
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

    decision = commands.add_parser(
        "decision", aliases=["decisions"], parents=[common],
        help="list a consultation's decisions, or set where one stands (its status)",
    )  # fmt: skip
    actions = decision.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list", parents=[common], help="the decisions recorded, with their status"
    )
    listing.add_argument("slug")
    listing.add_argument("--format", choices=["text", "json"], default="text")
    listing.set_defaults(handler=_decision_list)
    status = actions.add_parser(
        "status", parents=[common],
        help="set a decision's status (shown on the public results page; nobody is messaged)",
    )  # fmt: skip
    status.add_argument("slug")
    status.add_argument("decision_id", type=record_id_argument)
    status.add_argument("status", help="agreed, under_way, done or not_going_ahead")
    status.add_argument(
        "--note", default=None,
        help="a short public note, up to 500 characters (none: any old note is removed)",
    )  # fmt: skip
    status.set_defaults(handler=_decision_status)


def _broadcast(config: Config, args: argparse.Namespace) -> int:
    if args.slug == "status":
        if args.broadcast_id is None:
            raise CommandError("usage: needsfirst broadcast status ID")
        with database(config, args) as db, Session(db) as session:
            print(
                broadcasts.format_progress(
                    broadcasts.progress(
                        session=session,
                        broadcast_id=args.broadcast_id,
                        whatsapp_daily_limit=config.whatsapp.limit_in_force,
                    )
                )
            )
        return 0
    if not args.message:
        raise CommandError("give the invitation's text with --message")
    group = broadcasts.parse_group(args.group)
    with database(config, args) as db:
        with Session(db, expire_on_commit=False) as session, session.begin():
            draft, count = broadcasts.draft(
                session=session, slug=args.slug, message=args.message, created_by=actor(),
                group=group, window_minutes=args.window,
            )  # fmt: skip
            consultation = store.require_consultation(session=session, slug=args.slug)
            channels = broadcasts.per_channel(
                broadcasts.reach(session=session, consultation=consultation, group=group)
            )
        assert draft.id is not None
        note = broadcasts.whatsapp_note(channels, "invitation",
                                        template=config.whatsapp.template("invitation"))  # fmt: skip
        print(f"Broadcast {draft.id} to {count} residents of {args.slug}"
              + (f" in {group[0]}={group[1]}" if group else "")
              + " (" + ", ".join(f"{c}: {n}" for c, n in channels.items()) + "):\n"
              + (f"{note}\n" if note else ""))  # fmt: skip
        print("    " + args.message.replace("\n", "\n    ") + "\n")
        if not args.yes and not confirmed(
            "Send it?", "not sent: confirm with --yes (no terminal to ask on)"
        ):
            print("Not sent.")
            return 1
        with Session(db) as session, session.begin():
            broadcasts.queue(session=session, broadcast_id=draft.id, actor=actor())
    print(draft.id)
    return 0


def _decide(config: Config, args: argparse.Namespace) -> int:
    from bot.actions.decisions import DecisionError, decide, format_recorded, preview

    with database(config, args) as db:
        try:
            shown = preview(db, args.slug, args.theme_id, config.whatsapp)
            print(shown.summary(), file=sys.stderr)
            if not args.yes and not confirmed(
                "Record it and tell them?",
                "not recorded: confirm with --yes (no terminal to ask on)",
            ):
                print("Not recorded.")
                return 1
            result = decide(db, args.slug, args.theme_id, args.text, actor=actor())
        except DecisionError as error:
            raise CommandError(str(error)) from error
    print(format_recorded(result))
    if result.residents:
        print("The running service sends it within each channel's limits.", file=sys.stderr)
    return 0


def _decision_list(config: Config, args: argparse.Namespace) -> int:
    from bot.actions.decision_status import decisions_of, format_listed

    with database(config, args) as db:
        listed = decisions_of(db, args.slug)
    if args.format == "json":
        print(json.dumps([d.to_dict() for d in listed], indent=2, ensure_ascii=False))
    else:
        print(format_listed(listed, ZoneInfo(config.digest.timezone)))
    return 0


def _decision_status(config: Config, args: argparse.Namespace) -> int:
    from bot.actions.decision_status import set_status
    from bot.actions.decisions import DecisionError

    with database(config, args) as db:
        try:
            change = set_status(
                db, args.slug, args.decision_id, args.status, note=args.note, actor=actor()
            )
        except DecisionError as error:
            raise CommandError(str(error)) from error
    print(change.summary())
    return 0
