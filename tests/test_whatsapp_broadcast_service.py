"""WhatsApp broadcasts in the running service, against the fake Cloud API: the sender
started with the scheduler shares the number's rate with residents' replies, receipts
come back by status webhook, the one reminder goes as the reminder template, and a
service killed mid-broadcast (SIGKILL) sends nobody twice after its restart."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.app import prepare_database
from bot.config import RemindersConfig
from conversations.staff import broadcasts
from conversations.storage.db import make_engine
from conversations.storage.models import Resident
from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.test_crash import kill
from tests.test_restart import free_port, start_service
from tests.whatsapp_broadcasting import (
    TEMPLATES,
    add_templates,
    open_rows,
    queue_broadcast,
    rows,
    settings,
    settled_memory,
    wa_resident,
)
from tests.whatsapp_harness import VERIFY_TOKEN, Chat, running_service, until, whatsapp_config


@pytest.mark.slow
async def test_the_service_sends_within_the_rate_replies_share_with_receipts_and_reminders(
    db_url: str,
) -> None:
    async with FakeWhatsApp(throughput=10, latency=0.02) as fake:
        add_templates(fake)
        config = whatsapp_config(fake, db_url)
        config = replace(config, whatsapp=settings(fake, throughput=10),
                         reminders=RemindersConfig(after_hours=0))  # fmt: skip
        db = prepare_database(config)
        people = [wa_resident(db) for _ in range(30)]
        blocked = people[-1]
        fake.block(blocked[1])
        broadcast_id = queue_broadcast(db)
        with settled_memory():  # as `needsfirst run` tunes it (bot.app.settle_memory)
            async with running_service(config, fake) as service:
                assert service.whatsapp_sender is not None and service.receipts is not None
                # A resident takes part while the broadcast goes: their replies go first.
                chat = Chat(fake, "447700900999")
                await chat.send("start example")
                await chat.expect("Are you happy to take part?", timeout=10)
                await chat.choose("Yes, I'm happy to take part")
                await chat.expect("Which part of the borough", timeout=10)
                await until(lambda: not open_rows(db), 30, "the broadcast did not finish")
                replied = min(s.time for s in fake.sent if s.to == chat.wa_id)
                invited = max(s.time for s in fake.sent if s.template == "needs_invitation")
                assert replied < invited  # answered while the broadcast was still going
                await until(lambda: sum(r.receipt == "delivered" for r in rows(db).values()) == 29,
                            10, "no delivery receipts")  # fmt: skip
                await until(lambda: rows(db)[blocked[0]].state == "blocked", 10,
                            "no failed receipt")  # fmt: skip
                await fake.read(people[0][1])
                await until(lambda: rows(db)[people[0][0]].receipt == "read", 10, "no read receipt")
                # The one gentle reminder to the resident who stopped part-way, once.
                assert service.jobs is not None
                await service.jobs.reminders()
                await service.jobs.reminders()
        reminded = [s for s in fake.sent if s.template == TEMPLATES["reminder_template"]]
        assert [s.to for s in reminded] == [chat.wa_id]
        assert "send START to carry on" in reminded[0].parameters[0]
    # The service and the fake share this process: on a machine busy with other tests, a
    # stall of the event loop can bunch a second's paced sends with the next (one 130429,
    # put back and sent later: each resident still gets one, below). bench.whatsapp_broadcast
    # measures the rule in separate processes: none after the first second.
    assert fake.errors_by_code[130429] <= 1
    templates = Counter(s.to for s in fake.sent if s.template == "needs_invitation")
    assert set(templates) == {wa for _, wa in people} and max(templates.values()) == 1
    recorded = rows(db)
    assert (recorded[blocked[0]].state, recorded[blocked[0]].receipt) == ("blocked",
                                                                          "failed 131026")  # fmt: skip
    with Session(db) as session:
        assert session.get(Resident, blocked[0]).unreachable  # type: ignore[union-attr]
        report = broadcasts.progress(session=session, broadcast_id=broadcast_id)
    assert (report.status, report.sent, report.blocked) == ("done", 29, 1)
    db.dispose()


def config_text(fake: FakeWhatsApp, db_url: str, port: int) -> str:
    templates = "".join(f'{key} = "{name}"\n' for key, name in TEMPLATES.items())
    return (
        f'[database]\nurl = "{db_url}"\n[web]\nport = {port}\n'
        f'[whatsapp]\nphone_number_id = "{fake.phone_number_id}"\n'
        f'access_token = "{fake.access_token}"\napp_secret = "{fake.app_secret}"\n'
        f'verify_token = "{VERIFY_TOKEN}"\nbase_url = "{fake.base_url}"\n'
        f'api_version = "{fake.api_version}"\nthroughput = {fake.throughput}\n{templates}'
    )


@pytest.mark.slow
async def test_killed_mid_broadcast_and_restarted_it_sends_nobody_twice(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'needsfirst.db'}"
    async with FakeWhatsApp(throughput=20, latency=0.05) as fake:
        add_templates(fake)
        port = free_port()
        config = tmp_path / "config.toml"
        config.write_text(config_text(fake, db_url, port), encoding="utf-8")
        fake.webhook_url = f"http://127.0.0.1:{port}/whatsapp/webhook"
        db = prepare_database(whatsapp_config(fake, db_url))
        people = [wa_resident(db) for _ in range(120)]
        queue_broadcast(db)
        process = start_service(config)
        try:
            await fake.wait_for(lambda: len(fake.sent) >= 40, timeout=60, what="40 sent")
            await kill(process)  # mid-broadcast: some claimed, some in flight
            went = len(fake.sent)
            assert went < len(people)
            process = start_service(config)
            await until(lambda: not open_rows(db), 60, "the broadcast did not finish")
        finally:
            await kill(process)
    to = Counter(s.to for s in fake.sent)
    assert max(to.values()) == 1  # nobody twice
    states = Counter(r.state for r in rows(db).values())
    assert states["sent"] + states["failed"] == len(people)
    # Only what was claimed when it died is lost: at most a claim's worth and those in
    # flight, never someone the restart could still safely send to.
    assert states["failed"] <= 20 and len(to) >= len(people) - states["failed"]
    wamids = {s.wamid for s in fake.sent}
    assert all(r.provider_ref in wamids for r in rows(db).values() if r.state == "sent")
    db.dispose()
    make_engine(db_url).dispose()
