"""`needsfirst import`: answers gathered elsewhere (paper forms, a partner's survey,
another platform's export), imported into a consultation under a named source.

    needsfirst import SLUG FILE --source NAME [--map "COLUMN=QUESTION" ...] [--round N]
                     [--dry-run] [--skip-bad-rows]
    needsfirst import list SLUG
    needsfirst import remove BATCH_ID [--yes]

The preview and every error are printed first; with any bad row nothing is written
and the command exits 2 (--skip-bad-rows imports the good rows, naming the others).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.cli.arguments import record_id_argument, whole_number_argument
from bot.cli.console import CommandError, actor, confirmed, database
from bot.config import Config

MAX_FILE_BYTES = 200 * 1024 * 1024  # far past any survey; a wrong file is refused early


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    importing = commands.add_parser(
        "import", parents=[common], help="import answers gathered elsewhere (CSV or XLSX)",
        usage="needsfirst import SLUG FILE --source NAME [--map COLUMN=QUESTION ...] "
              "[--round N] [--dry-run] [--skip-bad-rows]\n"
              "       needsfirst import list SLUG\n"
              "       needsfirst import remove BATCH_ID [--yes]",
    )  # fmt: skip
    importing.add_argument("target", metavar="SLUG|list|remove")
    importing.add_argument("file", metavar="FILE|SLUG|BATCH_ID")
    importing.add_argument("--source", help="who gathered the answers, e.g. tenants-association")
    importing.add_argument(
        "--map", action="append", default=[], metavar="COLUMN=QUESTION",
        help="map a column to a question id (COLUMN= leaves it out); by default a column "
             "headed with a question's id or its words maps to it",
    )  # fmt: skip
    importing.add_argument("--round", type=whole_number_argument, default=None,
                           help="the round's number (default: the current round)")  # fmt: skip
    importing.add_argument("--dry-run", action="store_true",
                           help="print the preview and errors; write nothing")  # fmt: skip
    importing.add_argument("--skip-bad-rows", action="store_true",
                           help="import the good rows, naming the bad ones (not all or none)")  # fmt: skip
    importing.add_argument("--yes", action="store_true", help="remove without asking")
    importing.set_defaults(handler=_import)


def _import(config: Config, args: argparse.Namespace) -> int:
    if args.target == "list":
        return _list(config, args, args.file)
    if args.target == "remove":
        try:
            batch_id = record_id_argument(args.file)
        except argparse.ArgumentTypeError as error:
            raise CommandError(str(error)) from None
        return _remove(config, args, batch_id)
    return _file(config, args)


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, equals, question = pair.partition("=")
        if not equals or not column.strip():
            raise CommandError(
                f"--map takes COLUMN=QUESTION (or COLUMN= to leave it out): {pair!r}"
            )
        mapping[column.strip()] = question.strip()
    return mapping


def _file(config: Config, args: argparse.Namespace) -> int:
    # Imported here: the screening's classifiers take seconds to import, and every
    # other command would wait for them (docs/benchmarks.md, command line start-up).
    from bot.actions.imports import ImportFailure, check_file, import_file, summary_lines

    if not args.source:
        raise CommandError("say who gathered the answers: --source NAME (e.g. tenants-association)")
    path = Path(args.file).expanduser()
    if not path.is_file():
        raise CommandError(f"there is no file {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise CommandError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MB: split it")
    content = path.read_bytes()
    mapping = _mapping(args.map)
    with database(config, args) as db:
        try:
            checked = check_file(db, args.target, content, path.name, source=args.source,
                                 mapping=mapping, round_number=args.round)  # fmt: skip
        except ImportFailure as error:
            raise CommandError(str(error)) from None
        for line in summary_lines(checked):
            print(line, file=sys.stderr if line.startswith("error:") else sys.stdout)
        plan = checked.plan
        if args.dry_run:
            print("dry run: nothing was written")
            return 2 if plan.errors else 0
        if plan.errors and not args.skip_bad_rows:
            print(f"nothing was imported: {len(plan.bad_rows)} row(s) cannot be read "
                  "(fix them, or import the rest with --skip-bad-rows)", file=sys.stderr)  # fmt: skip
            return 2
        try:
            batch = import_file(db, checked, actor=actor(), skip_bad_rows=args.skip_bad_rows)
        except ImportFailure as error:
            raise CommandError(str(error)) from None
    if plan.bad_rows:
        print("skipped rows: " + ", ".join(map(str, plan.bad_rows)), file=sys.stderr)
    print(f"imported batch {batch.id}: {batch.rows} row(s), {batch.answers} answer(s) "
          f"from '{batch.source}'")  # fmt: skip
    return 0


def _list(config: Config, args: argparse.Namespace, slug: str) -> int:
    from bot.actions.imports import list_batches

    with database(config, args) as db:
        found = list_batches(db, slug)
    for summary in found:
        batch = summary.batch
        removed = f"\tremoved {batch.removed_at:%Y-%m-%d %H:%M}" if batch.removed_at else ""
        print(f"{batch.id}\t{batch.created_at:%Y-%m-%d %H:%M}\tround {summary.round}\t"
              f"{batch.source}\t{batch.rows} rows\t{batch.answers} answers\t"
              f"{summary.flags} flags\t{batch.file_name}\t{batch.imported_by}{removed}")  # fmt: skip
    if not found:
        print(f"nothing imported into '{slug}' yet", file=sys.stderr)
    return 0


def _remove(config: Config, args: argparse.Namespace, batch_id: int) -> int:
    from bot.actions.imports import remove_batch

    if not args.yes and not confirmed(
        f"Remove import batch {batch_id}: its residents and all their answers?",
        "not removed: confirm with --yes (no terminal to ask on)",
    ):
        print("not removed", file=sys.stderr)
        return 1
    with database(config, args) as db:
        removed = remove_batch(db, batch_id, actor=actor())
    print(f"removed batch {batch_id}: {removed.residents} resident(s), {removed.answers} answer(s)")
    if removed.flags_kept:
        print(f"{removed.flags_kept} safeguarding flag(s) no lead has closed stay until one does",
              file=sys.stderr)  # fmt: skip
    return 0
