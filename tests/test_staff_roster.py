"""Adding someone to [staff] while the service runs, as the facilitator's guide says:
the service reads the change without a restart, and a link it cannot accept yet is
not used up; the page says why."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.staff_access import create_login_link
from bot.actions.staff_roster import StaffRoster
from bot.config_loading import load_config
from bot.telegram.staff import StaffCommands
from conversations.storage.models import StaffLogin
from tests.web_helpers import staff_cookie, web_client

NEWCOMER = 4242


def write_staff(path: Path, facilitators: str) -> None:
    """Rewrite the file, its modification time moved on (as a later save would)."""
    path.write_text(f"[staff]\nfacilitators = [{facilitators}]\n", encoding="utf-8")
    later = path.stat().st_mtime + 2
    os.utime(path, (later, later))


def test_the_roster_follows_the_file_and_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_staff(path, "11")
    roster = StaffRoster(load_config(path, environ={}), environ={})
    assert roster.roles(NEWCOMER) == set()
    write_staff(path, f"11, {NEWCOMER}")
    assert roster.roles(NEWCOMER) == {"facilitator"}
    path.write_text("[staff\nfacilitators = [11", encoding="utf-8")  # half-saved
    os.utime(path, (path.stat().st_mtime + 4,) * 2)
    assert roster.roles(NEWCOMER) == {"facilitator"}  # the last good [staff] stays


async def test_a_link_for_someone_not_yet_in_staff_is_kept_and_works_once_added(
    db: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    write_staff(path, "11")
    running = load_config(path, environ={})  # what the service read at start-up
    async with web_client(db, running) as client:
        write_staff(path, f"11, {NEWCOMER}")
        # `needsfirst login 4242` read the file with the newcomer in it; then the entry
        # was taken out again (or the command read another file than the service).
        link = create_login_link(db, load_config(path, environ={}), NEWCOMER)
        route = re.sub(r"^https?://[^/]+", "", link)
        write_staff(path, "11")
        refused = await client.post(route, allow_redirects=False)
        text = await refused.text()
        assert refused.status == 403 and staff_cookie(client) is None
        assert f"{NEWCOMER}" in text and str(path) in text and "not been used up" in text
        with Session(db) as session:
            assert session.exec(select(StaffLogin)).one().used_at is None
        write_staff(path, f"11, {NEWCOMER}")  # added while the service runs: no restart
        signed = await client.post(route, allow_redirects=False)
        assert signed.status == 303 and staff_cookie(client) is not None
        home = await client.get("/staff/")
        assert home.status == 200 and f"Signed in as staff member {NEWCOMER}" in await home.text()


async def test_telegram_staff_commands_follow_the_file_too(db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_staff(path, "11")
    commands = StaffCommands(load_config(path, environ={}), db)
    assert commands.roster.roles(NEWCOMER) == set()
    write_staff(path, f"11, {NEWCOMER}")  # added while the bot runs
    reply = await commands.do_login([], NEWCOMER)
    assert "/staff/login/" in reply
