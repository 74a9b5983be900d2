"""Benchmark: residents completing the example consultation through the real bot.

N simulated residents (default 500) go through the example consultation at once,
against the fake Bot API, which answers every call after a delay (default 50 ms,
about what a bot in Europe sees from Telegram; also run with --delay 0). The bot
runs as `needsfirst run` in its own process, so it and the fake do not share a
core. In the same run, a bare python-telegram-bot echo bot with default settings
handles the same number of updates, as the baseline.

Prints updates handled per second and p50/p99 time from an update to the bot's
reply, and checks that no answer was lost, duplicated or out of order.

Two ways to load the bot. By default each resident answers the moment the reply
arrives (closed loop): this finds the most updates a second the bot can handle,
and the time to reply is then mostly queueing (by Little's law, 500 residents at
500 updates/s wait a second each on average, however fast the bot). With
`--rate R`, residents together send R updates a second (each waits for its
reply, then for its next turn, N/R seconds after its last): this asks whether the
bot keeps up with R updates a second, and how long each reply takes when it does.

    .venv/bin/python -m bench.conversations [--residents 500] [--delay 0.05]
        [--rate 500] [--database sqlite|postgres] [--repeat 3] [--no-echo]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlmodel import Session, select

from bench.databases import drop_database, fresh_database
from conversations.storage.db import make_engine
from conversations.storage.models import Answer, Resident
from tests.fakes.telegram_api import FakeBotAPI, FakeUser

ECHO_BOT = """
import sys
from telegram import Update
from telegram.ext import ApplicationBuilder, MessageHandler, filters

async def echo(update: Update, context) -> None:
    await update.effective_chat.send_message(update.effective_message.text)

app = (ApplicationBuilder().token(sys.argv[1]).base_url(sys.argv[2])
       .base_file_url(sys.argv[3]).build())
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(poll_interval=0.0)
"""


class Timing:
    def __init__(self, period: float = 0.0) -> None:
        self.latencies: list[float] = []
        self.period = period  # with --rate: each resident's time between updates
        self._turns: dict[int, float] = {}

    async def act(
        self, user: FakeUser, action: Callable[[], Awaitable[object]], words: str
    ) -> None:
        """Do `action` and wait for a reply containing `words`; record the time taken."""
        if self.period:
            turn = self._turns.get(user.id)
            if turn is None:  # residents start spread over one period
                turn = time.perf_counter() + random.uniform(0, self.period)
            await asyncio.sleep(max(0.0, turn - time.perf_counter()))
            self._turns[user.id] = max(turn, time.perf_counter()) + self.period
        seen = len(user.messages)
        started = time.perf_counter()
        await action()
        await user.wait_until(
            lambda: (
                any(words in str(m.get("text", "")) for m in user.messages[seen:])
                or (words.startswith("✅") and words in " ".join(user.last_keyboard_labels()))
            ),
            timeout=300,
        )
        self.latencies.append(time.perf_counter() - started)


async def resident(user: FakeUser, timing: Timing, number: int) -> None:
    act = timing.act
    await act(user, lambda: user.send_command("/start", "example"), "happy to take part?")
    await act(user, lambda: user.press("Yes, I'm happy to take part"), "Which part of the borough")
    await act(user, lambda: user.press("North (Hillside, Oakfield)"), "How old are you?")
    await act(user, lambda: user.press("35 to 64"), "In your own words")
    await act(
        user, lambda: user.send_text(f"Need number {number}: buses stop too early"), "Who else"
    )
    await act(user, lambda: user.press("▫️ My family or household"), "✅ My family or household")
    await act(user, lambda: user.press("Done"), "what difference")
    await act(user, lambda: user.send_text(f"Difference {number}"), "Here is what I heard")
    await act(user, lambda: user.press("Yes, that's right"), "Is there something else")
    await act(user, lambda: user.press("No"), "any ideas")
    await act(user, lambda: user.press("No, that's all"), "Thank you for taking part")


UPDATES_PER_RESIDENT = 11


async def echo_user(user: FakeUser, timing: Timing) -> None:
    for n in range(UPDATES_PER_RESIDENT):
        await timing.act(
            user, lambda n=n: user.send_text(f"echo {user.id} {n}"), f"echo {user.id} {n}"
        )  # type: ignore[misc]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_bot(command: Callable[[FakeBotAPI, str], list[str]], users: int, delay: float,
                  workload: Callable[[FakeUser, Timing, int], Awaitable[None]], log: Path,
                  rate: float | None = None) -> dict[str, float]:  # fmt: skip
    # A token of its own: a bot left over from an earlier run that finds this
    # port again is refused, instead of quietly answering this run's residents.
    token = f"{random.randint(10**8, 10**9)}:BENCH"
    async with FakeBotAPI(token=token, delay=delay, record_calls=False) as fake:
        fake.relax(limits=True)  # the bot's own throughput, as measured before the fake was strict
        with log.open("ab") as log_file:
            process = subprocess.Popen(command(fake, token), stdout=log_file, stderr=log_file)  # noqa: ASYNC220
        try:
            warm = fake.user(999_999)
            await warm.send_text("/help")
            await warm.wait_for_messages(1, timeout=60)
            timing = Timing(users / rate if rate else 0.0)
            bot_cpu, own_cpu = cpu_seconds(process.pid), time.process_time()
            started = time.perf_counter()
            await asyncio.gather(
                *(workload(fake.user(10_000 + n), timing, n) for n in range(users))
            )
            elapsed = time.perf_counter() - started
            bot_cpu, own_cpu = cpu_seconds(process.pid) - bot_cpu, time.process_time() - own_cpu
        finally:
            process.terminate()
            process.wait(timeout=30)
    updates = len(timing.latencies)
    return {
        "updates_per_second": updates / elapsed,
        "p50_ms": 1000 * percentile(timing.latencies, 0.50),
        "p99_ms": 1000 * percentile(timing.latencies, 0.99),
        "updates": updates,
        # CPU time per update: unlike rates, barely moved by other work on the machine.
        "bot_cpu_ms": 1000 * bot_cpu / updates,
        "load_cpu_ms": 1000 * own_cpu / updates,
    }


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check_answers(db_url: str, residents: int) -> str:
    """Every resident's answers stored exactly once, in the order given."""
    expected = ["area", "age", "need", "affects", "difference", "ideas-ask"]
    db = make_engine(db_url)
    problems = 0
    with Session(db) as session:
        rows = session.exec(
            select(Resident.id, Answer.step_id, Answer.value)
            .join(Answer, Answer.resident_id == Resident.id)  # type: ignore[arg-type]
            .order_by(Answer.id)  # type: ignore[arg-type]
        ).all()
    db.dispose()
    by_resident: dict[int | None, list[str]] = {}
    for resident_id, step_id, _ in rows:
        by_resident.setdefault(resident_id, []).append(step_id)
    for steps in by_resident.values():
        problems += steps != expected
    missing = residents - len(by_resident)
    return "ok" if not problems and not missing else f"{problems} wrong, {missing} missing"


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=500)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rate", type=float, default=None,
                        help="updates a second the residents send together (default: "
                        "each answers as soon as the reply arrives)")  # fmt: skip
    parser.add_argument("--no-echo", action="store_true",
                        help="skip the echo bot baseline (it takes minutes at 50 ms)")  # fmt: skip
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"residents: {args.residents}, Bot API delay: {args.delay * 1000:.0f} ms, database: {args.database}, "
        + (f"offered rate: {args.rate:.0f} updates/s" if args.rate else "closed loop")
    )
    folder = Path(tempfile.mkdtemp(prefix="needsfirst-bench-"))
    ours: list[dict[str, float]] = []
    echo: list[dict[str, float]] = []
    for attempt in range(args.repeat):
        db_url = fresh_database(args.database, folder)
        config = folder / f"config-{attempt}.toml"
        log = folder / "bot.log"

        def needsfirst(
            fake: FakeBotAPI, token: str, config: Path = config, db_url: str = db_url
        ) -> list[str]:
            config.write_text(
                f'[database]\nurl = "{db_url}"\n[telegram]\ntoken = "{token}"\n'
                f'base_url = "{fake.base_url}"\nbase_file_url = "{fake.base_file_url}"\n'
                f"[web]\nport = {free_port()}\n",
                encoding="utf-8",
            )
            return [sys.executable, "-m", "bot.cli", "run", "--config", str(config)]

        def echo_bot(fake: FakeBotAPI, token: str) -> list[str]:
            return [sys.executable, "-c", ECHO_BOT, token, fake.base_url, fake.base_file_url]

        result = await run_bot(needsfirst, args.residents, args.delay, resident, log, args.rate)
        result["answers"] = check_answers(db_url, args.residents)  # type: ignore[assignment]
        drop_database(args.database, db_url)
        ours.append(result)
        if not args.no_echo:
            echo.append(
                await run_bot(
                    echo_bot,
                    args.residents,
                    args.delay,
                    lambda u, t, n: echo_user(u, t),
                    log,
                    args.rate,
                )
            )
        line = (
            f"run {attempt + 1}: needsfirst {result['updates_per_second']:.0f} updates/s "
            f"p50 {result['p50_ms']:.0f} ms p99 {result['p99_ms']:.0f} ms "
            f"CPU {result['bot_cpu_ms']:.2f} ms/update (load {result['load_cpu_ms']:.2f}) "
            f"answers {result['answers']}"
        )
        if echo:
            line += (
                f"; echo {echo[-1]['updates_per_second']:.0f} updates/s "
                f"p99 {echo[-1]['p99_ms']:.0f} ms CPU {echo[-1]['bot_cpu_ms']:.2f} ms/update"
            )
        print(line, flush=True)

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print()
    print(f"median of {args.repeat} runs")
    print(
        f"  needsfirst : {median(ours, 'updates_per_second'):7.0f} updates/s   p50 {median(ours, 'p50_ms'):6.0f} ms   p99 {median(ours, 'p99_ms'):6.0f} ms"
        f"   CPU {median(ours, 'bot_cpu_ms'):.2f} ms/update"
    )
    if echo:
        ratio = statistics.median(
            o["updates_per_second"] / e["updates_per_second"]
            for o, e in zip(ours, echo, strict=True)
        )
        print(
            f"  echo bot   : {median(echo, 'updates_per_second'):7.0f} updates/s   p50 {median(echo, 'p50_ms'):6.0f} ms   p99 {median(echo, 'p99_ms'):6.0f} ms"
            f"   CPU {median(echo, 'bot_cpu_ms'):.2f} ms/update"
        )
        print(f"  ratio needsfirst / echo (per run, median): {ratio:.2f}")
    print(f"  answers: {', '.join(str(o['answers']) for o in ours)}")


if __name__ == "__main__":
    asyncio.run(main())
