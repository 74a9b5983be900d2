"""A WhatsApp service killed at the worst moments loses no answer and stores none twice.

Meta answers a webhook call only once it is written down (200), and retries the
calls it could not deliver; the service handles again at start-up what it had
accepted but not finished. Here the service runs as `needsfirst run` in its own
process and is killed with SIGKILL while a reply is on its way (the answer stored,
the reply not yet sent), and while it is down as residents write.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.test_crash import answers, kill, pending_updates
from tests.test_restart import free_port, start_service
from tests.whatsapp_harness import Chat, config_file

# Meta retries for days; these cover a restart of the service (a few seconds).
RETRIES = (0.2, 0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0)


@pytest.mark.slow
async def test_killed_mid_reply_and_while_down_loses_and_repeats_nothing(tmp_path: Path) -> None:
    async with FakeWhatsApp(retry_delays=RETRIES) as wa:
        db_url = f"sqlite:///{tmp_path / 'needsfirst.db'}"
        port = free_port()
        config = config_file(tmp_path / "config.toml", wa, db_url, port)
        wa.webhook_url = f"http://127.0.0.1:{port}/whatsapp/webhook"
        chat = Chat(wa, "447700900101")
        process = start_service(config)
        try:
            await chat.send("start example")  # retried by the fake until the service is up
            await chat.expect("Are you happy to take part?", timeout=60)
            await chat.choose("Yes, I'm happy to take part")
            await chat.expect("Which part of the borough")
            await chat.choose("North (Hillside, Oakfield)")
            await chat.expect("How old are you?")
            # The answer is stored, then its reply hangs on a slow Cloud API: killed there.
            wa.latency = 5.0
            await chat.choose("35 to 64")
            await asyncio.sleep(1.5)
            await kill(process)
            wa.latency = 0.0
            assert pending_updates(db_url) == 1  # accepted, not finished
            # While it is down, the resident answers the question they saw before.
            sent = asyncio.create_task(
                chat.send("The last bus is at six, so I miss evening classes.")
            )
            await asyncio.sleep(1.0)
            process = start_service(config)
            await chat.expect("In your own words", timeout=60)
            assert await sent
            await chat.expect("Who else does this affect?", timeout=60)
        finally:
            await kill(process)
    steps = answers(db_url)
    assert steps == [
        ("area", "north"),
        ("age", "35-64"),
        ("need", "The last bus is at six, so I miss evening classes."),
    ]
