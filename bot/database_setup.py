"""Opening the configured database, with errors that name the file, the key and the problem.

`needsfirst run` may create a new database; every other command refuses to, unless
asked (`--create`): run from another folder, a relative SQLite path would otherwise
quietly make and use a new, empty database beside the real one.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.config import Config, ConfigError
from bot.config_loading import check_database_url, origin_of
from conversations.storage.db import make_engine, migrate, redact_url


def sqlite_file(url: str) -> Path | None:
    """The absolute path of a SQLite database file, or None (memory, or another kind)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser().resolve()


def describe(url: str) -> str:
    """The database in words an operator can check: the file, or the URL without password."""
    path = sqlite_file(url)
    return f"the SQLite file {path}" if path is not None else redact_url(url)


def open_database(config: Config, *, create: bool) -> Engine:
    """The engine, migrated; ConfigError when the database is missing or cannot be reached."""
    url, source = config.database.url, origin_of(config, "database.url")
    check_database_url(source, url)
    path = sqlite_file(url)
    if path is not None and not path.exists() and not create:
        raise ConfigError(
            source, "database.url",
            f"there is no database at {path}. Run this from the folder `needsfirst run` "
            "uses, give --config the service's file, or add --create to make a new one",
        )  # fmt: skip
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except (OperationalError, InterfaceError) as error:
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise ConfigError(
            source, "database.url", f"cannot reach {describe(url)}: {reason}"
        ) from error
    try:
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine
