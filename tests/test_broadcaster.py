"""Broadcast invitations sent by the real bot, against the fake Bot API, on both databases.

Residents are made through the conversation service (consent and an area, as the
example consultation asks), not through Telegram, to keep the tests fast.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import random
from collections import Counter
from contextlib import suppress
from dataclasses import replace

import aiohttp
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from telegram.error import RetryAfter

from bot.app import Service
from bot.telegram.broadcaster import BUTTON, SenderSettings
from bot.telegram.other_senders import OtherSenders
from bot.telegram.pacing import BudgetLimiter, SendBudget, Slot, Spread
from conversations.flow import callbacks
from conversations.flow.messages import Message
from conversations.residents.service import ConversationService, Who
from conversations.staff import broadcasts
from conversations.staff.broadcasts import BroadcastError
from conversations.storage.db import make_engine
from conversations.storage.models import Broadcast, BroadcastRecipient, ChannelIdentity, Resident
from tests.fakes.telegram_api import FakeBotAPI, Fault
from tests.telegram_harness import bot_config, expect, running_bot

FAST = SenderSettings(poll_interval=0.05, progress_interval=0.2, send_timeout=0.5)
FACILITATOR = 9000
_keys = itertools.count(1)


@pytest.fixture
def bot(bot: Service) -> Service:
    """The running service (the fake at Telegram's limits: 30 a second, 1 a chat), sending fast."""
    assert bot.broadcaster is not None
    bot.broadcaster.settings = FAST
    return bot


# -- helpers


def _press(service: ConversationService, who: Who, inbox: list[Message], label: str) -> None:
    data = next(b.data for m in inbox for row in m.buttons for b in row if label in b.label)
    inbox.extend(service.press(who, data, update_key=f"b{next(_keys)}"))


def join(service: ConversationService, user_id: int, area: str = "North") -> None:
    """A resident who agreed to take part and gave an area (North or South)."""
    who = Who("telegram", str(user_id), str(user_id), "en")
    inbox = service.start(who, "example", update_key=f"b{next(_keys)}")
    _press(service, who, inbox, "happy to take part")
    _press(service, who, inbox, area)


async def residents(fake: FakeBotAPI, bot: Service, ids: range, area: str = "North") -> None:
    def make() -> None:
        for user_id in ids:
            join(bot.conversations, user_id, area)

    await asyncio.to_thread(make)
    for user_id in ids:
        fake.user(user_id, started=True)  # they joined, so the bot may write to them


async def queue(bot: Service, message: str, *, group: str | None = None,
                progress: int | None = None) -> int:  # fmt: skip
    """Queue a broadcast as a facilitator would, and wake the sender."""

    def create() -> int:
        with Session(bot.db) as session, session.begin():
            draft, _ = broadcasts.draft(
                session=session,
                slug="example",
                message=message,
                created_by="test",
                group=broadcasts.parse_group(group),
            )
            assert draft.id is not None
            broadcasts.queue(
                session=session,
                broadcast_id=draft.id,
                actor="test",
                progress_chat_id=str(FACILITATOR) if progress else None,
                progress_message_id=progress,
            )
            return draft.id

    broadcast_id = await asyncio.to_thread(create)
    if bot.broadcaster is not None:
        bot.broadcaster.wake()
    return broadcast_id


async def progress_message(fake: FakeBotAPI, bot: Service) -> int:
    """The message the facilitator watches, as the staff command would send it."""
    fake.user(FACILITATOR, started=True)
    assert bot.telegram is not None
    sent = await bot.telegram.bot.send_message(FACILITATOR, "Broadcast queued.")
    return sent.message_id


async def finished(db_url: str, broadcast_id: int, timeout: float = 30.0) -> broadcasts.Progress:  # noqa: ASYNC109
    db = make_engine(db_url)

    def read() -> broadcasts.Progress:
        with Session(db) as session:
            return broadcasts.progress(session=session, broadcast_id=broadcast_id)

    try:
        async with asyncio.timeout(timeout):
            # Polls the database, as a facilitator's `broadcast status` would.
            while (report := await asyncio.to_thread(read)).status != "done":  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        return report
    finally:
        db.dispose()


def received(fake: FakeBotAPI, text: str) -> Counter[int]:
    """How many times each simulated user got a message with this text."""
    return Counter({uid: n for uid, user in fake.users.items() if (n := user.texts.count(text))})


def states(db_url: str, broadcast_id: int) -> dict[str, str]:
    """Each recipient's state, by Telegram chat id."""
    db = make_engine(db_url)
    try:
        with Session(db) as session:
            rows = session.exec(
                select(ChannelIdentity.chat_id, BroadcastRecipient.state)
                .join(
                    ChannelIdentity,
                    ChannelIdentity.resident_id == BroadcastRecipient.resident_id,  # type: ignore[arg-type]
                )
                .where(BroadcastRecipient.broadcast_id == broadcast_id)
            ).all()
        return dict(rows)
    finally:
        db.dispose()


# -- end to end


async def test_every_resident_gets_the_invitation_exactly_once(
    fake: FakeBotAPI, bot: Service, db_url: str
) -> None:
    await residents(fake, bot, range(1001, 1031))
    watching = await progress_message(fake, bot)
    broadcast_id = await queue(
        bot, "Round 2 is open: tell us what matters most.", progress=watching
    )
    report = await finished(db_url, broadcast_id)
    assert (report.total, report.sent, report.failed, report.blocked) == (30, 30, 0, 0)
    got = received(fake, "Round 2 is open: tell us what matters most.")
    assert got == Counter({uid: 1 for uid in range(1001, 1031)})
    invitation = fake.user(1001).messages[-1]
    button = invitation["reply_markup"]["inline_keyboard"][0][0]
    assert (button["text"], button["callback_data"]) == (BUTTON, callbacks.join_data("example"))
    # The facilitator's message was edited as it went, and says so at the end.
    facilitator = fake.user(FACILITATOR)
    assert len(facilitator.messages) == 1
    await facilitator.wait_until(lambda: "done" in facilitator.messages[0]["text"])
    assert "Sent 30 of 30" in facilitator.messages[0]["text"]
    assert len(fake.calls_to("editMessageText")) >= 1
    # The button takes the resident back to the consultation.
    await fake.user(1001).press(BUTTON)
    await expect(fake.user(1001), "How old are you?")


async def test_a_group_broadcast_reaches_only_that_group(
    fake: FakeBotAPI, bot: Service, db_url: str
) -> None:
    await residents(fake, bot, range(2001, 2006), area="South")
    await residents(fake, bot, range(2101, 2106), area="North")
    broadcast_id = await queue(bot, "South: we have not heard from you yet.", group="area=south")
    report = await finished(db_url, broadcast_id)
    assert report.sent == 5
    got = received(fake, "South: we have not heard from you yet.")
    assert got == Counter({uid: 1 for uid in range(2001, 2006)})


async def test_stop_is_respected_before_and_after_queueing(
    fake: FakeBotAPI, bot: Service, db_url: str
) -> None:
    await residents(fake, bot, range(3001, 3006))
    stop = bot.conversations.stop
    await asyncio.to_thread(stop, Who("telegram", "3001", "3001", "en"), update_key="s1")
    assert bot.broadcaster is not None
    await bot.broadcaster.stop()  # so that 3002 says /stop after queueing, before sending
    broadcast_id = await queue(bot, "Please take part.")
    await asyncio.to_thread(stop, Who("telegram", "3002", "3002", "en"), update_key="s2")
    bot.broadcaster.start()
    report = await finished(db_url, broadcast_id)
    assert (report.total, report.sent, report.stopped) == (4, 3, 1)
    assert received(fake, "Please take part.") == Counter({3003: 1, 3004: 1, 3005: 1})
    assert states(db_url, broadcast_id)["3002"] == "stopped"


async def test_a_resident_who_blocked_the_bot_is_not_tried_again(
    fake: FakeBotAPI, bot: Service, db_url: str
) -> None:
    await residents(fake, bot, range(4001, 4006))
    fake.blocked.add(4003)
    first = await finished(db_url, await queue(bot, "First invitation."))
    assert (first.sent, first.blocked) == (4, 1)
    with Session(bot.db) as session:
        unreachable = session.exec(select(Resident.pseudonym).where(Resident.unreachable)).all()
    assert len(unreachable) == 1
    second_id = await queue(bot, "Second invitation.")
    second = await finished(db_url, second_id)
    assert (second.total, second.sent) == (4, 4)
    assert "4003" not in states(db_url, second_id)
    tried = [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == 4003]
    assert len(tried) == 1


async def test_retry_after_is_waited_out_and_nothing_is_lost_or_doubled(
    fake: FakeBotAPI, bot: Service, db_url: str
) -> None:
    await residents(fake, bot, range(5001, 5011))
    fake.inject_fault("sendMessage", Fault.flood(retry_after=1), times=2)
    report = await finished(db_url, await queue(bot, "Have your say."))
    assert report.sent == 10
    assert received(fake, "Have your say.") == Counter({uid: 1 for uid in range(5001, 5011)})
    calls = fake.calls_to("sendMessage")
    refused = [c for c in calls if c.status == 429]
    assert len(refused) >= 2
    for call in refused:  # the same recipient again, no sooner than Telegram said
        chat = call.params["chat_id"]
        retry = next(c for c in calls if c.params["chat_id"] == chat and c.status == 200)
        assert retry.time - call.time >= 0.95


async def test_a_timeout_counts_as_failed_and_is_not_retried(
    fake: FakeBotAPI, bot: Service, db_url: str
) -> None:
    await residents(fake, bot, range(6001, 6006))
    # The first invitation's answer never comes back in time (though it may be delivered).
    fake.inject_fault("sendMessage", Fault.hang(1.5))
    broadcast_id = await queue(bot, "Tell us more.")
    report = await finished(db_url, broadcast_id)
    assert (report.sent, report.failed) == (4, 1)
    failed = [chat for chat, state in states(db_url, broadcast_id).items() if state == "failed"]
    received_calls = [c for c in fake.calls if c.method == "sendMessage"]  # answered or not
    calls = Counter(c.params["chat_id"] for c in received_calls)
    assert calls[int(failed[0])] == 1
    assert all(n <= 1 for n in received(fake, "Tell us more.").values())


async def test_after_a_crash_the_broadcast_resumes_and_nobody_gets_two(
    fake: FakeBotAPI, db_url: str
) -> None:
    config = bot_config(fake, db_url)
    fake.delay = 0.2  # sends stay in flight, so the crash leaves rows in "sending"
    async with running_bot(config) as first:
        assert first.broadcaster is not None
        first.broadcaster.settings = FAST
        await residents(fake, first, range(7001, 7041))
        broadcast_id = await queue(first, "We're back: round 2.")
        await fake.wait_for_call("sendMessage", count=10, answered=False, timeout=30)
        crashed = first.broadcaster.task
        assert crashed is not None
        crashed.cancel()  # abruptly: nothing recorded, nothing put back
        with suppress(asyncio.CancelledError):
            await crashed
        left = states(db_url, broadcast_id)
        assert "sending" in left.values() and "pending" in left.values()
    fake.delay = 0.0
    async with running_bot(config) as second:
        assert second.broadcaster is not None
        second.broadcaster.settings = FAST
        second.broadcaster.wake()
        report = await finished(db_url, broadcast_id)
    assert report.total == 40 and report.pending == report.sending == 0
    got = received(fake, "We're back: round 2.")
    assert max(got.values()) == 1  # nobody twice
    final = states(db_url, broadcast_id)
    assert all(got[int(chat)] == 1 for chat, state in final.items() if state == "sent")
    # Only invitations caught mid-send can be missing, and they are counted as failed.
    missing = [chat for chat in final if got[int(chat)] == 0]
    assert all(final[chat] == "failed" for chat in missing)
    assert report.failed <= FAST.max_batch + FAST.concurrency


async def test_a_broadcast_among_talking_residents_earns_no_429(
    fake: FakeBotAPI, bot: Service, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Round trips of 20 to 70 ms, so requests overtake one another on the way.
    fake.delay, fake.jitter, fake.talking_limit = 0.02, 0.05, 3
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # a 429 would be a RetryAfter, not a warning
    await residents(fake, bot, range(8001, 8091))
    broadcast_id = await queue(bot, "Round 3 is open.", progress=await progress_message(fake, bot))
    talking = True

    async def talk(user_id: int) -> None:
        user = fake.user(user_id)
        while talking:
            await user.send_command("/start", "example")
            await asyncio.sleep(1.5)  # a quick talker: a reply or two each time

    talkers = [asyncio.create_task(talk(user_id)) for user_id in range(8901, 8909)]
    try:
        report = await finished(db_url, broadcast_id)
    finally:
        talking = False
        await asyncio.gather(*talkers)
    assert report.sent == 90
    assert received(fake, "Round 3 is open.") == Counter({uid: 1 for uid in range(8001, 8091)})
    assert sum(len(fake.user(u).messages) for u in range(8901, 8909)) >= 8  # they were answered
    assert fake.too_many_requests == []
    # Each recipient is sent to as soon as claimed, so they go out (nearly) in claim order,
    # and a crash finds few claimed but unsent: nobody waits behind a queue of their own.
    order = [
        c.params["chat_id"] - 8001
        for c in fake.calls_to("sendMessage")
        if 8001 <= c.params["chat_id"] <= 8090
    ]
    assert max(abs(position - n) for position, n in enumerate(order)) <= 4


async def test_the_configured_headroom_reaches_the_sender(fake: FakeBotAPI, db_url: str) -> None:
    config = bot_config(fake, db_url)
    config = replace(config, telegram=replace(config.telegram, broadcast_headroom=4))
    async with running_bot(config) as service:
        assert service.broadcaster is not None
        assert service.broadcaster.budget.headroom == 4
        assert service.broadcaster.budget.cap == 26


def test_other_processes_updates_hold_places_for_their_replies(db: Engine) -> None:
    from datetime import timedelta

    from conversations.storage.models import InboxEntry, utcnow

    budget = SendBudget()
    others = OtherSenders(db, budget, "me", window=2.0)
    now = utcnow()
    with Session(db) as session, session.begin():
        for n, (channel, by, age) in enumerate(
            [("telegram", "worker-2", 0.5)] * 4  # counted: 4 updates in 2 s, 2 replies each
            + [("telegram", "worker-3", 1.5)]  # counted
            + [("telegram", "me", 0.5)] * 3  # this process's own: already in its budget
            + [("web", "worker-2", 0.5)]  # web chat replies do not go through Telegram
            + [("telegram", "worker-2", 9.0)]  # long gone from Telegram's window
        ):
            session.add(InboxEntry(channel=channel, update_key=f"u{n}", handled_by=by,
                                   handled_at=now - timedelta(seconds=age)))  # fmt: skip
    assert others.handled_elsewhere() == 5
    assert others.places(5) == 5  # 2.5 updates a second, 2 replies each
    budget.others = others.places(5)
    assert (budget.cap, budget.reply_limit) == (25, 25)
    budget.others = 40  # never more than half: replies and broadcasts keep the rest
    assert (budget.others, budget.cap, budget.reply_limit) == (15, 15, 15)


@pytest.mark.slow
async def test_a_broadcast_leaves_room_for_a_webhook_workers_replies(
    fake: FakeBotAPI, bot: Service, db_url: str
) -> None:
    """Another process answers residents with the same token while the broadcast goes."""
    from conversations.storage.models import InboxEntry, utcnow

    await residents(fake, bot, range(8001, 8121))
    worker_chats = list(range(8901, 8911))
    for chat in worker_chats:
        fake.user(chat, started=True)
    db = make_engine(db_url)
    sending = True

    async def worker() -> None:
        # Like a webhook worker: each update goes into the inbox, then its reply out,
        # five a second (an estimate of 2 replies each leaves it room to spare).
        assert bot.telegram is not None
        for n in itertools.count():
            if not sending:
                return

            def handled(key: str = f"w{n}") -> None:
                with Session(db) as session, session.begin():
                    session.add(InboxEntry(channel="telegram", update_key=key,
                                           handled_by="worker-2", handled_at=utcnow()))  # fmt: skip

            await asyncio.to_thread(handled)
            async with aiohttp.ClientSession() as http:
                await http.post(
                    f"{fake.base_url}{bot.config.telegram.token}/sendMessage",
                    json={"chat_id": worker_chats[n % 10], "text": "A worker's reply"},
                )
            await asyncio.sleep(0.2)

    talking = asyncio.create_task(worker())
    await asyncio.sleep(2.5)  # the worker is already answering when the broadcast starts
    try:
        broadcast_id = await queue(bot, "Round 4 is open.")
        report = await finished(db_url, broadcast_id)
    finally:
        sending = False
        await talking
        db.dispose()
    assert report.sent == 120
    assert fake.too_many_requests == []
    assert bot.broadcaster is not None and bot.broadcaster.budget.others == 0  # given back


def test_no_recipients_is_a_clear_error(db: Engine) -> None:
    from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation

    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    with (
        Session(db) as session,
        session.begin(),
        pytest.raises(BroadcastError, match="no opted-in residents"),
    ):
        broadcasts.draft(
                session=session, slug="example", message="Hello", created_by="test",
                group=("area", "nowhere"),
            )  # fmt: skip
    with Session(db) as session:
        assert session.exec(select(Broadcast)).all() == []
        assert session.exec(select(BroadcastRecipient)).all() == []


# -- the budget, on a clock of our own


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_telegram_never_counts_more_than_30_wherever_in_the_round_trip_it_counts() -> None:
    """A simulated broadcast with replies, 50 to 100 ms round trips (so requests overtake
    one another) and Telegram counting each message at a random moment of its trip."""
    rng = random.Random(5)
    clock = Clock()
    budget = SendBudget(limit=30, clock=clock)
    in_flight: list[tuple[float, Slot]] = []  # (answered at, slot)
    counted: list[float] = []  # when the server counted each message
    replies_due: list[float] = []
    sent = 0

    def send(slot: Slot) -> None:
        trip = rng.uniform(0.05, 0.10)
        counted.append(clock.now + rng.uniform(0.0, trip))
        in_flight.append((clock.now + trip, slot))

    for step in range(10_000):  # 10 seconds in steps of 1 ms
        clock.now = 100.0 + step / 1000
        for answered in [item for item in in_flight if item[0] <= clock.now]:
            in_flight.remove(answered)
            budget.done(answered[1])
        if rng.random() < 0.008:  # 8 replies a second, now and then several at once
            replies_due.extend([clock.now] * rng.choice((1, 1, 1, 2, 3)))
        while replies_due and budget.reply_wait() == 0:
            replies_due.pop()
            send(budget.note(f"resident-{step}"))
        if not replies_due:  # replies that wait go first
            while budget.wait_time(f"r{sent}") == 0:
                send(await budget.acquire(f"r{sent}"))
                sent += 1
    counted.sort()
    busiest = max(bisect.bisect_left(counted, t + 1.0) - i for i, t in enumerate(counted))

    assert busiest <= 30
    # And it still sends close to the limit: 30 places, each held a second plus the trip.
    steady = [t for t in counted if 101.0 <= t < 109.0]
    assert len(steady) / 8 >= 0.97 * 30 / (1 + 0.075)
    assert budget.conversation_sends >= 60


async def test_a_waiting_reply_takes_the_next_place_before_any_broadcast() -> None:
    clock = Clock()  # time stands still: only answers free places
    budget = SendBudget(limit=30, clock=clock)
    slots = [await budget.acquire(f"r{n}") for n in range(2)]
    slots += [budget.note(f"earlier-{n}") for n in range(28)]
    assert budget.held() == 30 and budget.wait_time() > 0
    limiter = BudgetLimiter(budget)
    calls: list[int] = []

    async def send(n: int) -> bool:
        calls.append(n)
        return True

    reply = asyncio.create_task(
        limiter.process_request(send, (7,), {}, "sendMessage", {"chat_id": 7}, None)
    )
    broadcast = asyncio.create_task(budget.acquire("r-next"))
    await asyncio.sleep(0.05)
    assert calls == [] and not broadcast.done()  # 31 in a second would be a certain 429
    assert budget.wait_time() == math.inf  # broadcasts stand back while a reply waits
    budget.done(slots[0])  # its answer came back, but Telegram may count it for 1 s more
    await asyncio.sleep(0.05)
    assert calls == []
    clock.now += budget.span
    async with asyncio.timeout(5):
        await reply
    assert calls == [7] and not broadcast.done()
    budget.done(slots[1])
    clock.now += budget.span
    async with asyncio.timeout(5):
        await broadcast


def test_a_message_holds_its_place_until_a_second_after_its_answer() -> None:
    clock = Clock()
    budget = SendBudget(limit=3, clock=clock)
    slot = budget.note(1)
    clock.now += 5.0  # no answer yet: Telegram may not have counted it yet
    assert budget.held() == 1
    budget.done(slot)
    clock.now += budget.span - 0.01
    assert budget.held() == 1
    clock.now += 0.02
    assert budget.held() == 0


def test_a_chat_that_just_heard_from_the_bot_waits_a_second() -> None:
    clock = Clock()
    budget = SendBudget(clock=clock)
    slot = budget.note(42)
    assert budget.wait_time(42) > 1.0  # until its answer, and a second after
    budget.done(slot)
    assert budget.wait_time(42) == pytest.approx(1.0) == budget.chat_wait(42)
    assert budget.wait_time(43) == 0 == budget.chat_wait(43)
    clock.now += 0.6
    assert budget.wait_time("42") == pytest.approx(0.4)


def test_headroom_is_left_for_replies_and_checked() -> None:
    clock = Clock()
    budget = SendBudget(limit=30, headroom=3, clock=clock)
    for n in range(27):
        budget.note(n)
    assert budget.cap == 27 and budget.room() == 0 and budget.wait_time() > 0
    assert budget.reply_wait() == 0
    with pytest.raises(ValueError, match="headroom"):
        SendBudget(limit=30, headroom=30)


def test_a_429_pauses_broadcasts_and_slows_them_for_a_while() -> None:
    clock = Clock()
    budget = SendBudget(limit=30, headroom=2, recovery=10, clock=clock)
    budget.flooded(3)
    assert budget.wait_time() == pytest.approx(3.0) and budget.room() == 0
    clock.now += 3
    assert budget.cap == 26
    clock.now += 20
    assert budget.cap == 28


def test_a_window_spreads_what_is_left_evenly() -> None:
    spread = Spread()
    spread.plan(remaining=600, seconds_left=3600)
    assert spread.spacing == 6.0
    spread.plan(remaining=10, seconds_left=-5)  # the window is over: as fast as allowed
    assert spread.spacing == 0.0


async def test_without_a_broadcast_replies_are_never_held() -> None:
    clock = Clock()  # time stands still: anything that waited would wait for ever
    budget = SendBudget(clock=clock)
    limiter = BudgetLimiter(budget)
    sent: list[int] = []

    async def send(n: int) -> bool:
        sent.append(n)
        return True

    async with asyncio.timeout(5):
        await asyncio.gather(
            *(
                limiter.process_request(send, (n,), {}, "sendMessage", {"chat_id": n}, None)
                for n in range(100)
            )
        )
    assert len(sent) == 100 and budget.conversation_sends == 100


async def test_a_reply_refused_with_429_is_sent_once_more_and_broadcasts_pause() -> None:
    budget = SendBudget()
    limiter = BudgetLimiter(budget)
    attempts: list[str] = []

    async def send() -> bool:
        attempts.append("try")
        if len(attempts) == 1:
            raise RetryAfter(0)
        return True

    assert await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert len(attempts) == 2 and budget.floods == 1
