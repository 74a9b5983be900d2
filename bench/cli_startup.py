"""Benchmark: how long `needsfirst` commands take, start to finish, as an operator runs them.

Each command runs in a fresh process (`python -m bot.cli ...`) against a SQLite database
that already holds the example consultation (`round open` opens its next round, then it is
closed again untimed), so every start is what an operator sees on a running deployment:
the schema is migrated, and migrating only checks that.
`run` is timed from the process's start to its "is running" line (web only, Telegram off):
that is a restart's downtime. The baseline is the interpreter alone (`python -c pass`).

    .venv/bin/python -m bench.cli_startup [--repeat 5] [--tree DIR]

`--tree` times another checkout's code with this interpreter and its packages (the
command runs from that directory, so its `bot` package is the one imported): before and
after a change, in one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (name, arguments, exit status it must end with)
COMMANDS: list[tuple[str, list[str], int]] = [
    ("--help", ["--help"], 0),
    ("round open", ["round", "open", "example"], 0),  # closed again after, untimed
    ("status", ["status", "example"], 0),
    ("export", ["export", "example", "--format", "csv"], 0),
    ("login", ["login", "1001"], 0),
    ("analyse (bad CSV)", ["analyse", "{bad_csv}"], 2),
]


def _seconds(tree: Path, args: list[str], *, status: int = 0, until: str | None = None) -> float:
    """Wall-clock seconds for one command in a fresh process (or until a line appears)."""
    command = [sys.executable, "-m", "bot.cli", *args]
    started = time.perf_counter()
    if until is None:
        done = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != status:
            raise SystemExit(f"{' '.join(args)}: exit {done.returncode}\n{done.stderr}")
        return elapsed
    process = subprocess.Popen(
        command, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if until in line:
            break
    elapsed = time.perf_counter() - started
    process.terminate()
    process.wait(timeout=30)
    return elapsed


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to time")
    options = parser.parse_args()
    tree = options.tree.resolve()
    with tempfile.TemporaryDirectory(prefix="needsfirst-bench-cli-") as scratch:
        directory = Path(scratch)
        config = directory / "config.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{directory / "needsfirst.db"}"\n'
            f"[web]\nport = {_free_port()}\n[staff]\nfacilitators = [1001]\n",
            encoding="utf-8",
        )
        bad_csv = directory / "bad.csv"
        bad_csv.write_text("answer\nthe buses\n", encoding="utf-8")
        common = ["--config", str(config)]
        script = str(ROOT / "conversations" / "flow" / "scripts" / "example.toml")
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "consultation", "load", script, *common],
            cwd=tree, check=True, capture_output=True,
        )  # fmt: skip
        timings: dict[str, list[float]] = {"python -c pass": []}
        for _ in range(options.repeat):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            timings["python -c pass"].append(time.perf_counter() - started)
            for name, args, status in COMMANDS:
                filled = [a.format(bad_csv=bad_csv) for a in args]
                seconds = _seconds(tree, [*filled, *common], status=status)
                timings.setdefault(name, []).append(seconds)
                if name == "round open":
                    _seconds(tree, ["round", "close", "example", *common])
            run = _seconds(tree, ["run", *common], until="is running")
            timings.setdefault("run (until serving)", []).append(run)
    load = os.getloadavg()
    print(f"tree {tree}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")  # fmt: skip
    baseline = statistics.median(timings["python -c pass"])
    for name, values in timings.items():
        median = statistics.median(values)
        runs = " ".join(f"{v:.2f}" for v in values)
        print(f"{name:<22} median {median:6.2f} s  ({median / baseline:5.1f}x python)  [{runs}]")


if __name__ == "__main__":
    main()
