"""Whether another process's service still runs (conversations/storage/liveness.py): on
PostgreSQL a lock held for its life says so, and goes with it; SQLite cannot tell."""

from __future__ import annotations

from sqlmodel import Session

from bot.app import prepare_database
from bot.config import Config, DatabaseConfig
from conversations.storage.db import make_engine
from conversations.storage.liveness import AliveMark, alive


def test_a_running_service_is_seen_alive_until_it_lets_go(db_url: str) -> None:
    db = prepare_database(Config(database=DatabaseConfig(url=db_url)))
    other = make_engine(db_url)  # another worker's connections
    mark = AliveMark(db, "boot-a")
    try:
        mark.take()
        with Session(other) as session, session.begin():
            seen = alive(session, "boot-a"), alive(session, "boot-b")
        mark.release()
        with Session(other) as session, session.begin():
            after = alive(session, "boot-a")
    finally:
        mark.release()
        other.dispose()
        db.dispose()
    if db_url.startswith("postgresql"):
        assert seen == (True, False) and after is False
    else:
        assert seen == (None, None) and after is None
