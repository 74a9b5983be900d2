"""Benchmark: a broadcast to thousands of residents while others talk to the bot.

The bot runs as `needsfirst run` in its own process; this process runs the fake
Bot API, which enforces Telegram's limits (30 messages a second overall, 1 a
second per chat, 429 with retry_after beyond them) and answers every call after
a delay (default 50 ms). Recipients (5,000; 50,000 with --full) are written
straight into the database; the broadcast is queued as a facilitator would, with
a progress message to edit. Meanwhile 50 other residents go through the example
consultation at a human pace (a pause of 5 to 15 s before each answer), starting
again as new residents when they finish.

Reported per run: the sustained broadcast rate and the total message rate while
it ran (target >= 28/s), 429s after the first second of sending (target 0),
whether every recipient got exactly one invitation, and the p50/p99 time from a
conversing resident's update to the bot's reply (target p99 < 1 s); also how long
the fake took to answer invitations (a slow bench would show here: the bot's rate
is 30 / (1 + round trip)) and the bot's CPU time per message sent. A further
run kills the bot with SIGKILL half-way, starts it again and checks that nobody
got the invitation twice (and that anyone who got none is counted as failed).

Telegram tolerates a short burst of replies in a private chat that a user is
talking in (the bot sometimes answers with two messages at once); the fake
allows a chat whose user sent the bot something in the last 5 s up to 3 messages
a second, and holds every other chat (recipients, the facilitator) to 1.

    .venv/bin/python -m bench.broadcast [--full] [--recipients N] [--repeat 3]
        [--delay 0.05] [--jitter 0] [--database sqlite|postgres] [--no-kill]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from sqlalchemy import insert
from sqlmodel import Session, col, select

from bench.databases import drop_database, fresh_database
from bot.app import prepare_database
from bot.config import Config, ConsultationsConfig, DatabaseConfig
from conversations.staff import broadcasts
from conversations.storage.db import make_engine
from conversations.storage.models import (
    Broadcast,
    BroadcastRecipient,
    ChannelIdentity,
    ConsentRecord,
    Consultation,
    Resident,
)
from tests.fakes.telegram_api import MESSAGE_METHODS, FakeBotAPI, FakeUser

TOKEN = "123456:BENCH-TOKEN"
FACILITATOR = 777
RECIPIENT_BASE = 10_000_000
TALKER_BASE = 900_000_000
MESSAGE = "Round 2 is open: tell us which needs matter most to you."


# -- seeding


def seed(db_url: str, recipients: int) -> None:
    """Migrate, load the example, and add opted-in Telegram residents in bulk."""
    config = Config(
        database=DatabaseConfig(url=db_url),
        consultations=ConsultationsConfig(load=("example",), open_first_round=True),
    )
    db = prepare_database(config)
    with Session(db) as session, session.begin():
        consultation = session.exec(
            select(Consultation).where(Consultation.slug == "example")
        ).one()
        chats = [RECIPIENT_BASE + n for n in range(recipients)]
        session.execute(insert(Resident), [{"pseudonym": f"bench{c}"} for c in chats])
        ids = dict(
            session.exec(
                select(Resident.pseudonym, Resident.id).where(
                    col(Resident.pseudonym).startswith("bench")
                )
            ).all()
        )
        session.execute(
            insert(ChannelIdentity),
            [
                {
                    "resident_id": ids[f"bench{c}"],
                    "channel": "telegram",
                    "external_id": str(c),
                    "chat_id": str(c),
                }
                for c in chats
            ],
        )
        session.execute(
            insert(ConsentRecord),
            [
                {
                    "resident_id": ids[f"bench{c}"],
                    "consultation_id": consultation.id,
                    "version": "bench",
                    "given": True,
                    "channel": "telegram",
                }
                for c in chats
            ],
        )
    db.dispose()


def queue_broadcast(db_url: str, progress_message_id: int) -> int:
    db = make_engine(db_url)
    with Session(db) as session, session.begin():
        draft, _ = broadcasts.draft(
            session=session, slug="example", message=MESSAGE, created_by="bench"
        )
        broadcast_id = draft.id
        assert broadcast_id is not None
        broadcasts.queue(
            session=session,
            broadcast_id=broadcast_id,
            actor="bench",
            progress_chat_id=str(FACILITATOR),
            progress_message_id=progress_message_id,
        )
    db.dispose()
    return broadcast_id


def broadcast_states(db_url: str, broadcast_id: int) -> tuple[str, dict[int, str]]:
    db = make_engine(db_url)
    with Session(db) as session:
        status = broadcasts.progress(session=session, broadcast_id=broadcast_id).status
        rows = session.exec(
            select(ChannelIdentity.chat_id, BroadcastRecipient.state)
            .join(
                ChannelIdentity,
                ChannelIdentity.resident_id == BroadcastRecipient.resident_id,  # type: ignore[arg-type]
            )
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
        ).all()
    db.dispose()
    return status, {int(chat): state for chat, state in rows}


# -- residents talking to the bot meanwhile


@dataclass
class Talkers:
    latencies: list[float] = field(default_factory=list)
    finished: int = 0
    lost: int = 0  # replies that never came
    running: bool = True

    async def act(self, user: FakeUser, action: Callable[[], Awaitable[object]],
                  words: str) -> None:  # fmt: skip
        await asyncio.sleep(random.uniform(5, 15))  # reading, thinking, typing
        seen = len(user.messages)
        started = time.perf_counter()
        await action()
        try:
            await user.wait_until(
                lambda: (
                    any(words in str(m.get("text", "")) for m in user.messages[seen:])
                    or (words.startswith("✅") and words in " ".join(user.last_keyboard_labels()))
                ),
                timeout=60,
            )
        except TimeoutError:
            self.lost += 1
            raise
        self.latencies.append(time.perf_counter() - started)

    async def resident(self, fake: FakeBotAPI, first_id: int) -> None:
        """One person after another on this seat, until the broadcast is over."""
        user_id = first_id
        while self.running:
            user_id += 1_000
            with suppress(TimeoutError):  # counted as lost; the next person sits down
                await self.conversation(fake.user(user_id))

    async def conversation(self, user: FakeUser) -> None:
        """The example consultation, as a resident goes through it."""
        act = self.act
        await act(user, lambda: user.send_command("/start", "example"), "happy to take part?")
        await act(user, lambda: user.press("Yes, I'm happy to take part"), "Which part")
        await act(user, lambda: user.press("North (Hillside, Oakfield)"), "How old are you?")
        await act(user, lambda: user.press("35 to 64"), "In your own words")
        await act(user, lambda: user.send_text("The buses stop too early"), "Who else")
        await act(user, lambda: user.press("▫️ My family or household"), "✅ My family")
        await act(user, lambda: user.press("Done"), "what difference")
        await act(user, lambda: user.send_text("I could get to work"), "Here is what I heard")
        await act(user, lambda: user.press("Yes, that's right"), "Is there something else")
        await act(user, lambda: user.press("No"), "any ideas")
        await act(user, lambda: user.press("No, that's all"), "Thank you for taking part")
        self.finished += 1


# -- one run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_bot(fake: FakeBotAPI, db_url: str, folder: Path) -> subprocess.Popen[bytes]:
    config = folder / f"config-{time.time_ns()}.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[telegram]\ntoken = "{TOKEN}"\n'
        f'base_url = "{fake.base_url}"\nbase_file_url = "{fake.base_file_url}"\n'
        f"[web]\nport = {free_port()}\n",
        encoding="utf-8",
    )
    log = (folder / "bot.log").open("ab")
    command = [sys.executable, "-m", "bot.cli", "run", "--config", str(config)]
    return subprocess.Popen(command, stdout=log, stderr=log)


async def progress_message(fake: FakeBotAPI) -> int:
    """The facilitator's progress message, sent as the staff command would send it."""
    fake.user(FACILITATOR, started=True)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.base_url}{TOKEN}/sendMessage",
            json={"chat_id": FACILITATOR, "text": "Broadcast queued."},
        ) as response,
    ):
        body = await response.json()
    return int(body["result"]["message_id"])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def one_run(args: argparse.Namespace, folder: Path, *, kill: bool) -> dict[str, float]:
    db_url = fresh_database(args.database, folder)
    try:
        return await run_on(db_url, args, folder, kill=kill)
    finally:
        await asyncio.to_thread(drop_database, args.database, db_url)


async def run_on(db_url: str, args: argparse.Namespace, folder: Path, *,
                 kill: bool) -> dict[str, float]:  # fmt: skip
    await asyncio.to_thread(seed, db_url, args.recipients)
    chats = range(RECIPIENT_BASE, RECIPIENT_BASE + args.recipients)
    async with FakeBotAPI(
        delay=args.delay, jitter=args.jitter, rate_limit=30, per_chat_limit=1, talking_limit=3
    ) as fake:
        for chat in chats:
            fake.user(chat, started=True)
        broadcast_id = await asyncio.to_thread(
            queue_broadcast, db_url, await progress_message(fake)
        )
        starts = [time.perf_counter()]
        process = start_bot(fake, db_url, folder)
        talkers = Talkers()
        seats = [
            asyncio.create_task(talkers.resident(fake, TALKER_BASE + n))
            for n in range(args.talkers)
        ]
        watch = Watch(db_url, broadcast_id, chats)
        bot_cpu = cpu_before = 0.0  # CPU seconds: in all, and of processes killed
        try:
            while True:
                await asyncio.sleep(1.0)
                if kill and len(starts) == 1 and watch.invited(fake) >= args.recipients // 2:
                    cpu_before = cpu_seconds(process.pid)
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                    at_kill = fake.clock()
                    unanswered = [c for c in fake.calls if c.status is None]
                    recent = [c for c in fake.calls if c.time > at_kill - 1.0]
                    invited = [
                        c.params.get("chat_id", 0) - RECIPIENT_BASE
                        for c in fake.calls
                        if c.method == "sendMessage" and c.params.get("chat_id", 0) in chats
                    ]
                    print(
                        f"  at the kill: {len(unanswered)} calls received and not yet answered,"
                        f" {len(recent)} calls received in the last second; last invited"
                        f" {invited[-20:]}",
                        flush=True,
                    )
                    starts.append(time.perf_counter())
                    process = start_bot(fake, db_url, folder)
                if await asyncio.to_thread(watch.status) == "done":
                    break
                bot_cpu = cpu_before + cpu_seconds(process.pid)
        finally:
            watch.close()
            talkers.running = False
            for seat in seats:
                seat.cancel()
            await asyncio.gather(*seats, return_exceptions=True)
            process.terminate()
            process.wait(timeout=60)
        _, states = await asyncio.to_thread(broadcast_states, db_url, broadcast_id)
        result = measure(fake, chats, states, talkers, kill)
        result["bot_cpu_ms_per_message"] = 1000 * bot_cpu / max(1, result["messages"])
        return result


class Watch:
    """What the bench looks at each second while the broadcast runs, kept cheap.

    It shares a process (and so the GIL) with the fake Bot API, so anything slow here
    delays the fake's answers, which the bot sees as a longer round trip and so a
    lower rate: the first 50,000 run read every recipient's state each second."""

    def __init__(self, db_url: str, broadcast_id: int, chats: range) -> None:
        self.db = make_engine(db_url)
        self.broadcast_id = broadcast_id
        self.chats = chats
        self._seen = 0  # calls already looked at
        self._invited = 0

    def invited(self, fake: FakeBotAPI) -> int:
        """Recipients the bot has sent an invitation to so far (received by the fake)."""
        calls = fake.calls
        for call in itertools.islice(calls, self._seen, None):
            if call.method == "sendMessage" and call.params.get("chat_id", 0) in self.chats:
                self._invited += 1
        self._seen = len(calls)
        return self._invited

    def status(self) -> str:
        with Session(self.db) as session:
            broadcast = session.get(Broadcast, self.broadcast_id)
            assert broadcast is not None
            return broadcast.status

    def close(self) -> None:
        self.db.dispose()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process so far (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(fake: FakeBotAPI, chats: range, states: dict[int, str], talkers: Talkers,
            kill: bool) -> dict[str, float]:  # fmt: skip
    calls = [c for c in fake.calls if c.method in MESSAGE_METHODS]
    invitations = sorted(
        c.time for c in calls if c.status == 200 and c.params.get("chat_id") in chats
    )
    first, last = invitations[0], invitations[-1]
    during = [c for c in calls if c.status == 200 and first <= c.time <= last]
    refused = [c for c in calls if c.status == 429]
    # "After the first second" of each bot process's sending.
    process_firsts = [first]
    if kill:
        gaps = [(b - a, b) for a, b in itertools.pairwise(invitations)]
        process_firsts.append(max(gaps)[1])
    late = [c for c in refused if not any(s <= c.time < s + 1.0 for s in process_firsts)]
    received = Counter({c: n for c in chats if (n := fake.user(c).texts.count(MESSAGE))})
    missing = [c for c in chats if received[c] == 0]
    if kill and missing:
        print(f"  missing: {[c - RECIPIENT_BASE for c in missing]}", flush=True)
    service = [
        c.answered_at - c.time
        for c in calls
        if c.answered_at is not None and c.params.get("chat_id") in chats
    ]
    seconds = max(last - first, 1e-9)
    if kill:  # the restart's gap is not sending time
        seconds -= max(b - a for a, b in itertools.pairwise(invitations))
    return {
        "broadcast_rate": (len(invitations) - 1) / seconds,
        "total_rate": len(during) / seconds,
        "seconds": last - first,
        "messages": len(during),
        "fake_p50_ms": 1000 * percentile(service, 0.50),
        "fake_p99_ms": 1000 * percentile(service, 0.99),
        "429s": len(refused),
        "429s_late": len(late),
        "429s_to_talkers": sum(1 for c in refused if c.params.get("chat_id", 0) >= TALKER_BASE),
        "twice": sum(1 for n in received.values() if n > 1),
        "missing": len(missing),
        "missing_not_failed": sum(1 for c in missing if states.get(c) != "failed"),
        "sent_not_received": sum(1 for c, s in states.items() if s == "sent" and not received[c]),
        "failed": sum(1 for s in states.values() if s == "failed"),
        "edits": sum(1 for c in calls if c.method == "editMessageText" and c.status == 200),
        "reply_p50_ms": 1000 * percentile(talkers.latencies, 0.50),
        "reply_p99_ms": 1000 * percentile(talkers.latencies, 0.99),
        "replies": len(talkers.latencies),
        "talkers_finished": talkers.finished,
        "replies_lost": talkers.lost,
    }


def describe(result: dict[str, float]) -> str:
    return (
        f"broadcast {result['broadcast_rate']:.1f}/s, all messages {result['total_rate']:.1f}/s "
        f"over {result['seconds']:.0f} s; 429s {result['429s']:.0f} "
        f"({result['429s_late']:.0f} after the first second, {result['429s_to_talkers']:.0f} "
        f"to talkers); twice {result['twice']:.0f}, missing {result['missing']:.0f} "
        f"(not counted failed: {result['missing_not_failed']:.0f}), "
        f"sent-but-not-received {result['sent_not_received']:.0f}; progress edits "
        f"{result['edits']:.0f}; replies p50 {result['reply_p50_ms']:.0f} ms "
        f"p99 {result['reply_p99_ms']:.0f} ms (n={result['replies']:.0f}, "
        f"{result['talkers_finished']:.0f} consultations completed, "
        f"{result['replies_lost']:.0f} replies lost); the fake answered invitations in "
        f"p50 {result['fake_p50_ms']:.0f} ms, p99 {result['fake_p99_ms']:.0f} ms; the bot "
        f"used {result['bot_cpu_ms_per_message']:.2f} ms of CPU per message"
    )


def machine() -> str:
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=5_000)
    parser.add_argument("--full", action="store_true", help="50,000 recipients")
    parser.add_argument("--talkers", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument(
        "--jitter", type=float, default=0.0, help="up to this much more delay, at random"
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-kill", action="store_true", help="skip the SIGKILL run")
    args = parser.parse_args()
    if args.full:
        args.recipients = 50_000
    print(f"machine: {machine()}")
    print(
        f"recipients: {args.recipients}, talkers: {args.talkers}, Bot API delay: "
        f"{args.delay * 1000:.0f} ms (+ up to {args.jitter * 1000:.0f} ms), limits 30/s and 1/s per chat, database: {args.database}",
        flush=True,
    )
    folder = Path(tempfile.mkdtemp(prefix="needsfirst-bench-broadcast-"))
    runs = []
    for attempt in range(args.repeat):
        runs.append(await one_run(args, folder, kill=False))
        print(f"run {attempt + 1}: {describe(runs[-1])}", flush=True)
    if runs:
        print(f"\nmedian of {len(runs)} runs:")
        for key in ("broadcast_rate", "total_rate", "429s_late", "reply_p50_ms", "reply_p99_ms"):
            print(f"  {key:15} {statistics.median(r[key] for r in runs):8.1f}")
        print(f"  twice (all runs) {sum(r['twice'] for r in runs):.0f}, "
              f"missing (all runs) {sum(r['missing'] for r in runs):.0f}")  # fmt: skip
    if not args.no_kill:
        killed = await one_run(args, folder, kill=True)
        print(f"\nSIGKILL half-way, then restarted: {describe(killed)}", flush=True)
    print(f"\nbot log: {folder / 'bot.log'}")


if __name__ == "__main__":
    asyncio.run(main())
