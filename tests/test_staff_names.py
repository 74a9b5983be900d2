"""Staff display names ([staff.names]): checked at start-up, re-read while running, and
shown wherever the dashboard says who did something; the audit log keeps the id."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.staff_roster import StaffRoster, actor_name
from bot.config import ConfigError, StaffConfig
from bot.config_loading import load_config
from conversations.storage import store
from conversations.storage.models import AuditEntry
from tests.web_helpers import ADMIN, FACILITATOR, sign_in, web_client, web_config

NAMED = StaffConfig(names=((111, "Asha Patel (Housing)"),))


@pytest.mark.parametrize(
    ("actor", "shown"),
    [
        ("staff:111", "Asha Patel (Housing)"),
        ("telegram:111", "Asha Patel (Housing)"),
        ("staff:222", "staff member 222"),
        ("staff:email:jo.bloggs@council.example", "jo.bloggs@council.example"),
        ("cli:root", "Command line (root)"),
        ("cli", "Command line"),
        ("system:digest", "The service (weekly digest)"),
        ("system:start-up", "The service (start-up)"),
        ("scheduler", "The scheduler (a round's set time)"),
        ("staff:", "staff:"),
        ("staff:١١١", "staff:١١١"),  # not an ASCII id: shown as stored
        ("test", "test"),
    ],
)
def test_every_actor_reads_as_a_person_would(actor: str, shown: str) -> None:
    assert actor_name(actor, NAMED) == shown


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ('[staff.names]\nasha = "Asha"\n', 'staff.names."asha"', "Telegram user id"),
        ('[staff.names]\n"0111" = "Asha"\n', 'staff.names."0111"', "Telegram user id"),
        ('[staff.names]\n"111" = "  "\n', 'staff.names."111"', "not empty"),
        ('[staff.names]\n"111" = 7\n', 'staff.names."111"', "not empty"),
        (f'[staff.names]\n"111" = "{"x" * 81}"\n', 'staff.names."111"', "80 characters"),
        ('[staff.names]\n"111" = "Asha\\nPatel"\n', 'staff.names."111"', "one line"),
        ("[staff]\nnames = 3\n", "staff.names", "table of id = name"),
    ],
)
def test_a_bad_name_stops_the_start_naming_file_and_key(
    tmp_path: Path, body: str, key: str, problem: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    assert raised.value.source == str(path) and raised.value.key == key
    assert problem in raised.value.problem


def test_names_from_the_file_and_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[staff]\nofficers = [111]\n[staff.names]\n"111" = " Asha Patel "\n', "utf-8")
    assert load_config(path, environ={}).staff.names == ((111, "Asha Patel"),)
    variable = {"NEEDSFIRST_STAFF_NAMES": "111=Asha Patel (Housing); 222=Ben Okafor"}
    assert load_config(path, environ=variable).staff.names == (
        (111, "Asha Patel (Housing)"),
        (222, "Ben Okafor"),
    )
    with pytest.raises(ConfigError, match=r"NEEDSFIRST_STAFF_NAMES.*Telegram user id"):
        load_config(path, environ={"NEEDSFIRST_STAFF_NAMES": "asha=Asha"})
    with pytest.raises(ConfigError, match="id=name entries"):
        load_config(path, environ={"NEEDSFIRST_STAFF_NAMES": "111=A; 111=B"})


def write(path: Path, body: str) -> None:
    path.write_text(body, encoding="utf-8")
    later = path.stat().st_mtime + 2
    os.utime(path, (later, later))


def test_names_are_re_read_with_staff(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write(path, "[staff]\nadmins = [33]\n")
    roster = StaffRoster(load_config(path, environ={}), environ={})
    assert roster.who("staff:33") == "staff member 33"
    write(path, '[staff]\nadmins = [33]\n[staff.names]\n"33" = "Chidi Eze"\n')
    assert roster.who("staff:33") == "Chidi Eze"


async def test_the_dashboard_names_who_did_what_and_keeps_the_id(db: Engine) -> None:
    base = web_config()
    named = ((ADMIN, "Chidi Eze (Policy)"), (FACILITATOR, "Asha <b>Patel</b>"))
    config = replace(base, staff=replace(base.staff, names=named))
    async with web_client(db, config) as client:
        with Session(db) as session, session.begin():
            store.audit(session=session, actor=f"staff:{FACILITATOR}", action="round.close",
                        target="example#1")  # fmt: skip
            store.audit(session=session, actor="cli:root", action="round.open", target="example#2")
            store.audit(session=session, actor="staff:999", action="export.csv", target="example")
        await sign_in(client, db, config, ADMIN)
        home = await (await client.get("/staff/")).text()
        assert "Signed in as Chidi Eze (Policy) (" in home
        audit = await (await client.get("/staff/audit")).text()
        assert "Asha &lt;b&gt;Patel&lt;/b&gt;" in audit  # a name is text, never markup
        assert "Command line (root)" in audit and "staff member 999" in audit
        assert f"staff:{FACILITATOR}" not in audit
    with Session(db) as session:
        actors = set(session.exec(select(AuditEntry.actor)).all())
        assert {f"staff:{FACILITATOR}", "cli:root", "staff:999"} <= actors
