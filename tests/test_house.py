"""The house's rules, checked on every run: the import direction and small modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "conversations", "analysis")
MOST_LINES = 400


def test_imports_keep_the_contracts_in_pyproject() -> None:
    """import-linter: the flow is pure, actions carry no transport, channels stay apart..."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_is_over_400_lines() -> None:
    """One job per module: a module past the limit is two modules (migrations aside)."""
    long = {
        str(path.relative_to(ROOT)): lines
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MOST_LINES
    }
    assert long == {}, f"modules over {MOST_LINES} lines: {long}"
