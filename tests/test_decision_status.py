"""Where a decision stands: each status recorded and audited, mistakes refused, the
command line, the digest, and the migration that added it."""

from __future__ import annotations

import html
import json
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import Engine, inspect
from sqlmodel import Session, col, select

from analysis.digest import render_html
from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.decision_status import set_status
from bot.actions.decisions import DecisionError
from bot.actions.digest_figures import gather
from bot.cli import main
from conversations.storage import store
from conversations.storage.db import alembic_config, make_engine, migrate
from conversations.storage.models import AuditEntry, Consultation, Decision, utcnow
from conversations.storage.scripts import ScriptCache
from tests.command_line import needsfirst

NOTE = "Funding agreed for 2027"
DECIDED = "The 7pm bus will run until 11pm."


def a_decision(db: Engine, slug: str = "example") -> int:
    """A decision recorded on theme 1 of the consultation (as /decide leaves it)."""
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        decision = Decision(consultation_id=consultation.id, theme_id=1, theme_label="Buses",
                            run_id=1, text=DECIDED, actor="staff:222", residents_told=4)  # fmt: skip
        session.add(decision)
        session.flush()
        assert decision.id is not None
        return decision.id


def stored(db: Engine, decision_id: int) -> Decision:
    with Session(db) as session:
        decision = session.get(Decision, decision_id)
        assert decision is not None
        return decision


def audited(db: Engine) -> list[AuditEntry]:
    with Session(db) as session:
        return list(
            session.exec(
                select(AuditEntry)
                .where(AuditEntry.action == "decision.status")
                .order_by(col(AuditEntry.id))
            ).all()
        )


@pytest.fixture
def decision(db: Engine) -> int:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test")
    return a_decision(db)


def test_each_status_is_recorded_with_its_date_and_note_and_audited(
    db: Engine, decision: int
) -> None:
    recorded = stored(db, decision)
    assert (recorded.status, recorded.status_changed_at, recorded.status_note) == (
        "agreed", None, None,
    )  # fmt: skip
    before = utcnow()
    for status, note in (("under_way", NOTE), ("done", None), ("not_going_ahead", "Cut"),
                         ("agreed", "  Agreed again,\n after all  ")):  # fmt: skip
        change = set_status(db, "example", decision, status, note=note, actor="staff:222")
        assert change.changed and change.new == status
        now = stored(db, decision)
        assert now.status == status and now.status_changed_at is not None
        assert before <= now.status_changed_at <= utcnow()
        assert now.status_note == (" ".join(note.split()) if note else None)
    assert [(a.actor, a.target, a.detail) for a in audited(db)] == [
        ("staff:222", f"example decision {decision}", f"agreed -> under_way: {NOTE}"),
        ("staff:222", f"example decision {decision}", "under_way -> done"),
        ("staff:222", f"example decision {decision}", "done -> not_going_ahead: Cut"),
        ("staff:222", f"example decision {decision}",
         "not_going_ahead -> agreed: Agreed again, after all"),
    ]  # fmt: skip
    # As typed at a terminal; a new note alone keeps the date the status changed.
    set_status(db, "example", decision, "Under-way", note=NOTE, actor="staff:222")
    changed_at = stored(db, decision).status_changed_at
    change = set_status(db, "example", decision, "under way", note="Starts in May", actor="x")
    assert change.changed and "still under way, with a new note" in change.summary()
    assert stored(db, decision).status_changed_at == changed_at
    assert audited(db)[-1].detail == "under_way -> under_way: Starts in May"
    # The same again changes nothing and is not audited.
    entries = len(audited(db))
    same = set_status(db, "example", decision, "under_way", note="Starts in May", actor="x")
    assert not same.changed and "already under way; nothing changed" in same.summary()
    assert len(audited(db)) == entries


def test_mistakes_are_refused_and_change_nothing(db: Engine, decision: int) -> None:
    with Session(db) as session, session.begin():
        session.add(Consultation(slug="other", title="Other", script_toml="", script_hash="0"))
    theirs = a_decision(db, "other")
    with pytest.raises(DecisionError, match="'finished' is not a decision status: use one of "
                       "agreed, under_way, done, not_going_ahead"):  # fmt: skip
        set_status(db, "example", decision, "finished", note=None, actor="staff:222")
    with pytest.raises(DecisionError, match=f"decision {theirs} is another consultation's"):
        set_status(db, "example", theirs, "done", note=None, actor="staff:222")
    with pytest.raises(DecisionError, match="there is no decision 999"):
        set_status(db, "example", 999, "done", note=None, actor="staff:222")
    with pytest.raises(DecisionError, match=r"keep the note to 500 characters \(it has 501\)"):
        set_status(db, "example", decision, "done", note="x" * 501, actor="staff:222")
    with pytest.raises(store.StoreError, match="no consultation with slug 'nosuch'"):
        set_status(db, "nosuch", decision, "done", note=None, actor="staff:222")
    assert stored(db, decision).status == "agreed" and stored(db, theirs).status == "agreed"
    assert audited(db) == []
    # 500 characters is allowed; control and bidi characters never reach the page.
    set_status(db, "example", decision, "done", note="y" * 500, actor="staff:222")
    set_status(db, "example", decision, "done", note="Open\u202e\x07 now", actor="staff:222")
    assert stored(db, decision).status_note == "Open now"


def test_the_command_line_lists_decisions_and_sets_their_status(
    db: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test")
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    listed = needsfirst(config, "decision", "list", "example")  # as an operator runs it
    assert listed.returncode == 0 and "No decisions have been recorded yet." in listed.stdout
    decision = a_decision(db)

    def run(*args: str) -> int:
        return main([*args, "--config", str(config)])

    assert run("decision", "status", "example", str(decision), "under_way", "--note", NOTE) == 0
    said = capsys.readouterr().out
    assert f"Decision {decision} (Buses) is now under way (was agreed): {NOTE}." in said
    assert "residents are not sent a message" in said
    assert run("decisions", "list", "example") == 0
    text = capsys.readouterr().out
    assert f"Decision {decision}, theme 1 (Buses), decided " in text
    today = f"{utcnow().astimezone(ZoneInfo('Europe/London')):%d %b %Y}"
    assert f": under way since {today} ({NOTE})" in text
    assert f"    {DECIDED}" in text
    assert run("decision", "list", "example", "--format", "json") == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["id"], row["status"], row["status_note"], row["theme"]) == (
        decision, "under_way", NOTE, "Buses",
    )  # fmt: skip
    assert row["status_changed_at"] is not None
    assert run("decision", "status", "example", str(decision), "maybe") == 2
    assert "error: 'maybe' is not a decision status" in capsys.readouterr().err
    # Without --note the old note goes: it described the status before.
    assert run("decision", "status", "example", str(decision), "done") == 0
    assert "is now done (was under way), with no note." in capsys.readouterr().out
    assert stored(db, decision).status_note is None
    assert [a.actor.startswith("cli") for a in audited(db)] == [True, True]


def test_the_digest_shows_each_decisions_status(db: Engine, decision: int) -> None:
    set_status(db, "example", decision, "under_way", note=NOTE, actor="staff:222")
    end = utcnow() + timedelta(minutes=1)
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug="example")
        data = gather(session, consultation=consultation,
                      script=ScriptCache().get(consultation), start=end - timedelta(days=7),
                      end=end, zone=ZoneInfo("Europe/London"), run=None)  # fmt: skip
    (note,) = data.decisions
    assert (note.status, note.status_note, note.status_name) == ("under_way", NOTE, "under way")
    report = html.unescape(render_html(data))
    assert f"{DECIDED} <em>Sent to 4 residents who raised it.</em>" in report
    assert f"Status: <strong>under way</strong> ({NOTE})." in report


def test_the_migration_keeps_decisions_and_starts_them_agreed(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        load_consultation(engine, EXAMPLE_SCRIPT, actor="test")
        decision = a_decision(engine)
        set_status(engine, "example", decision, "done", note=NOTE, actor="test")
        config = alembic_config(engine)
        command.downgrade(config, "0015_broadcast_provider_ref")
        columns = {c["name"] for c in inspect(engine).get_columns("decision")}
        assert "text" in columns and not columns & {"status", "status_changed_at", "status_note"}
        command.upgrade(config, "0016_decision_status")  # as a database made before it
        again = stored(engine, decision)
        assert (again.text, again.status, again.status_changed_at, again.status_note) == (
            DECIDED, "agreed", None, None,
        )  # fmt: skip
    finally:
        engine.dispose()
