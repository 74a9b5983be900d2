"""Benchmark: residents completing the example consultation on WhatsApp.

N simulated residents (default 500) go through the example consultation against
the fake WhatsApp Cloud API (tests/fakes/whatsapp_api/), which answers every Graph
API call after a delay (default 50 ms) and delivers residents' messages to the
service's webhook, signed, one call per message, as Meta does. The service runs as
`needsfirst run` in its own process. In the same run, a bare aiohttp webhook that
checks the signature and echoes each message back handles the same number of
messages: the baseline, which measures the fake and this load as much as a bot.

As bench.conversations: closed loop by default (each resident answers the moment
the reply arrives), or `--rate R` updates a second in all. Prints updates a
second, p50/p99 from a resident's message to the reply, the service's CPU per
update, and checks every answer is stored once and in order. The fake's status
webhooks ("sent", "delivered": two more calls per message) are off unless
`--statuses`.

    .venv/bin/python -m bench.whatsapp [--residents 500] [--delay 0.05] [--rate 500]
        [--database sqlite|postgres] [--repeat 3] [--statuses] [--no-echo]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.conversations import check_answers, cpu_seconds, free_port, percentile
from bench.databases import drop_database, fresh_database
from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.whatsapp_harness import NUMBERED, config_file

ECHO_WEBHOOK = """
import asyncio, hashlib, hmac, json, sys
import aiohttp
from aiohttp import web

port, secret, messages_url, token = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3], sys.argv[4]
tasks = set()

async def main():
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
    async def echo(wa_id, text):
        body = {"messaging_product": "whatsapp", "to": wa_id, "type": "text", "text": {"body": text}}
        async with session.post(messages_url, json=body, headers={"Authorization": "Bearer " + token}) as r:
            await r.read()
    async def hook(request):
        raw = await request.read()
        given = request.headers.get("X-Hub-Signature-256", "")
        if not hmac.compare_digest(given, "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()):
            raise web.HTTPForbidden()
        for entry in json.loads(raw)["entry"]:
            for change in entry["changes"]:
                for message in change["value"].get("messages", []):
                    task = asyncio.create_task(echo(message["from"], message["text"]["body"]))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        return web.Response(text="ok")
    app = web.Application()
    app.router.add_post("/whatsapp/webhook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()

asyncio.run(main())
"""


class Timing:
    def __init__(self, fake: FakeWhatsApp, period: float = 0.0) -> None:
        self.fake = fake
        self.latencies: list[float] = []
        self.period = period  # with --rate: each resident's time between updates
        self._turns: dict[str, float] = {}

    async def act(self, wa_id: str, action: Callable[[], Awaitable[object]], words: str) -> None:
        """Do `action`, wait for a message (text or choices) containing `words`."""
        if self.period:
            turn = self._turns.get(wa_id)
            if turn is None:  # residents start spread over one period
                turn = time.perf_counter() + random.uniform(0, self.period)
            await asyncio.sleep(max(0.0, turn - time.perf_counter()))
            self._turns[wa_id] = max(turn, time.perf_counter()) + self.period
        chat = self.fake.chats.setdefault(wa_id, [])
        seen = len(chat)
        started = time.perf_counter()
        await action()

        def arrived() -> bool:
            return any(
                words in sent.text or any(words in title for _, title in sent.choices)
                for sent in chat[seen:]
            )

        await self.fake.wait_for_user(wa_id, arrived, timeout=300)
        self.latencies.append(time.perf_counter() - started)


def press(fake: FakeWhatsApp, wa_id: str, label: str) -> Callable[[], Awaitable[object]]:
    def choice() -> str:
        sent = next(s for s in reversed(fake.chats[wa_id]) if s.choices)
        for choice_id, title in sent.choices:
            shown = NUMBERED.sub("", title).rstrip("…")
            if shown and label.startswith(shown):
                return choice_id
        raise AssertionError(f"no choice {label!r} in {sent.choices}")

    return lambda: fake.press(wa_id, choice())


async def resident(fake: FakeWhatsApp, timing: Timing, number: int) -> None:
    wa_id = f"4477009{number:05d}"
    act, say = timing.act, fake.send_text

    def chose(label: str) -> Callable[[], Awaitable[object]]:
        return press(fake, wa_id, label)

    await act(wa_id, lambda: say(wa_id, "start example"), "happy to take part?")
    await act(wa_id, chose("Yes, I'm happy to take part"), "Which part of the borough")
    await act(wa_id, chose("North (Hillside, Oakfield)"), "How old are you?")
    await act(wa_id, chose("35 to 64"), "In your own words")
    await act(wa_id, lambda: say(wa_id, f"Need number {number}: buses stop too early"), "Who else")
    await act(wa_id, chose("▫️ My family or household"), "✅ My family or household")
    await act(wa_id, chose("Done"), "what difference")
    await act(wa_id, lambda: say(wa_id, f"Difference {number}"), "Here is what I heard")
    await act(wa_id, chose("Yes, that's right"), "Is there something else")
    await act(wa_id, chose("No"), "any ideas")
    await act(wa_id, chose("No, that's all"), "Thank you for taking part")


UPDATES_PER_RESIDENT = 11


async def echo_user(fake: FakeWhatsApp, timing: Timing, number: int) -> None:
    wa_id = f"4477009{number:05d}"
    for n in range(UPDATES_PER_RESIDENT):
        text = f"echo {wa_id} {n}"
        await timing.act(wa_id, lambda text=text: fake.send_text(wa_id, text), text)  # type: ignore[misc]


async def run(command: Callable[[FakeWhatsApp, int], list[str]], users: int, delay: float,
              workload: Callable[[FakeWhatsApp, Timing, int], Awaitable[None]], log: Path,
              rate: float | None, statuses: bool) -> dict[str, float]:  # fmt: skip
    async with FakeWhatsApp(latency=delay, throughput=1000, send_statuses=statuses,
                            retry_delays=(0.5, 1.0, 2.0, 4.0)) as fake:  # fmt: skip
        port = free_port()
        fake.webhook_url = f"http://127.0.0.1:{port}/whatsapp/webhook"
        with log.open("ab") as log_file:
            process = subprocess.Popen(command(fake, port), stdout=log_file, stderr=log_file)  # noqa: ASYNC220
        try:
            warm = "447000000000"
            await fake.send_text(warm, "help")  # retried by the fake until the service is up
            await fake.wait_for_user(warm, lambda: bool(fake.chats.get(warm)), timeout=60)
            timing = Timing(fake, users / rate if rate else 0.0)
            bot_cpu, own_cpu = cpu_seconds(process.pid), time.process_time()
            started = time.perf_counter()
            await asyncio.gather(*(workload(fake, timing, n) for n in range(users)))
            elapsed = time.perf_counter() - started
            bot_cpu, own_cpu = cpu_seconds(process.pid) - bot_cpu, time.process_time() - own_cpu
            errors = sum(fake.errors_by_code.values())
            if errors:
                print(f"  the fake's errors by code: {dict(fake.errors_by_code)}", flush=True)
        finally:
            process.terminate()
            process.wait(timeout=30)
    updates = len(timing.latencies)
    return {
        "updates_per_second": updates / elapsed,
        "p50_ms": 1000 * percentile(timing.latencies, 0.50),
        "p99_ms": 1000 * percentile(timing.latencies, 0.99),
        "updates": updates,
        "bot_cpu_ms": 1000 * bot_cpu / updates,
        "load_cpu_ms": 1000 * own_cpu / updates,
        "errors": errors,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=500)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--statuses", action="store_true",
                        help="the fake sends 'sent' and 'delivered' webhooks for each message")  # fmt: skip
    parser.add_argument("--no-echo", action="store_true", help="skip the echo baseline")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"residents: {args.residents}, Cloud API delay: {args.delay * 1000:.0f} ms, "
        f"database: {args.database}, statuses: {'on' if args.statuses else 'off'}, "
        + (f"offered rate: {args.rate:.0f} updates/s" if args.rate else "closed loop")
    )
    folder = Path(tempfile.mkdtemp(prefix="needsfirst-bench-whatsapp-"))
    ours: list[dict[str, float]] = []
    echo: list[dict[str, float]] = []
    for attempt in range(args.repeat):
        db_url = fresh_database(args.database, folder)
        log = folder / "service.log"

        def needsfirst(fake: FakeWhatsApp, port: int, db_url: str = db_url,
                       attempt: int = attempt) -> list[str]:  # fmt: skip
            config = config_file(folder / f"config-{attempt}.toml", fake, db_url, port)
            return [sys.executable, "-m", "bot.cli", "run", "--config", str(config)]

        def echo_webhook(fake: FakeWhatsApp, port: int) -> list[str]:
            return [sys.executable, "-c", ECHO_WEBHOOK, str(port), fake.app_secret,
                    fake.messages_url, fake.access_token]  # fmt: skip

        result = await run(needsfirst, args.residents, args.delay,
                           resident, log, args.rate, args.statuses)  # fmt: skip
        result["answers"] = check_answers(db_url, args.residents)  # type: ignore[assignment]
        drop_database(args.database, db_url)
        ours.append(result)
        line = (
            f"run {attempt + 1}: needsfirst {result['updates_per_second']:.0f} updates/s "
            f"p50 {result['p50_ms']:.0f} ms p99 {result['p99_ms']:.0f} ms "
            f"CPU {result['bot_cpu_ms']:.2f} ms/update (load {result['load_cpu_ms']:.2f}) "
            f"errors {result['errors']:.0f} answers {result['answers']}"
        )
        if not args.no_echo:
            echo.append(await run(echo_webhook, args.residents, args.delay,
                                  echo_user, log, args.rate, args.statuses))  # fmt: skip
            line += (
                f"; echo {echo[-1]['updates_per_second']:.0f} updates/s "
                f"p99 {echo[-1]['p99_ms']:.0f} ms CPU {echo[-1]['bot_cpu_ms']:.2f} ms/update"
            )
        print(line, flush=True)

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(f"\nmedian of {args.repeat} runs")
    print(
        f"  needsfirst : {median(ours, 'updates_per_second'):7.0f} updates/s   "
        f"p50 {median(ours, 'p50_ms'):6.0f} ms   p99 {median(ours, 'p99_ms'):6.0f} ms   "
        f"CPU {median(ours, 'bot_cpu_ms'):.2f} ms/update"
    )
    if echo:
        ratio = statistics.median(
            o["updates_per_second"] / e["updates_per_second"]
            for o, e in zip(ours, echo, strict=True)
        )
        print(
            f"  echo       : {median(echo, 'updates_per_second'):7.0f} updates/s   "
            f"p50 {median(echo, 'p50_ms'):6.0f} ms   p99 {median(echo, 'p99_ms'):6.0f} ms   "
            f"CPU {median(echo, 'bot_cpu_ms'):.2f} ms/update"
        )
        print(f"  ratio needsfirst / echo (per run, median): {ratio:.2f}")
    print(f"  answers: {', '.join(str(o['answers']) for o in ours)}")


if __name__ == "__main__":
    asyncio.run(main())
