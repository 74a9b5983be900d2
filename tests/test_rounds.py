"""Rounds: opening, closing and scheduling (audited), partner links, CLI broadcasts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from conversations.residents.service import ConversationService
from conversations.staff.rounds import Rounds, partner_links
from conversations.storage import store
from conversations.storage.models import AuditEntry, Broadcast, BroadcastRecipient, utcnow
from tests.command_line import needsfirst
from tests.example_consultation import Resident_, complete_example


@pytest.fixture
def rounds(db: Engine) -> Rounds:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test")
    return Rounds(db)


def audit_trail(db: Engine) -> list[tuple[str, str, str]]:
    with Session(db) as session:
        return [
            (a.actor, a.action, a.target)
            for a in session.exec(select(AuditEntry).order_by(AuditEntry.id))
        ]  # type: ignore[arg-type]


def test_one_open_round_at_a_time(rounds: Rounds, db: Engine) -> None:
    assert rounds.open("example", actor="staff:1").number == 1
    with pytest.raises(store.StoreError, match="already open"):
        rounds.open("example", actor="staff:1")
    assert rounds.close("example", actor="staff:1").status == "closed"
    with pytest.raises(store.StoreError, match="no open round"):
        rounds.close("example", actor="staff:1")
    assert rounds.open("example", actor="staff:2").number == 2
    assert audit_trail(db)[-3:] == [
        ("staff:1", "round.open", "example#1"),
        ("staff:1", "round.close", "example#1"),
        ("staff:2", "round.open", "example#2"),
    ]


def test_a_scheduled_round_opens_and_closes_on_time(rounds: Rounds, db: Engine) -> None:
    now = utcnow()
    scheduled = rounds.schedule(
        "example",
        actor="staff:1",
        opens_at=now + timedelta(hours=1),
        closes_at=now + timedelta(days=7),
    )
    assert (scheduled.number, scheduled.status) == (1, "draft")
    assert rounds.run_due(now=now) == []
    assert [str(c) for c in rounds.run_due(now=now + timedelta(hours=2))] == ["opened example#1"]
    assert rounds.run_due(now=now + timedelta(hours=3)) == []  # once, not again
    assert [str(c) for c in rounds.run_due(now=now + timedelta(days=8))] == ["closed example#1"]
    actors = [(actor, action) for actor, action, _ in audit_trail(db)]
    assert ("scheduler", "round.open") in actors and ("scheduler", "round.close") in actors


def test_schedule_rejects_nonsense(rounds: Rounds) -> None:
    now = utcnow()
    with pytest.raises(store.StoreError, match="close after it opens"):
        rounds.schedule(
            "example",
            actor="x",
            opens_at=now + timedelta(days=2),
            closes_at=now + timedelta(days=1),
        )
    with pytest.raises(store.StoreError, match="in the past"):
        rounds.schedule("example", actor="x", opens_at=None, closes_at=now - timedelta(days=1))
    rounds.open("example", actor="x")
    assert (
        rounds.schedule(
            "example", actor="x", opens_at=None, closes_at=now + timedelta(days=3)
        ).status
        == "open"
    )


def test_the_next_round_can_be_scheduled_while_one_is_open(rounds: Rounds) -> None:
    now = utcnow()
    rounds.open("example", actor="x")
    rounds.schedule("example", actor="x", opens_at=None, closes_at=now + timedelta(days=3))
    # An opening time is for the next round; it does not change the open one.
    second = rounds.schedule("example", actor="x", opens_at=now + timedelta(days=2),
                             closes_at=now + timedelta(days=9))  # fmt: skip
    assert (second.number, second.status) == (2, "draft")
    assert rounds.status("example").round == 1  # the open round is still the current one
    # Due before the open round has closed: it waits for it.
    assert rounds.run_due(now=now + timedelta(days=2, hours=1)) == []
    changes = rounds.run_due(now=now + timedelta(days=3, hours=1))
    assert [str(c) for c in changes] == ["closed example#1", "opened example#2"]


def test_schedule_sets_the_kind_of_round(rounds: Rounds, db: Engine) -> None:
    now = utcnow()
    with pytest.raises(store.StoreError, match="one of needs, prioritise, not 'vote'"):
        rounds.schedule("example", actor="x", opens_at=now + timedelta(days=1), closes_at=None,
                        kind="vote")  # fmt: skip
    rounds.schedule("example", actor="x", opens_at=now + timedelta(days=1), closes_at=None,
                    kind="prioritise")  # fmt: skip
    # Moving a scheduled draft keeps its kind.
    moved = rounds.schedule("example", actor="x", opens_at=now + timedelta(days=2), closes_at=None)
    assert (moved.kind, moved.status) == ("prioritise", "draft")
    assert audit_trail(db)[-1] == ("x", "round.schedule", "example#1")
    # Without themes (no analysis here) it does not open when due, and says why.
    (change,) = rounds.run_due(now=now + timedelta(days=3))
    assert change.problem and "review the themes first" in str(change)
    assert rounds.consultations()[0].status == "draft"
    rounds.open("example", actor="x")  # a needs round can still be opened by hand
    with pytest.raises(store.StoreError, match="already open as a needs round"):
        rounds.schedule("example", actor="x", opens_at=None, closes_at=now + timedelta(days=4),
                        kind="prioritise")  # fmt: skip


def test_a_round_whose_window_passed_while_down_does_not_open(rounds: Rounds) -> None:
    now = utcnow()
    rounds.schedule(
        "example", actor="x", opens_at=now + timedelta(hours=1), closes_at=now + timedelta(hours=2)
    )
    assert rounds.run_due(now=now + timedelta(hours=5)) == []
    assert rounds.consultations()[0].status == "closed"


def test_partner_links() -> None:
    links = partner_links(
        slug="example",
        source="Tenants-Assoc",
        bot_username="@RiversideBot",
        public_url="https://needs.example.org/",
    )
    assert links == {
        "web": "https://needs.example.org/c/example/tenants-assoc",
        "telegram": "https://t.me/RiversideBot?start=example--tenants-assoc",
    }
    # WhatsApp: the chat opens with the words that join, typed in (tests/test_whatsapp.py).
    with_whatsapp = partner_links(slug="example", source="library", bot_username="",
                                  public_url="https://needs.example.org", whatsapp_number="447700900100")  # fmt: skip
    assert with_whatsapp["whatsapp"] == "https://wa.me/447700900100?text=start%20example--library"
    with pytest.raises(store.StoreError):
        partner_links(
            slug="example", source="no spaces please", bot_username="", public_url="http://x"
        )
    with pytest.raises(store.StoreError, match="longer than"):
        partner_links(
            slug="a-long-consultation-slug-indeed",
            source="x" * 39,
            bot_username="b",
            public_url="http://x",
        )


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n[telegram]\nbot_username = "RiversideBot"\n[consultations]\nload = []\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.slow  # command-line processes or a service killed and restarted
def test_cli_links_schedule_and_broadcast(config: Path, db: Engine, rounds: Rounds) -> None:
    links = needsfirst(config, "links", "example", "--source", "mosque")
    assert "telegram: https://t.me/RiversideBot?start=example--mosque" in links.stdout, links.stderr
    scheduled = needsfirst(
        config,
        "round",
        "schedule",
        "example",
        "--opens",
        "2099-01-05T09:00",
        "--closes",
        "2099-01-19T17:00",
    )
    assert (
        scheduled.stdout.strip()
        == "example: round 1 (needs, draft) opens 2099-01-05T09:00+00:00 closes "
        "2099-01-19T17:00+00:00"
    ), scheduled.stderr

    nobody = needsfirst(
        config, "broadcast", "example", "--message", "Come and have your say", "--yes"
    )
    assert nobody.returncode == 2 and "no opted-in residents match" in nobody.stderr

    rounds.run_due(now=utcnow() + timedelta(days=365 * 80))  # opens, then the window passes
    rounds.open("example", actor="test")
    service = ConversationService(db)
    for uid in ("1", "2", "3"):
        complete_example(Resident_(service, uid))
    stopper = Resident_(service, "4")
    complete_example(stopper)
    service.stop(stopper.who)
    sent = needsfirst(
        config,
        "broadcast",
        "example",
        "--message",
        "Round 2 is open",
        "--group",
        "area=north",
        "--yes",
    )
    assert sent.returncode == 0, sent.stderr
    assert "to 3 residents of example in area=north" in sent.stdout
    broadcast_id = int(sent.stdout.strip().splitlines()[-1])
    with Session(db) as session:
        assert session.get(Broadcast, broadcast_id).status == "queued"  # type: ignore[union-attr]
        assert len(session.exec(select(BroadcastRecipient)).all()) == 3
    status = needsfirst(config, "broadcast", "status", str(broadcast_id))
    assert f"Broadcast {broadcast_id} (example): queued" in status.stdout
    unasked = needsfirst(config, "broadcast", "example", "--message", "Hello")
    assert unasked.returncode == 2 and "--yes" in unasked.stderr
