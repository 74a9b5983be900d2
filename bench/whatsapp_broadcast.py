"""Benchmark: a broadcast to WhatsApp residents, as templates, at the number's throughput.

N residents known on WhatsApp (default 2,000) are invited by a broadcast queued in a
running `needsfirst run` (its own process) against the fake Cloud API, which answers
after a delay (default 50 ms) and refuses, as Meta does, more than the number's
throughput in any second (130429) and too many to one resident (131056). Meanwhile
`--talking` residents (default none) go through the consultation, so replies share
the number's rate with the broadcast, replies first.

Prints the steady rate (templates a second after the first second) as a share of the
configured throughput (and of all messages, replies included, when residents talk), the fake's rate errors after the first second, residents
invited twice or not at all, and the service's CPU per template.

    .venv/bin/python -m bench.whatsapp_broadcast [--recipients 2000] [--throughput 80]
        [--delay 0.05] [--talking 20] [--repeat 3] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.conversations import cpu_seconds, free_port
from bench.databases import drop_database, fresh_database
from bench.whatsapp import Timing, resident
from conversations.storage.db import make_engine
from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.whatsapp_broadcasting import TEMPLATES, add_templates, queue_broadcast, wa_resident
from tests.whatsapp_harness import config_file


async def one_run(args: argparse.Namespace, db_url: str, folder: Path, log: Path
                  ) -> dict[str, float]:  # fmt: skip
    async with FakeWhatsApp(latency=args.delay, throughput=args.throughput, daily_limit=None,
                            send_statuses=False, retry_delays=(0.5, 1.0, 2.0, 4.0)) as fake:  # fmt: skip
        add_templates(fake)
        port = free_port()
        fake.webhook_url = f"http://127.0.0.1:{port}/whatsapp/webhook"
        config = config_file(folder / "config.toml", fake, db_url, port, daily_limit=0,
                             **TEMPLATES)  # fmt: skip
        with log.open("ab") as log_file:
            process = subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
                stdout=log_file, stderr=log_file,
            )  # fmt: skip
        try:
            warm = "447000000000"
            await fake.send_text(warm, "help")  # retried until the service is up
            await fake.wait_for_user(warm, lambda: bool(fake.chats.get(warm)), timeout=60)
            db = make_engine(db_url)
            invited = {wa_resident(db)[1] for _ in range(args.recipients)}
            cpu = cpu_seconds(process.pid)
            queue_broadcast(db)
            db.dispose()
            talking = Timing(fake, 0.5)  # each talking resident answers twice a second
            chatting = asyncio.gather(*(resident(fake, talking, 90_000 + n)
                                        for n in range(args.talking)))  # fmt: skip

            def templates() -> list[float]:
                return [s.time for s in fake.sent if s.type == "template"]

            await fake.wait_for(lambda: len(templates()) >= args.recipients,
                                timeout=args.recipients / args.throughput * 3 + 60)  # fmt: skip
            cpu = cpu_seconds(process.pid) - cpu
            await chatting
        finally:
            process.terminate()
            process.wait(timeout=30)
    times = sorted(templates())
    first = times[0]
    steady = [t for t in times if t >= first + 1.0]
    rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else 0.0
    counts = Counter(s.to for s in fake.sent if s.type == "template")
    end = steady[-1] if steady else first
    everything = [s.time for s in fake.sent if first + 1.0 <= s.time <= end]
    late_errors = sum(1 for e in fake.errors if e.code in (130429, 131056) and e.time >= first + 1)
    return {
        "rate": rate,
        "share": rate / args.throughput,
        "all_share": len(everything) / max(end - first - 1.0, 1e-9) / args.throughput,
        "seconds": times[-1] - first,
        "late_rate_errors": late_errors,
        "twice": sum(1 for n in counts.values() if n > 1),
        "missing": len(invited - set(counts)),
        "reply_p99_ms": 1000 * sorted(talking.latencies)[int(0.99 * len(talking.latencies))]
        if talking.latencies
        else 0.0,
        "cpu_ms": 1000 * cpu / len(times),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--throughput", type=int, default=80)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--talking", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"recipients: {args.recipients}, throughput: {args.throughput}/s, Cloud API delay: "
        f"{args.delay * 1000:.0f} ms, residents talking meanwhile: {args.talking}, "
        f"database: {args.database}"
    )
    folder = Path(tempfile.mkdtemp(prefix="needsfirst-bench-wa-broadcast-"))
    runs = []
    for attempt in range(args.repeat):
        db_url = fresh_database(args.database, folder)
        started = time.perf_counter()
        result = await one_run(args, db_url, folder, folder / "service.log")
        drop_database(args.database, db_url)
        runs.append(result)
        print(
            f"run {attempt + 1}: {result['rate']:.1f} templates/s steady "
            f"({100 * result['share']:.1f}% of {args.throughput}; all messages "
            f"{100 * result['all_share']:.1f}%), {result['seconds']:.1f} s, "
            f"rate errors after the first second {result['late_rate_errors']:.0f}, "
            f"twice {result['twice']:.0f}, missing {result['missing']:.0f}, "
            f"replies p99 {result['reply_p99_ms']:.0f} ms, CPU {result['cpu_ms']:.2f} ms/template "
            f"({time.perf_counter() - started:.0f} s in all)",
            flush=True,
        )

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(
        f"\nmedian of {args.repeat} runs: {median('rate'):.1f} templates/s "
        f"({100 * median('share'):.1f}% of the throughput), replies p99 "
        f"{median('reply_p99_ms'):.0f} ms, CPU {median('cpu_ms'):.2f} ms/template; "
        f"rate errors after the first second: {sum(r['late_rate_errors'] for r in runs):.0f}, "
        f"twice: {sum(r['twice'] for r in runs):.0f}, missing: {sum(r['missing'] for r in runs):.0f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
