"""The `needsfirst` command line as an operator runs it: in its own process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def needsfirst(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
