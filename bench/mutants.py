"""Mutation check: would the tests notice if a rule that guards residents or staff broke?

Each mutant changes one line of the code that keeps residents' details private,
asks consent, keeps staff's powers to staff and so on. The check copies the tree
to a temporary folder, applies one mutant there, and runs the tests that guard
that rule; a mutant is caught when they fail. The unchanged tree must pass the
same tests first, or the score would mean nothing.

    .venv/bin/python -m bench.mutants [--only NAME ...]

tests/test_mutants.py runs it in the suite (marked slow); docs/benchmarks.md has the score.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("analysis", "bot", "conversations", "tests", "bench", "pyproject.toml")


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    original: str  # must occur exactly once in the file
    mutated: str
    tests: tuple[str, ...]  # pytest node ids that guard the rule


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "10-digit phone numbers no longer scrubbed",
        "analysis/personal_details/scrub.py",
        'if raw[0] in "+(0" and len(digits) >= 10:',
        'if raw[0] in "+(0" and len(digits) >= 11:',
        ("tests/test_guarding_rules.py::test_ten_digit_phone_numbers_are_scrubbed",),
    ),
    Mutant(
        "consent not asked again on the fast path after the consent text changes",
        "conversations/residents/policy.py",
        'state.phase == "steps" and state.consent_version != script.consent.version',
        'state.phase == "steps" and False',
        (
            "tests/test_guarding_rules.py::"
            "test_the_fast_path_asks_consent_again_after_the_consent_text_changes",
        ),
    ),
    Mutant(
        "a theme merge leaves duplicate assignments",
        "conversations/staff/theme_edits.py",
        "    _drop_duplicate_assignments(session, run.id, into_id)\n",
        "    pass\n",
        ("tests/test_guarding_rules.py::test_a_merge_leaves_each_answer_in_the_theme_once",),
    ),
    Mutant(
        "retention drops residents whose round is still open",
        "conversations/storage/retention.py",
        '.where((col(Round.status) != "closed") | (col(Round.closed_at) >= closed_before))',
        ".where(col(Round.closed_at) >= closed_before)",
        ("tests/test_guarding_rules.py::test_retention_keeps_residents_whose_round_is_still_open",),
    ),
    Mutant(
        "reminders sent to unreachable residents",
        "conversations/staff/reminders.py",
        "            col(Resident.unreachable).is_(False),\n",
        "",
        ("tests/test_jobs.py::test_no_reminder_reaches_a_resident_the_bot_cannot_reach",),
    ),
    Mutant(
        "the dashboard export no longer scrubbed",
        "bot/web/dashboard.py",
        "session=session, consultation=consultation, script=script, scrub=scrub",
        "session=session, consultation=consultation, script=script, scrub=None",
        ("tests/test_guarding_rules.py::test_the_dashboard_export_is_scrubbed",),
    ),
    Mutant(
        "the staff button handler's facilitator role check removed",
        "bot/telegram/staff.py",
        "allowed = self.roster.roles(query.from_user.id) & FACILITATORS",
        "allowed = self.roster.roles(query.from_user.id)",
        ("tests/test_staff_commands.py::test_broadcast_preview_confirm_and_cancel",),
    ),
    Mutant(
        "the webhook takes updates without the secret token",
        "bot/web/webhook.py",
        "if not secret or not hmac.compare_digest(",
        "if False and not hmac.compare_digest(",
        ("tests/test_web_security.py::test_the_webhook_needs_the_secret",),
    ),
    Mutant(
        "staff commands' role check removed",
        "bot/telegram/staff.py",
        "            if not self.roster.roles(user.id) & command.roles:\n",
        "            if False:\n",
        (
            "tests/test_staff_commands.py::"
            "test_a_stranger_trying_every_staff_command_changes_nothing",
        ),
    ),
    Mutant(
        "reminders paced no more (the fake's flood limit then refuses some)",
        "bot/telegram/paced_send.py",
        "            async with budget.sending(chat_id):\n",
        "            if True:\n",
        ("tests/test_jobs.py::test_reminders_are_paced_and_wait_out_telegrams_flood_limit",),
    ),
)


def _copy_tree(into: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, into / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(source, into / name)


def _apply(tree: Path, mutant: Mutant) -> None:
    target = tree / mutant.path
    text = target.read_text(encoding="utf-8")
    if text.count(mutant.original) != 1:
        raise SystemExit(f"{mutant.name}: the line to change is not in {mutant.path} once")
    target.write_text(text.replace(mutant.original, mutant.mutated), encoding="utf-8")


def _tests_pass(tree: Path, tests: tuple[str, ...]) -> bool:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:xdist", "-p", "no:cacheprovider",
         "-p", "no:randomly", *tests],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode not in (0, 1):  # 1: tests failed; anything else: could not run
        raise SystemExit(f"pytest could not run {tests}:\n{result.stdout}\n{result.stderr}")
    return result.returncode == 0


def run(mutants: tuple[Mutant, ...]) -> list[tuple[Mutant, bool]]:
    """(mutant, caught) for each; the unchanged tree must pass every mutant's tests."""
    with tempfile.TemporaryDirectory(prefix="needsfirst-mutants-") as scratch:
        clean = Path(scratch) / "clean"
        _copy_tree(clean)
        everything = tuple(dict.fromkeys(t for m in mutants for t in m.tests))
        if not _tests_pass(clean, everything):
            raise SystemExit("the unchanged tree fails the mutants' tests: fix that first")
        results = []
        for number, mutant in enumerate(mutants):
            tree = Path(scratch) / f"mutant-{number}"
            _copy_tree(tree)
            _apply(tree, mutant)
            results.append((mutant, not _tests_pass(tree, mutant.tests)))
            shutil.rmtree(tree)
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=[], help="mutants whose name has this")
    args = parser.parse_args(argv)
    chosen = tuple(m for m in MUTANTS if not args.only or any(o in m.name for o in args.only))
    started = time.monotonic()
    results = run(chosen)
    for mutant, caught in results:
        print(f"{'caught' if caught else 'MISSED'}  {mutant.name}  ({mutant.path})")
    caught_count = sum(caught for _, caught in results)
    print(f"score: {caught_count}/{len(results)} caught in {time.monotonic() - started:.0f} s")
    return 0 if caught_count == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
