"""Past one machine, on this one: N webhook workers behind HAProxy, one scheduler, PostgreSQL.

    python -m bench.cluster up [--workers 3]         # the deployment, until Ctrl-C
    python -m bench.cluster bench [--workers 1 2 4] [--delay 0 0.05] [--repeat 3]
        [--residents 500] [--rate R]

`up` starts what docs/deployment.md describes (tests/cluster.py: PostgreSQL, the
workers with the scheduler off, one scheduler, HAProxy from
deploy/haproxy.cfg.template on loopback) with the fake Bot API as Telegram, and
prints where each part listens: the web chat works through HAProxy in a browser.

`bench` runs N residents through the example consultation (bench/conversations.py's
residents, closed loop unless --rate) against 1, 2 and 4 workers, and in the same
run against one process in polling mode (the single-process baseline; the ratio is
taken run by run). Per run: updates a second, p50 and p99 from an update to its
reply, CPU per update of the workers (and of HAProxy, and of PostgreSQL's server
processes, which other users of the server also move), PostgreSQL's commits and
WAL bytes per update, and whether every answer was stored once, in order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.conversations import (
    Timing,
    check_answers,
    cpu_seconds,
    free_port,
    percentile,
    resident,
    run_bot,
)
from bench.databases import POSTGRES_URL, drop_database, fresh_database
from conversations.storage.db import make_engine
from tests.cluster import Cluster
from tests.fakes.telegram_api import FakeBotAPI


def postgres_figures() -> dict[str, float]:
    """The server's CPU seconds (every postgres process), commits and WAL position now."""
    cpu = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    cpu += cpu_seconds(int(entry.name))
            except OSError:
                continue
    db = make_engine(POSTGRES_URL)
    try:
        with db.connect() as connection:
            commits = connection.execute(
                text("SELECT sum(xact_commit) FROM pg_stat_database")
            ).scalar_one()
            wal = connection.execute(
                text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")
            ).scalar_one()
    finally:
        db.dispose()
    return {"pg_cpu": cpu, "commits": float(commits), "wal": float(wal)}


async def run_cluster(workers: int, residents: int, delay: float, folder: Path,
                      rate: float | None) -> dict[str, Any]:  # fmt: skip
    db_url = fresh_database("postgres", folder)
    try:
        async with FakeBotAPI(delay=delay, record_calls=False) as fake:
            fake.relax(limits=True)  # the workers' own throughput, as bench.conversations
            cluster = Cluster(folder / f"cluster-{time.time_ns()}", db_url, fake, workers=workers)
            try:
                await cluster.start()
                warm = [fake.user(999_000 + n) for n in range(4 * workers)]
                await asyncio.gather(*(u.send_text("/help") for u in warm))
                await asyncio.gather(*(u.wait_for_messages(1, timeout=60) for u in warm))
                timing = Timing(residents / rate if rate else 0.0)
                pids = [cluster.pids[name] for name in cluster.worker_names]
                lb = cluster._haproxy.pid if cluster._haproxy else 0
                before = [cpu_seconds(pid) for pid in pids], cpu_seconds(lb), postgres_figures()
                own_cpu = time.process_time()
                started = time.perf_counter()
                await asyncio.gather(
                    *(resident(fake.user(10_000 + n), timing, n) for n in range(residents))
                )
                elapsed = time.perf_counter() - started
                own_cpu = time.process_time() - own_cpu
                after = [cpu_seconds(pid) for pid in pids], cpu_seconds(lb), postgres_figures()
            finally:
                await cluster.close()
        updates = len(timing.latencies)
        per_worker = [b - a for a, b in zip(before[0], after[0], strict=True)]
        return {
            "updates_per_second": updates / elapsed,
            "p50_ms": 1000 * percentile(timing.latencies, 0.50),
            "p99_ms": 1000 * percentile(timing.latencies, 0.99),
            "bot_cpu_ms": 1000 * sum(per_worker) / updates,
            "busiest_worker_cpu_share": max(per_worker) / elapsed,
            "load_cpu_ms": 1000 * own_cpu / updates,
            "haproxy_cpu_ms": 1000 * (after[1] - before[1]) / updates,
            "pg_cpu_ms": 1000 * (after[2]["pg_cpu"] - before[2]["pg_cpu"]) / updates,
            "commits_per_update": (after[2]["commits"] - before[2]["commits"]) / updates,
            "wal_bytes_per_update": (after[2]["wal"] - before[2]["wal"]) / updates,
            "answers": check_answers(db_url, residents),
        }
    finally:
        drop_database("postgres", db_url)


async def run_single(residents: int, delay: float, folder: Path,
                     rate: float | None) -> dict[str, Any]:  # fmt: skip
    """The baseline: one `needsfirst run` in polling mode on the same PostgreSQL."""
    db_url = fresh_database("postgres", folder)
    config = folder / f"single-{time.time_ns()}.toml"

    def command(fake: FakeBotAPI, token: str) -> list[str]:
        config.write_text(
            f'[database]\nurl = "{db_url}"\n[telegram]\ntoken = "{token}"\n'
            f'base_url = "{fake.base_url}"\nbase_file_url = "{fake.base_file_url}"\n'
            f"[web]\nport = {free_port()}\n",
            encoding="utf-8",
        )
        return [sys.executable, "-m", "bot.cli", "run", "--config", str(config)]

    try:
        # (PostgreSQL's CPU is not read here: the bot's backends end with it, taking
        # their CPU figures with them, before run_bot returns.)
        result = await run_bot(command, residents, delay, resident, folder / "single.log", rate)
        result["answers"] = check_answers(db_url, residents)  # type: ignore[assignment]
        return result
    finally:
        drop_database("postgres", db_url)


def line(name: str, result: dict[str, Any]) -> str:
    text_ = (
        f"{name:>10}: {result['updates_per_second']:6.0f} updates/s  p50 {result['p50_ms']:5.0f} ms"
        f"  p99 {result['p99_ms']:6.0f} ms  CPU {result['bot_cpu_ms']:.2f} ms/update"
        f"  (fake and residents {result['load_cpu_ms']:.2f} ms/update)"
    )
    if "haproxy_cpu_ms" in result:
        text_ += (
            f"  PostgreSQL {result['pg_cpu_ms']:.2f} ms/update"
            f"  HAProxy {result['haproxy_cpu_ms']:.3f} ms/update"
            f"  busiest worker {100 * result['busiest_worker_cpu_share']:.0f}% of a core"
            f"  commits {result['commits_per_update']:.2f}/update"
            f"  WAL {result['wal_bytes_per_update'] / 1024:.1f} kB/update"
        )
    return text_ + f"  answers {result['answers']}"


async def bench(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="needsfirst-cluster-"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    for delay in args.delay:
        print(f"\nBot API delay {delay * 1000:.0f} ms, {args.residents} residents, "
              + (f"offered {args.rate:.0f} updates/s" if args.rate else "closed loop"), flush=True)  # fmt: skip
        runs: dict[str, list[dict[str, Any]]] = {}
        for attempt in range(args.repeat):
            print(f"run {attempt + 1} (load {os.getloadavg()[0]:.1f})", flush=True)
            single = await run_single(args.residents, delay, folder, args.rate)
            runs.setdefault("1 process", []).append(single)
            print(line("1 process", single), flush=True)
            for workers in args.workers:
                result = await run_cluster(workers, args.residents, delay, folder, args.rate)
                result["ratio"] = result["updates_per_second"] / single["updates_per_second"]
                runs.setdefault(f"{workers} workers", []).append(result)
                print(line(f"{workers} workers", result) + f"  ratio {result['ratio']:.2f}",
                      flush=True)  # fmt: skip
        print(f"\nmedians of {args.repeat} run(s), Bot API delay {delay * 1000:.0f} ms")
        for name, results in runs.items():
            median = {key: statistics.median(r[key] for r in results)
                      for key in results[0] if isinstance(results[0][key], float)}  # fmt: skip
            median["answers"] = ", ".join(str(r["answers"]) for r in results)
            ratio = f"  ratio {median['ratio']:.2f}" if "ratio" in median else ""
            print(line(name, median) + ratio, flush=True)


async def up(args: argparse.Namespace) -> None:
    """The deployment with the fake Bot API as Telegram, until Ctrl-C."""
    folder = Path(tempfile.mkdtemp(prefix="needsfirst-cluster-"))
    db_url = fresh_database("postgres", folder)
    try:
        async with FakeBotAPI(port=args.telegram_port) as fake:
            cluster = Cluster(folder, db_url, fake, workers=args.workers,
                              shared_budget=args.shared_budget)  # fmt: skip
            try:
                await cluster.start()
                print(f"HAProxy:    {cluster.url}/  (web chat {cluster.url}/c/example)")
                for name, port in cluster.ports.items():
                    print(f"{name:<11} http://127.0.0.1:{port}/healthz  (log {folder}/{name}.log)")
                print(f"fake Bot API: {fake.url}, webhook {fake.webhook_url}")
                print(f"HAProxy's admin socket: {cluster.admin_socket}\nCtrl-C stops it all.")
                await asyncio.Event().wait()
            finally:
                await cluster.close()
    finally:
        drop_database("postgres", db_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("up", help="start the deployment and keep it running")
    run.add_argument("--workers", type=int, default=3)
    run.add_argument("--telegram-port", type=int, default=0)
    run.add_argument("--shared-budget", default="", help="a Redis URL ([telegram] shared_budget)")
    measure = commands.add_parser("bench", help="residents against 1, 2, 4 workers")
    measure.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    measure.add_argument("--delay", type=float, nargs="+", default=[0.0, 0.05])
    measure.add_argument("--repeat", type=int, default=3)
    measure.add_argument("--residents", type=int, default=500)
    measure.add_argument("--rate", type=float, default=None)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(up(args) if args.command == "up" else bench(args))


if __name__ == "__main__":
    main()
