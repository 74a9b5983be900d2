"""Core statements compiled once, then run straight on the DB-API cursor.

For a small statement, SQLAlchemy's `Connection.execute` spends most of its time on
its statement cache, execution context and result set-up, not in the database: on
SQLite a transaction of two statements took about 230 us through Core and 30 us on
the DB-API cursor. The busiest path (conversations/residents/answer_batch.py) runs a handful of
statements per update, so it compiles them once for the engine's dialect and runs
them here. Parameters go through the type processors SQLAlchemy itself would apply,
so the rows written are the same as Core's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement


class Prepared:
    """One statement, compiled for one dialect, with its parameters' converters."""

    def __init__(self, statement: ClauseElement, dialect: Dialect,
                 column_keys: Sequence[str] | None = None) -> None:  # fmt: skip
        # column_keys: an INSERT's columns (otherwise it would name every column, id too).
        compiled = statement.compile(
            dialect=dialect, column_keys=list(column_keys) if column_keys else None
        )
        assert isinstance(compiled, SQLCompiler)  # a statement, not DDL
        self.sql = str(compiled)
        self.positions = list(compiled.positiontup or []) if compiled.positional else None
        # Values the statement carries itself (`flag == "abuse"` becomes a parameter).
        self.defaults = dict(compiled.params)
        self.converters: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                self.converters[name] = convert

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """`values` as the driver takes them: converted, and in order if positional."""
        merged = {**self.defaults, **values}
        for name, convert in self.converters.items():
            if merged.get(name) is not None:
                merged[name] = convert(merged[name])
        if self.positions is None:
            return merged
        return [merged[name] for name in self.positions]


class BySize:
    """Statements for a list of `count` values (`IN (...)`), compiled once per count."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: dict[tuple[Callable[[int], Any], int], Prepared] = {}

    def __call__(self, make: Callable[[int], Any], count: int) -> Prepared:
        prepared = self._compiled.get((make, count))
        if prepared is None:
            prepared = self._compiled[make, count] = Prepared(make(count), self.dialect)
        return prepared


class Cursor:
    """A DB-API cursor inside one transaction, running `Prepared` statements."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, statement: Prepared, values: Mapping[str, Any]) -> None:
        self.cursor.execute(statement.sql, statement.parameters(values))

    def execute_many(self, statement: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        self.cursor.executemany(statement.sql, [statement.parameters(row) for row in rows])

    def all(self, statement: Prepared, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        self.execute(statement, values)
        return [tuple(row) for row in self.cursor.fetchall()]


@contextmanager
def transaction(db: Engine) -> Iterator[Cursor]:
    """A transaction on a pooled DB-API connection: committed, or rolled back on error.

    SQLite takes its write lock up front (BEGIN IMMEDIATE) as conversations/storage/db.py
    does for Core, so two workers never read the same state and both write it."""
    connection = db.raw_connection()
    try:
        cursor = connection.cursor()
        if db.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        try:
            yield Cursor(cursor)
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
        cursor.close()
    finally:
        connection.close()  # back to the pool
