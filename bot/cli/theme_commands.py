"""`needsfirst theme ...`: officers' review and coding of themes from the command line.

list (text or JSON), accept, rename, merge, split; answers (read a theme's answers,
paged and searchable, or the answers not yet themed); code (move an answer, add or
take off a theme, or mark it not a need). Every change is audited, as on the
dashboard.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.cli.arguments import record_id_argument, whole_number_argument
from conversations.staff import codebook, theme_edits, themes
from conversations.staff.coded_answers import answers_page, theme_list
from conversations.storage import store

PAGE = 20


def add_parser(commands: Any, common: argparse.ArgumentParser,
               handler: Callable[..., int]) -> None:  # fmt: skip
    """The `theme` command and its actions."""
    theme = commands.add_parser(
        "theme", aliases=["themes"], parents=[common],
        help="review and code a consultation's themes (list, accept, rename, merge, split, "
        "answers, code)",
    )  # fmt: skip
    actions = theme.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="the current themes")
    listing.add_argument("slug")
    listing.add_argument("--format", choices=["text", "json"], default="text")
    accept = actions.add_parser(
        "accept", parents=[common], help="accept a proposed theme into the codebook as it is"
    )
    accept.add_argument("slug")
    accept.add_argument("theme_id", type=record_id_argument)
    rename = actions.add_parser("rename", parents=[common], help="give a theme a name")
    rename.add_argument("slug")
    rename.add_argument("theme_id", type=record_id_argument)
    rename.add_argument("label")
    merge = actions.add_parser("merge", parents=[common], help="fold one theme into another")
    merge.add_argument("slug")
    merge.add_argument("theme_id", type=record_id_argument)
    merge.add_argument("into_id", type=record_id_argument)
    split = actions.add_parser(
        "split", parents=[common], help="divide a theme in two (both parts join the codebook)"
    )
    split.add_argument("slug")
    split.add_argument("theme_id", type=record_id_argument)
    answers = actions.add_parser(
        "answers", parents=[common], help="read a theme's answers (or 'none': not yet themed)"
    )
    answers.add_argument("slug")
    answers.add_argument("theme_id", help="a theme id, or 'none' for answers not yet themed")
    answers.add_argument("--search", default="", help="only answers containing these words")
    answers.add_argument("--page", type=whole_number_argument, default=1)
    code = actions.add_parser(
        "code", parents=[common],
        help="code one answer by hand: move it, add or take off a theme, or not a need",
    )  # fmt: skip
    code.add_argument("slug")
    code.add_argument("answer_id", type=record_id_argument)
    how = code.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--to", type=record_id_argument, metavar="THEME_ID", help="move it to this theme"
    )
    how.add_argument(
        "--add", type=record_id_argument, metavar="THEME_ID", help="add this theme too"
    )
    how.add_argument(
        "--remove", type=record_id_argument, metavar="THEME_ID", help="take this theme off"
    )
    how.add_argument("--not-a-need", action="store_true", help="it states no need")
    theme.set_defaults(handler=handler)


def run(db: Engine, args: argparse.Namespace, actor: str) -> None:
    """Carry out a theme action (split is the caller's: it needs the analysis)."""
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug=args.slug)
        assert consultation.id is not None
        if args.action == "answers":
            _print_answers(session, consultation.id, args)
            return
        if args.action == "code":
            _code(session, consultation, args, actor)
        elif args.action == "accept":
            theme_edits.confirm(
                session=session, slug=args.slug, theme_id=args.theme_id, actor=actor
            )
        elif args.action == "rename":
            theme_edits.rename(session=session, slug=args.slug, theme_id=args.theme_id,
                               label=args.label, actor=actor)  # fmt: skip
        elif args.action == "merge":
            theme_edits.merge(session=session, slug=args.slug, theme_id=args.theme_id,
                              into_id=args.into_id, actor=actor)  # fmt: skip
        listed = theme_list(session=session, consultation_id=consultation.id)
        if listed is None:
            raise theme_edits.ThemeEditError(
                f"'{args.slug}' has not been analysed yet "
                f"(needsfirst analyse --consultation {args.slug})"
            )
    if getattr(args, "format", "text") == "json":
        print(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    for entry in listed:
        mark = "reviewed" if entry["reviewed"] else "proposed"
        print(f"{entry['id']:>4}  {entry['size']:>6}  {mark:<8}  {entry['name']}")


def _code(session: Session, consultation: Any, args: argparse.Namespace, actor: str) -> None:
    run = themes.latest_run(session=session, consultation_id=consultation.id)
    if run is None:
        raise theme_edits.ThemeEditError(f"'{args.slug}' has not been analysed yet")
    if args.not_a_need:
        action, theme_id = "not-a-need", None
    elif args.to is not None:
        action, theme_id = "move", args.to
    elif args.add is not None:
        action, theme_id = "add", args.add
    else:
        action, theme_id = "remove", args.remove
    try:
        coded = codebook.code_answer(session=session, consultation=consultation, run=run,
                                     answer_id=args.answer_id, action=action,
                                     theme_id=theme_id, actor=actor)  # fmt: skip
    except codebook.CodingError as error:
        raise theme_edits.ThemeEditError(str(error)) from error
    after = ", ".join(str(t) for t in coded.after) or "not a need"
    print(f"answer {coded.answer_id}: {after} (kept on every later run)", file=sys.stderr)


def _print_answers(session: Session, consultation_id: int, args: argparse.Namespace) -> None:
    theme_id = None if args.theme_id.lower() in ("none", "unthemed") else int(args.theme_id)
    page = answers_page(session=session, consultation_id=consultation_id,
                               theme_id=theme_id, search=args.search,
                               page=max(1, args.page), per_page=PAGE)  # fmt: skip
    for answer in page.answers:
        coded = ",".join(str(t) for t in answer.themes) or "-"
        hand = " (by hand)" if answer.by_hand else ""
        text = " ".join(answer.text.split())
        print(f"{answer.answer_id:>7}  [{coded}]{hand}  {text}")
    print(
        f"page {page.page} of {page.pages}: {page.total} answers"
        + (f" matching {args.search!r}" if args.search else ""),
        file=sys.stderr,
    )
