"""Crash test at scale: 200 residents talk to the real bot while it is killed 20 times.

Each simulated resident goes through the example consultation (its own choices, its
own words, sometimes a second need or an idea), waiting for the bot's reply to each
input and carrying on across restarts. Meanwhile `needsfirst run` is killed with
SIGKILL at 20 moments, some at random, some right after a Bot API call was answered
(a reply sent, a prompt edited, a button acknowledged, a batch of updates confirmed
to Telegram), and started again at once. Afterwards every answer is stored exactly
once, in the order given, and everyone has finished.

Restarts are quick because the bot runs in processes forked from a parent that has
already imported it and loaded its safety models: that takes seconds, and twenty
cold starts would be most of this test. Each child runs `needsfirst run`'s own entry
point (`bot.cli.main(["run", ...])`) in a fresh process and process group.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import signal
import sys
import tomllib
from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import aiohttp
import pytest
from sqlmodel import Session, col, select

from conversations.storage.db import make_engine
from conversations.storage.models import Answer, ChannelIdentity, Conversation, PendingUpdate
from tests.fakes.telegram_api import FakeBotAPI, FakeUser
from tests.test_crash import write_config

RESIDENTS = 200
REPLY_TIMEOUT = 60.0  # a resident waits this long for each reply, restarts included
# A different seed gives other residents and other moments: NEEDSFIRST_CRASH_SEED=n.
SEED = int(os.environ.get("NEEDSFIRST_CRASH_SEED", "20261125"))

# Imports the bot once, then on each line of input kills the running child (if any)
# and forks a new one running `needsfirst run`; prints each child's pid. "stop" ends
# the child with SIGTERM instead and prints its exit status; end of input kills it.
FORK_SERVER = """
import os, signal, sys, traceback
import bot.app, bot.cli  # the slow imports, once
from conversations.screening import moderation, safeguarding

# The safety models (and the nltk stemmer they score with) that the service loads as it
# starts: loaded once here, as the imports are.
safeguarding.assess("", "en")
moderation.assess_abuse("")

config, log = sys.argv[1], sys.argv[2]
print("ready", flush=True)
child = 0

def end(sig):
    os.killpg(child, sig)
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status)

for line in sys.stdin:
    if child and line.strip() == "stop":
        print(end(signal.SIGTERM), flush=True)
        child = 0
        continue
    if child:
        end(signal.SIGKILL)
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        os.setpgid(0, 0)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
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
        os.setpgid(child, child)
    except OSError:
        pass  # the child got there first
    print(child, flush=True)
if child:
    end(signal.SIGKILL)
"""


class ForkServer:
    """Starts, kills and restarts the bot process (see FORK_SERVER)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.starts = 0
        self.child = 0

    @classmethod
    async def open(cls, config: Path, log: Path) -> ForkServer:
        with log.open("ab") as errors:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                FORK_SERVER,
                str(config),
                str(log),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=errors,
                start_new_session=True,
            )
        server = cls(process)
        assert await server._line(60) == "ready"
        return server

    async def _line(self, seconds: float) -> str:
        assert self.process.stdout is not None
        async with asyncio.timeout(seconds):
            return (await self.process.stdout.readline()).decode().strip()

    async def _say(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        return await self._line(30)

    async def restart(self) -> None:
        """Kill the bot (SIGKILL) if it runs, and start it again."""
        self.child = int(await self._say("start"))
        self.starts += 1

    async def stop(self) -> int:
        """Stop the bot with SIGTERM, as an operator would; its exit status."""
        status = int(await self._say("stop"))
        self.child = 0
        return status

    async def close(self) -> None:
        """End the fork server, which kills the bot; if it will not go, kill both."""
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                async with asyncio.timeout(20):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                if self.child:
                    with suppress(ProcessLookupError):
                        os.killpg(self.child, signal.SIGKILL)


# --- the residents ----------------------------------------------------------------

AREAS = {
    "north": "North (Hillside, Oakfield)",
    "central": "Central (Town centre, Quayside)",
    "south": "South (Marsh End, Brookvale)",
    "outside": "I don't live in the borough",
    "prefer-not": "Prefer not to say",
}
AGES = {
    "under-18": "Under 18",
    "18-34": "18 to 34",
    "35-64": "35 to 64",
    "65-plus": "65 or over",
    "prefer-not": "Prefer not to say",
}
AFFECTS = {  # in the script's order, which is the order of a stored multi-choice
    "just-me": "Mainly me",
    "family": "My family or household",
    "neighbours": "Neighbours or my street",
    "children": "Children or young people",
    "older": "Older people",
    "disabled": "Disabled people or carers",
    "many": "Many people in the area",
}
PLACES = ["bus station", "library", "park", "health centre", "high street", "swimming pool"]
PROBLEMS = ["closes too early", "is hard to reach", "has no step-free way in", "is too noisy"]


@dataclass(frozen=True)
class Turn:
    """One input and the words of the reply it waits for (for a toggle: the button)."""

    kind: Literal["start", "press", "text"]
    value: str
    reply: str


@dataclass
class Resident:
    user: FakeUser
    turns: list[Turn] = field(default_factory=list)
    answers: list[tuple[str, int, str]] = field(default_factory=list)  # step, iteration, value
    done: int = 0  # turns answered so far


def plan(user: FakeUser, rng: random.Random) -> Resident:
    """A resident's way through the example consultation, and what it should store."""
    resident = Resident(user)
    turns, answers = resident.turns, resident.answers
    area, age = rng.choice(list(AREAS)), rng.choice(list(AGES))
    turns += [
        Turn("start", "example", "Are you happy to take part?"),
        Turn("press", "Yes, I'm happy to take part", "Which part of the borough"),
        Turn("press", AREAS[area], "How old are you?"),
        Turn("press", AGES[age], "In your own words"),
    ]
    answers += [("area", 1, area), ("age", 1, age)]
    needs = 2 if rng.random() < 0.15 else 1
    for n in range(1, needs + 1):
        need = f"Resident {user.id}: the {rng.choice(PLACES)} {rng.choice(PROBLEMS)} ({n})"
        turns.append(Turn("text", need, "Who else does this affect?"))
        if rng.random() < 0.3:
            chosen = ["just-me"]
        else:
            chosen = rng.sample(list(AFFECTS)[1:], rng.randint(1, 2))
        turns += [Turn("press", f"▫️ {AFFECTS[o]}", f"✅ {AFFECTS[o]}") for o in chosen]
        turns.append(Turn("press", "Done", "what difference would it make"))
        difference = f"Resident {user.id} could get on with the day ({n})"
        turns += [
            Turn("text", difference, "Here is what I heard"),
            Turn("press", "Yes, that's right", "Is there something else"),
            Turn("press", "Yes", "In your own words")
            if n < needs
            else Turn("press", "No", "any ideas for what would help"),
        ]
        affects = ",".join(o for o in AFFECTS if o in chosen)
        answers += [("need", n, need), ("affects", n, affects), ("difference", n, difference)]
    if rng.random() < 0.2:
        idea = f"Resident {user.id} suggests a later bus"
        turns += [
            Turn("press", "Yes, I have an idea", "What would help?"),
            Turn("text", idea, "Thank you for taking part"),
        ]
        answers += [("ideas-ask", 1, "yes"), ("ideas", 1, idea)]
    else:
        turns.append(Turn("press", "No, that's all", "Thank you for taking part"))
        answers.append(("ideas-ask", 1, "no"))
    return resident


def replied(user: FakeUser, turn: Turn, seen: int, pressed_on: int | None) -> bool:
    """Whether the reply has come: new words, or for a toggle the pressed prompt edited
    (or, if it could not be edited, sent anew)."""
    if turn.reply.startswith("✅"):
        return any(
            button.get("text") == turn.reply
            for index, message in enumerate(user.messages)
            if index >= seen or message["message_id"] == pressed_on
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in row
        )
    return any(turn.reply in str(m.get("text", "")) for m in user.messages[seen:])


class Pace:
    """Holds residents' next turns back so their progress cannot run past the next kill.

    A fast bot would otherwise let them finish between two quick restarts, and the
    later kills would find nobody mid-conversation. Turns may start up to `limit`."""

    def __init__(self) -> None:
        self.started = 0
        self.limit = 0.0
        self._raised = asyncio.Event()

    async def start_turn(self) -> None:
        while self.started >= self.limit:
            self._raised.clear()
            await self._raised.wait()
        self.started += 1

    def allow(self, limit: float) -> None:
        self.limit = limit
        self._raised.set()


async def converse(resident: Resident, progress: Callable[[], None], pace: Pace) -> None:
    """Each input, then wait for its reply, however many restarts that takes."""
    user = resident.user
    for turn in resident.turns:
        await pace.start_turn()
        seen, pressed_on = len(user.messages), None
        if turn.kind == "start":
            await user.send_command("/start", turn.value)
        elif turn.kind == "press":
            pressed_on = (await user.press(turn.value))["callback_query"]["message"]["message_id"]
        else:
            await user.send_text(turn.value)
        try:
            await user.wait_until(
                partial(replied, user, turn, seen, pressed_on), timeout=REPLY_TIMEOUT
            )
        except TimeoutError:
            raise AssertionError(
                f"resident {user.id} got no reply to {turn} in {REPLY_TIMEOUT:.0f} s; "
                f"last messages: {user.texts[-3:]!r}"
            ) from None
        resident.done += 1
        progress()


# --- the crashes ------------------------------------------------------------------

# Where the bot dies, in order (spread evenly over the residents' progress). "random":
# at a random time. A Bot API method: right after the fake answered it, so that a reply
# was sent but not recorded as delivered, a prompt edited (toggles come mid-way, hence
# the edits' places), a press acknowledged before it was handled. "getUpdates": right
# after a poll arrived, which confirms the batch before it to Telegram, so only the
# bot's durable inbox still has it.
MOMENTS = [
    "random", "sendMessage", "answerCallbackQuery", "getUpdates", "sendMessage",
    "random", "editMessageText", "sendMessage", "answerCallbackQuery", "random",
    "editMessageText", "getUpdates", "sendMessage", "editMessageText", "random",
    "answerCallbackQuery", "sendMessage", "random", "sendMessage", "random",
]  # fmt: skip


async def crash_moment(fake: FakeBotAPI, moment: str, rng: random.Random) -> None:
    """Return at the moment to kill the bot."""
    if moment == "random":
        await asyncio.sleep(rng.uniform(0.0, 0.5))
    elif moment == "getUpdates":
        polls = sum(call.method == "getUpdates" for call in fake.calls)
        await fake.wait_for_call("getUpdates", polls + 1, answered=False, timeout=REPLY_TIMEOUT)
    else:
        count = len(fake.calls_to(moment))
        await fake.wait_for_call(moment, count + 1, timeout=REPLY_TIMEOUT)


async def crash_repeatedly(
    fake: FakeBotAPI,
    bot: ForkServer,
    residents: list[Resident],
    progressed: asyncio.Event,
    rng: random.Random,
    pace: Pace,
) -> list[int]:
    """Kill and restart the bot at evenly spread points of the residents' progress;
    how many residents were mid-conversation at each kill."""
    total = sum(len(r.turns) for r in residents)
    targets = [total * n // (len(MOMENTS) + 1) for n in range(1, len(MOMENTS) + 1)]
    # Until a kill's target, turns may start up to half a spacing past it, so that
    # residents cannot finish between two quick restarts.
    slack = total // (len(MOMENTS) + 1) // 2
    talking = []
    for target, moment in zip(targets, MOMENTS, strict=True):
        pace.allow(target + slack)
        while sum(r.done for r in residents) < target:
            progressed.clear()
            await progressed.wait()
        if moment != "random":
            pace.allow(math.inf)  # the call awaited (an edit, say) may need any turn
        await crash_moment(fake, moment, rng)
        talking.append(sum(0 < r.done < len(r.turns) for r in residents))
        await bot.restart()
    pace.allow(math.inf)
    return talking


def stored(db_url: str) -> tuple[dict[int, list[tuple[str, int, str]]], set[int], int]:
    """Answers per Telegram user id, in the order stored; who has completed; pending
    updates left in the durable inbox."""
    db = make_engine(db_url)
    try:
        with Session(db) as session:
            rows = session.exec(
                select(ChannelIdentity.external_id, Answer.step_id, Answer.iteration, Answer.value)
                .join(Answer, col(Answer.resident_id) == col(ChannelIdentity.resident_id))
                .order_by(col(Answer.id))
            ).all()
            conversations = session.exec(
                select(
                    ChannelIdentity.external_id, Conversation.state_json, Conversation.completed_at
                ).join(
                    Conversation, col(Conversation.resident_id) == col(ChannelIdentity.resident_id)
                )
            ).all()
            pending = len(session.exec(select(PendingUpdate.update_key)).all())
    finally:
        db.dispose()
    answers: dict[int, list[tuple[str, int, str]]] = defaultdict(list)
    for user_id, step, iteration, value in rows:
        answers[int(user_id)].append((step, iteration, value))
    completed = {
        int(user_id)
        for user_id, state, completed_at in conversations
        if json.loads(state)["phase"] == "done" and completed_at is not None
    }
    return answers, completed, pending


async def serving(config: Path, seconds: float = 60) -> None:
    """Wait until the bot started with `config` answers its health check."""
    text = await asyncio.to_thread(config.read_text, encoding="utf-8")
    port = tomllib.loads(text)["web"]["port"]
    async with asyncio.timeout(seconds), aiohttp.ClientSession() as http:
        while True:
            with suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.05)


# About 45 s a database on two cores with a load of 5 (the bot's processes use some
# 28 s of CPU). With the cores busy with other work it runs slower without hanging,
# so the suite's 120 s limit for hangs is raised here: each reply times out itself.
@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_residents_finish_and_answers_are_stored_once_across_20_kills(
    db_url: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    log = tmp_path / "bot.log"
    async with FakeBotAPI() as fake:
        # Many residents at once, their replies unpaced by design (bot/telegram/pacing.py): this
        # test is about crashes, so the fake does not count replies against 30 a second.
        fake.relax(limits=True)
        config = write_config(tmp_path / "config.toml", fake, db_url)
        bot = await ForkServer.open(config, log)
        try:
            await bot.restart()  # the first start
            residents = [plan(fake.user(100_000 + n), rng) for n in range(RESIDENTS)]
            progressed = asyncio.Event()
            pace = Pace()
            # One task group: if a resident or the crasher fails, the rest stop too.
            async with asyncio.TaskGroup() as group:
                for resident in residents:
                    group.create_task(converse(resident, progressed.set, pace))
                crashes = group.create_task(
                    crash_repeatedly(fake, bot, residents, progressed, rng, pace)
                )
            # The last restart may come just as the residents finish: let the bot get
            # going before asking it to stop (SIGTERM while it is still importing and
            # migrating ends it by the default action, which is fine but not this check).
            await serving(config)
            assert await bot.stop() == 0, "SIGTERM stops the running bot cleanly"
        except BaseException:
            sys.stderr.write(log.read_text(encoding="utf-8")[-5000:])  # the bot's last words
            raise
        finally:
            await bot.close()

    assert bot.starts == len(MOMENTS) + 1
    assert min(crashes.result()) >= 10, "every kill came while residents were mid-conversation"
    assert fake.my_commands(), "the command menu is set at start-up"
    answers, completed, pending = stored(db_url)
    for resident in residents:
        user_id = resident.user.id
        assert answers.get(user_id, []) == resident.answers, f"resident {user_id}"
    assert len(answers) == RESIDENTS
    assert completed == {r.user.id for r in residents}
    assert pending == 0, "every update fetched was handled and forgotten"
