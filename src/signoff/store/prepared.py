"""The statements every command runs, compiled once and executed on the driver's cursor.

    _load = Prepared(select(instances).where(instances.c.id == bindparam("id")))
    row = _load.one_or_none(conn, {"id": instance_id})     # row.version, row.state, ...
    _save.execute(conn, values)                             # the row count

SQLAlchemy's `Connection.execute` spends 40-80 µs of Python on each statement (cache key,
compiled-cache lookup, parameter construction, result wrapping) — about what SQLite takes
to run it. A command runs the same eight statements every time (lock and load the
instance and its tasks; update it; write its tasks, audit and outbox rows), so those are
`Prepared`: compiled once per dialect by SQLAlchemy, their parameters converted by
SQLAlchemy's own type processors (UTC datetimes, JSON), sent on the connection's DBAPI
cursor, in the connection's transaction. Everything else stays on `Connection.execute`.

Listeners of `before_cursor_execute` / `after_cursor_execute` on the connection or its
engine still see every statement (the benchmarks capture them; tracing would too).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Table, bindparam, insert
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Select

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Form:
    """A statement as one dialect runs it."""

    sql: str
    names: tuple[str, ...] | None  # parameter order for positional drivers (SQLite)
    binds: tuple[tuple[str, Processor], ...]  # parameters needing conversion
    fixed: dict[str, Any]  # values written into the statement (`id == 1`)
    row: Any  # a named tuple class for the result rows (selects), or None
    results: tuple[tuple[int, Processor], ...]  # result columns needing conversion


class Prepared:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._forms: dict[int, _Form] = {}  # by id(dialect): an engine keeps its dialect

    def _form(self, dialect: Dialect) -> _Form:
        form = self._forms.get(id(dialect))
        if form is None:
            form = self._forms[id(dialect)] = self._compile(dialect)
        return form

    def _compile(self, dialect: Dialect) -> _Form:
        compiled = self.statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # noqa: S101  # a statement, not DDL
        binds = []
        fixed = {name: b.value for name, b in compiled.binds.items() if not b.required}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binds.append((name, process))
        names = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        row: Any = None
        results: list[tuple[int, Processor]] = []
        if isinstance(self.statement, Select):
            columns = list(self.statement.selected_columns)
            row = namedtuple("Row", [str(c.key) for c in columns], rename=True)  # type: ignore[misc,no-redef]
            for i, c in enumerate(columns):
                process = c.type.dialect_impl(dialect).result_processor(dialect, None)
                if process is not None:
                    results.append((i, process))
        return _Form(compiled.string, names, tuple(binds), fixed, row, tuple(results))

    def _params(self, form: _Form, values: Mapping[str, Any]) -> Any:
        if form.fixed:
            values = {**form.fixed, **values}
        if form.binds:
            values = dict(values)
            for name, process in form.binds:
                if name in values:
                    values[name] = process(values[name])
        if form.names is None:
            return values
        return tuple(values[n] for n in form.names)

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Run it once; the number of rows it changed."""
        form = self._form(conn.dialect)
        cursor = _cursor(conn)
        try:
            _run(conn, cursor, form.sql, self._params(form, values), False)
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        form = self._form(conn.dialect)
        cursor = _cursor(conn)
        try:
            _run(conn, cursor, form.sql, [self._params(form, r) for r in rows], True)
        finally:
            cursor.close()

    def all(self, conn: Connection, values: Mapping[str, Any]) -> list[Any]:
        """The result rows of a select, as named tuples with converted values."""
        form = self._form(conn.dialect)
        cursor = _cursor(conn)
        try:
            _run(conn, cursor, form.sql, self._params(form, values), False)
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        make = form.row._make
        if not form.results:
            return [make(r) for r in fetched]
        out = []
        for r in fetched:
            r = list(r)
            for i, process in form.results:
                r[i] = process(r[i])
            out.append(make(r))
        return out

    def one_or_none(self, conn: Connection, values: Mapping[str, Any]) -> Any:
        found = self.all(conn, values)
        return found[0] if found else None


def inserting(table: Table, names: Sequence[str]) -> Prepared:
    """An INSERT of exactly these columns (a compiled statement has a fixed column list)."""
    return Prepared(insert(table).values({n: bindparam(n) for n in names}))


def _cursor(conn: Connection) -> Any:
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def _run(conn: Connection, cursor: Any, sql: str, params: Any, many: bool) -> None:
    dispatch = conn.dispatch
    if dispatch.before_cursor_execute:
        for listener in dispatch.before_cursor_execute:
            sql, params = listener(conn, cursor, sql, params, None, many) or (sql, params)
    if many:
        cursor.executemany(sql, params)
    else:
        cursor.execute(sql, params)
    if dispatch.after_cursor_execute:
        for listener in dispatch.after_cursor_execute:
            listener(conn, cursor, sql, params, None, many)
