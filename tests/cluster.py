"""Needs First past one machine, on this one: PostgreSQL, N webhook workers behind HAProxy,
one scheduler, and the fake Bot API (and the fake WhatsApp Cloud API) delivering their
webhooks to HAProxy as Telegram and Meta do. The recipe is the one docs/deployment.md
gives: one config.toml in webhook mode, the workers started with
`NEEDSFIRST_SCHEDULER_ENABLED=false` and a port each, HAProxy from
deploy/haproxy.cfg.template health-checking /healthz.

The processes are `needsfirst run` (`bot.cli.main(["run", ...])`) forked from a
parent that has imported the bot and loaded its safety models once (as
tests/test_crash_many.py does), so a worker killed with SIGKILL is back in a couple
of seconds rather than the ten a cold start takes on two busy cores.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import socket
import sys
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import aiohttp

from tests.fakes.telegram_api import FakeBotAPI

SECRET = "cluster-webhook-secret-0123456789"
TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "haproxy.cfg.template"

# Imports the bot once; then, a line at a time: "start NAME ENV-JSON" forks `needsfirst
# run` with those environment variables (killing an earlier NAME first), "kill NAME"
# (SIGKILL) and "stop NAME" (SIGTERM) end it and print its exit status.
FORK_SERVER = """
import json, os, signal, sys, traceback
import bot.app, bot.cli
from conversations.screening import moderation, safeguarding

safeguarding.assess("", "en")
moderation.assess_abuse("")
config, logs = sys.argv[1], sys.argv[2]
print("ready", flush=True)
children = {}

def end(name, sig):
    pid = children.pop(name)
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)

for line in sys.stdin:
    command, name, *rest = line.strip().split(" ", 2)
    if command in ("kill", "stop"):
        sig = signal.SIGKILL if command == "kill" else signal.SIGTERM
        print(end(name, sig) if name in children else "none", flush=True)
        continue
    if name in children:
        end(name, signal.SIGKILL)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        os.environ.update(json.loads(rest[0]) if rest else {})
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        out = os.open(os.path.join(logs, name + ".log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(out, 1)
        os.dup2(out, 2)
        code = 1
        try:
            code = bot.cli.main(["run", "--config", config])
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass
    children[name] = pid
    print(pid, flush=True)
for name in list(children):
    end(name, signal.SIGKILL)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def haproxy_available() -> bool:
    return shutil.which("haproxy") is not None


REDIS_URL = os.environ.get("NEEDSFIRST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    """Whether Redis answers at REDIS_URL (the shared send budget's tests need it)."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def render_haproxy(listen: str, admin_socket: Path, servers: dict[str, int]) -> str:
    lines = "\n".join(f"    server {name} 127.0.0.1:{port}" for name, port in servers.items())
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        listen=listen, admin_socket=str(admin_socket), servers=lines
    )


def write_config(path: Path, db_url: str, fake: FakeBotAPI, lb_port: int, port: int, *,
                 token: str, shared_budget: str = "", extra: str = "") -> Path:  # fmt: skip
    """One config.toml for every process; each one's port comes from NEEDSFIRST_WEB_PORT."""
    path.write_text(
        f'[database]\nurl = "{db_url}"\n'
        f'[telegram]\ntoken = "{token}"\nbase_url = "{fake.base_url}"\n'
        f'shared_budget = "{shared_budget}"\n'
        f'base_file_url = "{fake.base_file_url}"\nmode = "webhook"\n'
        f'webhook_url = "http://127.0.0.1:{lb_port}/telegram/webhook"\n'
        f'secret_token = "{SECRET}"\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\n'
        f'[consultations]\nload = ["example"]\n{extra}',
        encoding="utf-8",
    )
    return path


@dataclass
class Cluster:
    """The processes of one deployment; `start`, then kill, restart, drain; `close`."""

    root: Path
    db_url: str
    fake: FakeBotAPI
    workers: int = 2
    extra_config: str = ""  # more TOML (a [whatsapp] section, say)
    shared_budget: str = ""  # a Redis URL: Telegram's 30 a second shared exactly
    # A bot id of its own: the shared budget's window in Redis is the bot's.
    token: str = field(default_factory=lambda: f"{random.randint(10**8, 10**9)}:CLUSTER")
    lb_port: int = field(default_factory=free_port)
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    _server: asyncio.subprocess.Process | None = None
    _haproxy: asyncio.subprocess.Process | None = None

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    @property
    def admin_socket(self) -> Path:
        return self.root / "haproxy.sock"

    @property
    def worker_names(self) -> list[str]:
        return [f"w{n}" for n in range(1, self.workers + 1)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.lb_port}"

    async def start(self) -> None:
        """The scheduler first (it migrates the database), then the workers, then HAProxy."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.ports = {"scheduler": free_port(), **{w: free_port() for w in self.worker_names}}
        write_config(self.config, self.db_url, self.fake, self.lb_port, self.ports["scheduler"],
                     token=self.token, shared_budget=self.shared_budget,
                     extra=self.extra_config)  # fmt: skip
        with (self.root / "fork-server.log").open("ab") as errors:
            self._server = await asyncio.create_subprocess_exec(
                sys.executable, "-c", FORK_SERVER, str(self.config), str(self.root),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=errors, start_new_session=True,
            )  # fmt: skip
        assert await self._line(120) == "ready"
        await self.start_process("scheduler")
        await self.serving("scheduler")
        for name in self.worker_names:
            await self.start_process(name)
        for name in self.worker_names:
            await self.serving(name)
        await self._start_haproxy()

    def environment(self, name: str) -> dict[str, str]:
        env = {"NEEDSFIRST_WEB_PORT": str(self.ports[name])}
        if name != "scheduler" and not name.startswith("scheduler"):
            env["NEEDSFIRST_SCHEDULER_ENABLED"] = "false"
        return env

    async def start_process(self, name: str, env: dict[str, str] | None = None) -> None:
        """Start (or kill and start again) `needsfirst run` as this worker or scheduler."""
        if name not in self.ports:
            self.ports[name] = free_port()
        environment = {**self.environment(name), **(env or {})}
        self.pids[name] = int(await self._say(f"start {name} {json.dumps(environment)}"))

    async def kill(self, name: str) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        await self._say(f"kill {name}")
        self.pids.pop(name, None)

    async def stop(self, name: str) -> int:
        """SIGTERM, as systemd stops a service; its exit status."""
        status = await self._say(f"stop {name}")
        self.pids.pop(name, None)
        return int(status) if status.lstrip("-").isdigit() else -1

    async def serving(self, name: str, seconds: float = 120) -> None:
        """Wait until this process answers its health check."""
        await healthy(f"http://127.0.0.1:{self.ports[name]}/healthz", seconds)

    async def admin(self, command: str) -> str:
        """A command on HAProxy's runtime API (its admin socket)."""
        reader, writer = await asyncio.open_unix_connection(str(self.admin_socket))
        writer.write(command.encode() + b"\n")
        await writer.drain()
        answer = await reader.read()
        writer.close()
        return answer.decode()

    async def drain(self, name: str) -> None:
        """Take a worker out of rotation gently: no new calls, those under way finish."""
        await self.admin(f"set server workers/{name} state drain")

    async def ready(self, name: str) -> None:
        await self.admin(f"set server workers/{name} state ready")

    async def server_states(self) -> dict[str, str]:
        """Each worker's state as HAProxy sees it: UP, DOWN, DRAIN, MAINT..."""
        states = {}
        for line in (await self.admin("show stat")).splitlines():
            parts = line.split(",")
            if len(parts) > 17 and parts[0] == "workers" and parts[1] in self.ports:
                states[parts[1]] = parts[17]
        return states

    async def _start_haproxy(self) -> None:
        config = self.root / "haproxy.cfg"
        servers = {name: self.ports[name] for name in self.worker_names}
        config.write_text(render_haproxy(f"127.0.0.1:{self.lb_port}", self.admin_socket, servers),
                          encoding="utf-8")  # fmt: skip
        with (self.root / "haproxy.log").open("ab") as log:
            self._haproxy = await asyncio.create_subprocess_exec(
                "haproxy", "-db", "-f", str(config), stdout=log, stderr=log,
                start_new_session=True,
            )  # fmt: skip
        await healthy(f"{self.url}/healthz", 30)

    async def _line(self, seconds: float) -> str:
        assert self._server is not None and self._server.stdout is not None
        async with asyncio.timeout(seconds):
            return (await self._server.stdout.readline()).decode().strip()

    async def _say(self, command: str) -> str:
        assert self._server is not None and self._server.stdin is not None
        self._server.stdin.write(command.encode() + b"\n")
        await self._server.stdin.drain()
        return await self._line(60)

    def logs(self, last: int = 3000) -> str:
        """The end of each process's log, for a failing test's report."""
        parts = []
        for log in sorted(self.root.glob("*.log")):
            text = log.read_text(encoding="utf-8", errors="replace")
            if text.strip():
                parts.append(f"--- {log.name}\n{text[-last:]}")
        return "\n".join(parts)

    async def close(self) -> None:
        if self._haproxy is not None and self._haproxy.returncode is None:
            self._haproxy.terminate()
            await self._haproxy.wait()
        if self._server is not None and self._server.returncode is None:
            assert self._server.stdin is not None
            for name in list(self.pids):  # SIGTERM first: each lets go of its connections
                with suppress(Exception):
                    await self.stop(name)
            self._server.stdin.close()
            try:
                async with asyncio.timeout(30):
                    await self._server.wait()
            except TimeoutError:
                self._server.kill()
                await self._server.wait()
                for pid in self.pids.values():
                    with suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGKILL)


async def healthy(url: str, seconds: float) -> None:
    async with asyncio.timeout(seconds), aiohttp.ClientSession() as http:
        while True:
            with suppress(aiohttp.ClientError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
