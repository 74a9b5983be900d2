"""`needsfirst analyse|theme ...`: finding themes, and officers' review and coding of them.

analyse (any CSV, or a consultation's stored answers); theme list (text or JSON),
accept, rename, merge, split; answers (read a theme's answers, paged and searchable,
or the answers not yet themed); code (move an answer, add or take off a theme, or
mark it not a need). Every change is audited, as on the dashboard.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.cli.arguments import out_file, record_id_argument, whole_number_argument
from bot.cli.console import CommandError, actor, database
from bot.cli.terminal import private_file
from bot.config import Config
from conversations.staff import codebook, theme_edits, themes
from conversations.staff.coded_answers import answers_page, theme_list
from conversations.storage import store

PAGE = 20


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `analyse` command, and the `theme` command with its actions."""
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
    theme.set_defaults(handler=_theme)


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
            with database(config, args) as db:
                run = analyse_consultation(
                    db,
                    args.consultation,
                    actor=actor(),
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
    with database(config, args) as db:
        if args.action == "split":
            from bot.actions.analysis_runs import split_stored_theme

            split = split_stored_theme(db, args.slug, args.theme_id, actor=actor())
            print(split.summary() + " Both parts are in the codebook now.", file=sys.stderr)
        _edit(db, args, actor())
    return 0


def _edit(db: Engine, args: argparse.Namespace, operator: str) -> None:
    """Carry out a theme action (after a split, which needs the analysis), and list them."""
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug=args.slug)
        assert consultation.id is not None
        if args.action == "answers":
            _print_answers(session, consultation.id, args)
            return
        if args.action == "code":
            _code(session, consultation, args, operator)
        elif args.action == "accept":
            theme_edits.confirm(
                session=session, slug=args.slug, theme_id=args.theme_id, actor=operator
            )
        elif args.action == "rename":
            theme_edits.rename(session=session, slug=args.slug, theme_id=args.theme_id,
                          label=args.label, actor=operator)  # fmt: skip
        elif args.action == "merge":
            theme_edits.merge(session=session, slug=args.slug, theme_id=args.theme_id,
                         into_id=args.into_id, actor=operator)  # fmt: skip
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


def _code(session: Session, consultation: Any, args: argparse.Namespace, operator: str) -> None:
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
                                     theme_id=theme_id, actor=operator)  # fmt: skip
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
