"""Benchmark: importing answers gathered elsewhere, 10,000 rows of a CSV file.

A file like a partner's survey export (area, age band, the need in their own words,
who it affects, the difference a change would make) is generated with varied words,
then imported into the example consultation on a fresh migrated database, each run:
read, mapped, every row checked and screened (bot.actions.imports.check_file), then
written as one batch (import_file). The baseline, in the same run, is the screening
alone (the chat's safeguarding and abuse checks on the same texts), the part of an
import that no storage change can shorten. A file of the same size with every row
bad is timed too: one error per row, nothing written. Last, `needsfirst import` runs
once as an operator would, start to finish, in its own process.

    .venv/bin/python -m bench.imports [--rows 10000] [--repeat 3] [--database sqlite|postgres]

PostgreSQL needs NEEDSFIRST_TEST_POSTGRES_URL (each run in a fresh schema).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.imports import check_file, import_file
from conversations.flow.script_toml import load_script
from conversations.screening import moderation, safeguarding
from conversations.storage.db import make_engine, migrate
from conversations.storage.models import Answer, Resident

HEADINGS = ["Ward", "Age band", "need", "Who else does this affect?", "difference"]
MAPPING = {"Ward": "area", "Age band": "age", "Who else does this affect?": "affects"}
AREAS = ["North", "Central", "South", "outside", "Prefer not to say", ""]
AGES = ["Under 18", "18 to 34", "35 to 64", "65 or over", ""]
AFFECTS = ["Mainly me", "family, neighbours", "Older people", "Many people in the area", ""]
SUBJECTS = ["buses", "the GP surgery", "damp and mould", "street lights", "the youth club",
            "rent", "the library", "bin collections", "potholes", "the food bank", "parking",
            "the leisure centre", "childcare", "broadband", "the park"]  # fmt: skip
PROBLEMS = ["is too far away", "closed last year", "never turns up on time", "costs too much",
            "has a waiting list of months", "is not safe after dark", "was cut back",
            "is hard to reach without a car", "is always full", "has no step-free access"]  # fmt: skip
EFFECTS = ["I cannot get to work", "my mum is stuck at home", "the children have nowhere to go",
           "we wait for weeks", "I feel lonely", "people are getting ill", "I lose a day's pay",
           "neighbours have given up asking"]  # fmt: skip
ROOT = Path(__file__).resolve().parent.parent


def generated(rows: int, *, bad: bool = False, seed: int = 20) -> bytes:
    """A survey export: varied words in every row (or, `bad`, an unknown ward in each)."""
    chance = random.Random(seed)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADINGS)
    for n in range(rows):
        subject, problem, effect = (chance.choice(w) for w in (SUBJECTS, PROBLEMS, EFFECTS))
        need = f"{subject.capitalize()} {problem}, so {effect}. Row {n} of our forms."
        change = chance.choice(["", f"If {subject} improved, {effect.split()[0]} would cope."])
        area = "Nowhere-upon-Sea" if bad else chance.choice(AREAS)
        writer.writerow([area, chance.choice(AGES), need, chance.choice(AFFECTS), change])
    return out.getvalue().encode("utf-8-sig")


@contextmanager
def fresh_database(kind: str, directory: Path, n: int) -> Iterator[tuple[Engine, str]]:
    if kind == "sqlite":
        url = f"sqlite:///{directory / f'run-{n}.db'}"
        engine = make_engine(url)
        try:
            migrate(engine)
            load_consultation(engine, EXAMPLE_SCRIPT, actor="bench", open_first_round=True)
            yield engine, url
        finally:
            engine.dispose()
        return
    from tests.conftest import postgres_schema

    with postgres_schema() as url:
        engine = make_engine(url)
        try:
            migrate(engine)
            load_consultation(engine, EXAMPLE_SCRIPT, actor="bench", open_first_round=True)
            yield engine, url
        finally:
            engine.dispose()


def counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        residents = session.exec(select(func.count()).select_from(Resident)).one()
        answers = session.exec(select(func.count()).select_from(Answer)).one()
    return int(residents), int(answers)


def screening_alone(content: bytes) -> tuple[float, float]:
    """The chat's screening of the same texts, with the script's own words as the chat
    passes them, timed alone (the baseline): wall-clock and CPU seconds."""
    reader = csv.reader(io.StringIO(content.decode("utf-8-sig")))
    next(reader)
    texts = [t for row in reader for t in (row[2], row[4]) if t]
    own = safeguarding.own_words(load_script(EXAMPLE_SCRIPT).own_labels())
    started, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        if not safeguarding.assess(text, "en", own).risk:
            moderation.assess_abuse(text)
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    options = parser.parse_args()
    good, bad = generated(options.rows), generated(options.rows, bad=True)
    safeguarding.assess("warm up")  # the classifiers load once per process, as in the service
    moderation.assess_abuse("warm up")
    print(f"{options.rows:,} rows, {len(good) / 2**20:.1f} MiB; {options.database}; Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    checks, writes, totals, cpus, baselines, baseline_cpus, bad_times = ([] for _ in range(7))
    with tempfile.TemporaryDirectory(prefix="needsfirst-bench-imports-") as scratch:
        for n in range(options.repeat):
            wall, cpu = screening_alone(good)
            baselines.append(wall)
            baseline_cpus.append(cpu)
            with fresh_database(options.database, Path(scratch), n) as (engine, _):
                started, cpu_started = time.perf_counter(), time.process_time()
                checked = check_file(engine, "example", good, "survey.csv", source="survey",
                                     mapping=MAPPING)  # fmt: skip
                checked_at = time.perf_counter()
                batch = import_file(engine, checked, actor="bench")
                done = time.perf_counter()
                cpus.append(time.process_time() - cpu_started)
                assert checked.ok and batch.rows == options.rows, checked.plan.errors[:3]
                assert counts(engine)[0] == options.rows
                checks.append(checked_at - started)
                writes.append(done - checked_at)
                totals.append(done - started)
                started = time.perf_counter()
                refused = check_file(engine, "example", bad, "bad.csv", source="survey",
                                     mapping=MAPPING)  # fmt: skip
                bad_times.append(time.perf_counter() - started)
                assert len(refused.plan.errors) == options.rows == len(refused.plan.bad_rows)
                assert counts(engine)[0] == options.rows  # the bad file wrote nothing
            print(f"run {n + 1}: import {totals[-1]:.1f} s, CPU {cpus[-1]:.1f} s (check and "
                  f"screen {checks[-1]:.1f} s, write {writes[-1]:.2f} s); screening alone "
                  f"{baselines[-1]:.1f} s, CPU {baseline_cpus[-1]:.1f} s; bad file "
                  f"{bad_times[-1]:.1f} s, {options.rows:,} errors; load "
                  f"{os.getloadavg()[0]:.1f}")  # fmt: skip
        with fresh_database(options.database, Path(scratch), 99) as (engine, url):
            cli = cli_import(Path(scratch), url, good)
            assert counts(engine)[0] == options.rows
    median = statistics.median
    print(f"median of {options.repeat}: import {median(totals):.1f} s, CPU {median(cpus):.1f} s "
          f"(check and screen {median(checks):.1f} s, write {median(writes):.2f} s); "
          f"screening alone {median(baselines):.1f} s, CPU {median(baseline_cpus):.1f} s; "
          f"bad file {median(bad_times):.1f} s")  # fmt: skip
    print(f"`needsfirst import` in its own process, start to finish: {cli:.1f} s")


def cli_import(directory: Path, url: str, content: bytes) -> float:
    """`needsfirst import` as an operator runs it: wall-clock seconds."""
    config = directory / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    survey = directory / "survey.csv"
    survey.write_bytes(content)
    maps = [arg for heading, step in MAPPING.items() for arg in ("--map", f"{heading}={step}")]
    command = [sys.executable, "-m", "bot.cli", "import", "example", str(survey),
               "--source", "survey", *maps, "--config", str(config)]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"needsfirst import: exit {done.returncode}\n{done.stderr[-2000:]}")
    return elapsed


if __name__ == "__main__":
    main()
