"""Statements run on the DB-API cursor write what Core writes, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert, select

from conversations.residents.outcome_rows import INBOX_COLUMNS
from conversations.storage.models import InboxEntry
from conversations.storage.prepared import Prepared, transaction

_inbox = InboxEntry.__table__  # type: ignore[attr-defined]


def _row(key: str, when: datetime) -> dict[str, object]:
    return {
        "channel": "telegram", "update_key": key, "resident_id": None, "replies_json": "[]",
        "handled_at": when, "handled_by": "boot", "delivered_at": None, "flag": "abuse",
    }  # fmt: skip


def test_a_prepared_insert_stores_the_row_core_stores(db: Engine) -> None:
    when = datetime(2026, 12, 5, 9, 30, 0, 123456, tzinfo=UTC)
    with db.begin() as connection:
        connection.execute(insert(_inbox), _row("core", when))
    statement = Prepared(insert(_inbox), db.dialect, INBOX_COLUMNS)
    with transaction(db) as cursor:
        cursor.execute(statement, _row("prepared", when))
    with db.connect() as connection:
        rows = connection.execute(select(_inbox).order_by(_inbox.c.update_key)).all()
    core, prepared = (dict(row._mapping) for row in rows)
    assert prepared == {**core, "update_key": "prepared"}
    # Compared as the database compares them, not only as Python reads them back.
    with db.connect() as connection:
        same = select(_inbox.c.update_key).where(_inbox.c.handled_at == when)
        assert sorted(connection.scalars(same)) == ["core", "prepared"]


def test_a_failed_transaction_writes_nothing(db: Engine) -> None:
    statement = Prepared(insert(_inbox), db.dialect, INBOX_COLUMNS)
    with pytest.raises(RuntimeError), transaction(db) as cursor:
        cursor.execute(statement, _row("lost", datetime.now(UTC)))
        raise RuntimeError("the fast path declines")
    with db.connect() as connection:
        assert connection.execute(select(_inbox)).all() == []
