"""Round status and coverage, counted in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from conversations.residents.service import ConversationService
from conversations.staff.coverage import format_status, opted_in_residents, round_status
from conversations.storage import store
from conversations.storage.scripts import ScriptCache
from tests.command_line import needsfirst
from tests.example_consultation import Resident_


def take_part(service: ConversationService, uid: str, area: str, age: str, *, finish: bool,
              source: str = "", channel: str = "telegram") -> None:  # fmt: skip
    resident = Resident_(service, uid, channel=channel)
    resident.start("example" + (f"--{source}" if source else ""))
    resident.press("happy to take part")
    resident.press(area)
    resident.press(age)
    if finish:
        resident.say("Need " + uid)
        resident.press("Mainly me")
        resident.press("Done")
        resident.press("Skip")
        resident.press("that's right")
        resident.press("No")
        resident.press("No, that's all")


@pytest.fixture
def seeded(db: Engine) -> Engine:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(db)
    for n in range(6):
        take_part(service, f"n{n}", "North", "18 to 34", finish=n < 4, source="tenants")
    for n in range(3):
        take_part(service, f"c{n}", "Central", "35 to 64", finish=True)
    take_part(service, "s0", "South", "Prefer not to say", finish=False, source="mosque")
    Resident_(service, "looker").start()  # opened but never agreed
    return db


def test_status_counts_match_the_database(seeded: Engine) -> None:
    with Session(seeded) as session:
        consultation = store.require_consultation(session=session, slug="example")
        assert consultation.id is not None
        round_ = store.current_round(session=session, consultation_id=consultation.id)
        assert round_ is not None
        report = round_status(
            session=session,
            script=ScriptCache().get(consultation),
            round_=round_,
            consultation_slug="example",
        )
        assert len(opted_in_residents(session=session, consultation_id=consultation.id)) == 10
    assert (report.residents, report.started, report.completed) == (11, 10, 7)
    assert report.answers == 10 * 2 + 7 * 4
    area = {g.group: g for g in report.coverage["area"]}
    assert area["north"].respondents == 6 and area["north"].share == 0.6
    # 10% against 36%, but of 10 residents: too few to say, not flagged.
    assert area["south"].share == 0.1 and area["south"].evidence == "too-few"
    assert report.under_heard() == []
    assert not area["north"].under_heard
    ages = {g.group: g for g in report.coverage["age_band"]}
    assert ages["under-18"].respondents == 0 and ages["under-18"].evidence == "too-few"
    assert ages["prefer-not"].respondents == 1 and ages["prefer-not"].population_share is None
    sources = {g.group: g.respondents for g in report.coverage["source"]}
    assert sources == {"tenants": 6, "direct": 3, "mosque": 1}
    text = format_status(report)
    assert "UNDER-HEARD" not in text and "South (Marsh End, Brookvale)" in text
    assert "too few to say who is under-heard: 10 said, 30 are needed" in text


def test_nobody_is_under_heard_before_anyone_has_said(db: Engine) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(db)
    Resident_(service, "looker").start()  # opened, nothing said
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug="example")
        assert consultation.id is not None
        round_ = store.current_round(session=session, consultation_id=consultation.id)
        assert round_ is not None
        report = round_status(session=session, script=ScriptCache().get(consultation),
                              round_=round_, consultation_slug="example")  # fmt: skip
    assert report.under_heard() == []
    text = format_status(report)
    assert "UNDER-HEARD" not in text and text.count("nobody has said yet") == 4


def test_status_command_json(seeded: Engine, db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', encoding="utf-8"
    )
    result = needsfirst(config, "status", "example", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"residents", "started", "completed", "answers", "coverage"} <= set(report)
    assert report["completed"] == 7
    assert set(report["coverage"]) == {"area", "age_band", "source", "channel"}


@pytest.fixture
def two_channels(db: Engine) -> Engine:
    """Residents on Telegram and in the web chat, one of each only opening the chat."""
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(db)
    for n in range(3):
        take_part(service, f"t{n}", "North", "18 to 34", finish=True)
    take_part(service, "w0", "Central", "35 to 64", finish=True, channel="web")
    Resident_(service, "t-looker").start()  # opened, never agreed: not counted
    Resident_(service, "w-looker", channel="web").start()
    return db


def test_status_counts_residents_by_channel(two_channels: Engine) -> None:
    with Session(two_channels) as session:
        consultation = store.require_consultation(session=session, slug="example")
        assert consultation.id is not None
        round_ = store.current_round(session=session, consultation_id=consultation.id)
        assert round_ is not None
        report = round_status(session=session, script=ScriptCache().get(consultation),
                              round_=round_, consultation_slug="example")  # fmt: skip
    assert (report.residents, report.started) == (6, 4)
    channels = {g.group: (g.label, g.respondents, g.share) for g in report.coverage["channel"]}
    assert channels == {"telegram": ("Telegram", 3, 0.75), "web": ("Web chat", 1, 0.25)}
    # No population share is invented for a channel, so none is ever "under-heard".
    assert all(g.population_share is None and not g.under_heard for g in report.coverage["channel"])
    text = format_status(report)
    channel_part = text.split("By channel:")[1]
    assert "Telegram" in channel_part and "75%" in channel_part
    assert "Web chat" in channel_part and "25%" in channel_part
    assert "population" not in channel_part


def test_status_command_by_channel(two_channels: Engine, db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', encoding="utf-8"
    )
    result = needsfirst(config, "status", "example", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["residents"], report["started"], report["completed"]) == (6, 4, 4)
    channels = {g["group"]: g for g in report["coverage"]["channel"]}
    assert set(channels) == {"telegram", "web"}
    assert channels["web"]["label"] == "Web chat" and channels["web"]["respondents"] == 1
    assert channels["telegram"]["share"] == 0.75
    assert channels["telegram"]["population_share"] is None
    text = needsfirst(config, "status", "example", "--format", "text")
    assert text.returncode == 0, text.stderr
    assert "By channel:" in text.stdout and "Web chat" in text.stdout
