"""How a turn's two transactions run their prebuilt statements: through SQLAlchemy, or on SQLite's DBAPI cursor.

A turn writes twice: :meth:`~assistant.sessions.index.SqlIndex.begin_turn` (the row read with
the limits, the send counted, the question kept) and the commit (the guarded row update, the
transcript, the turn record, the ledger, the search row). Both are a handful of statements that
never change, so on SQLite they are compiled once per dialect (:class:`RawStatement`: the SQL
text, the parameter order, SQLAlchemy's own bind and result processors for each column type)
and run on the pooled DBAPI connection, in the same ``BEGIN IMMEDIATE`` transaction SQLAlchemy
would open. What is stored is what SQLAlchemy would store (the same type processors); what is
skipped is the per-statement execution context, which costs more than the statement itself
on a local file. Postgres and every other statement go through SQLAlchemy (:class:`SaExecutor`).
SQLAlchemy's statement events (``before_cursor_execute`` ...) do not fire for the statements
run on SQLite's DBAPI path; connection-level ones (``connect``, ``checkout``) still do.

Both executors offer the same three calls, so the turn's code is written once for both.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, ClassVar, Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable

from assistant import db


class Executor(Protocol):
    """Runs prebuilt statements inside one transaction."""

    def first(self, stmt: Executable, params: dict[str, Any]) -> Any:
        """The statement's first row (attribute access by column name), or None."""

    def execute(self, stmt: Executable, params: dict[str, Any]) -> int:
        """Run the statement; returns the number of rows it changed."""

    def executemany(self, stmt: Executable, params: Sequence[dict[str, Any]]) -> None:
        """Run the statement once per parameter dict."""


class SaExecutor:
    """An :class:`Executor` over a SQLAlchemy connection (any database)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def first(self, stmt: Executable, params: dict[str, Any]) -> Any:
        return self.conn.execute(stmt, params).first()

    def execute(self, stmt: Executable, params: dict[str, Any]) -> int:
        return int(self.conn.execute(stmt, params).rowcount or 0)

    def executemany(self, stmt: Executable, params: Sequence[dict[str, Any]]) -> None:
        self.conn.execute(stmt, list(params))


class RawStatement:
    """A statement compiled once for a dialect: its SQL, parameter order and type processors.

    Args:
        stmt: A SQLAlchemy Core statement whose parameters are all named bind parameters
            (or literals, which are taken from the statement).
        dialect: The dialect to compile for (SQLite's, qmark parameters).
        keys: The parameter names it is executed with (an INSERT or UPDATE names the columns
            it sets by them, as SQLAlchemy compiles it for those parameters).

    Raises:
        ValueError: The statement needs a column default computed in Python (not supported here).
    """

    def __init__(self, stmt: Executable, dialect: Dialect, keys: Sequence[str] = ()) -> None:
        assert isinstance(stmt, ClauseElement)
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError(f"{compiled.string!r} needs Python-side column defaults; pass every column")
        self.sql = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.literals: dict[str, Any] = {}
        self.bind: dict[str, Callable[[Any], Any]] = {}
        for bp, name in compiled.bind_names.items():
            if not bp.required:
                self.literals[name] = bp.effective_value
            process = bp.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.bind[name] = process
        columns = getattr(stmt, "selected_columns", None)
        if columns is None:
            columns = getattr(stmt, "exported_columns", None) or ()
        self.result: dict[str, Callable[[Any], Any] | None] = {
            col.name: col.type.dialect_impl(dialect).result_processor(dialect, None) for col in columns
        }

    def args(self, params: dict[str, Any]) -> list[Any]:
        """The positional parameters for ``params`` (literals filled in, values as SQLAlchemy binds them)."""
        out = []
        for name in self.names:
            value = params[name] if name in params else self.literals[name]
            process = self.bind.get(name)
            out.append(value if process is None or value is None else process(value))
        return out

    def row(self, names: Sequence[str], values: Sequence[Any]) -> SimpleNamespace:
        """One result row as SQLAlchemy would return it (attribute access, processed values)."""
        processed = {}
        for name, value in zip(names, values, strict=True):
            process = self.result.get(name)
            processed[name] = value if process is None or value is None else process(value)
        return SimpleNamespace(**processed)


class RawExecutor:
    """An :class:`Executor` over a SQLite DBAPI cursor, with statements compiled once per dialect."""

    # module-constant statements only (keyed by identity): each compiled once per dialect kind
    # and set of parameter names
    _compiled: ClassVar[dict[tuple[int, str, tuple[str, ...]], RawStatement]] = {}
    _lock = threading.Lock()

    def __init__(self, cursor: sqlite3.Cursor, dialect: Dialect) -> None:
        self.cursor = cursor
        self.dialect = dialect

    def _statement(self, stmt: Executable, params: dict[str, Any]) -> RawStatement:
        keys = tuple(params)
        key = (id(stmt), self.dialect.name, keys)
        raw = self._compiled.get(key)
        if raw is None:
            with self._lock:
                raw = self._compiled.setdefault(key, RawStatement(stmt, self.dialect, keys))
        return raw

    def first(self, stmt: Executable, params: dict[str, Any]) -> Any:
        raw = self._statement(stmt, params)
        cursor = self.cursor.execute(raw.sql, raw.args(params))
        values = cursor.fetchone()
        if values is None:
            return None
        names = [d[0] for d in cursor.description]
        cursor.fetchall()  # a RETURNING statement completes only once its rows are read
        return raw.row(names, values)

    def execute(self, stmt: Executable, params: dict[str, Any]) -> int:
        raw = self._statement(stmt, params)
        return int(self.cursor.execute(raw.sql, raw.args(params)).rowcount)

    def executemany(self, stmt: Executable, params: Sequence[dict[str, Any]]) -> None:
        if not params:
            return
        raw = self._statement(stmt, params[0])
        self.cursor.executemany(raw.sql, [raw.args(p) for p in params])


@contextmanager
def turn_tx(engine: Engine) -> Iterator[Executor]:
    """One write transaction for a turn's prebuilt statements (commits on success, rolls back on error).

    SQLite: ``BEGIN IMMEDIATE`` on the pooled DBAPI connection (the connection's pragmas
    apply: WAL, busy timeout), statements through :class:`RawExecutor`; sqlite3 errors are
    raised as they are (the caller maps them). Elsewhere: :func:`assistant.db.write_tx` and
    :class:`SaExecutor`.
    """
    if not db.is_sqlite(engine):
        with db.write_tx(engine) as conn:
            yield SaExecutor(conn)
        return
    pooled = engine.raw_connection()
    try:
        dbapi = pooled.driver_connection
        assert isinstance(dbapi, sqlite3.Connection)
        cursor = dbapi.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield RawExecutor(cursor, engine.dialect)
        except BaseException:
            if dbapi.in_transaction:
                dbapi.execute("ROLLBACK")
            raise
        try:
            cursor.execute("COMMIT")
        except BaseException:
            if dbapi.in_transaction:
                dbapi.execute("ROLLBACK")
            raise
    finally:
        pooled.close()
