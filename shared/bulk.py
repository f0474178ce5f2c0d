"""Bulk writes and set lookups for hot paths (an import's batch, the ledger's ingest).

SQLAlchemy's per-row parameter handling costs more than the database's own insert, and
on PostgreSQL a multi-row INSERT is compiled, sent and planned anew for every batch size.
So a batch of rows goes in at the driver: PostgreSQL's binary COPY (asyncpg), elsewhere
one executemany of rows bound once. Small batches (one request's events) keep the plain
insert: a COPY costs two round trips where an insert costs one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, ColumnElement, Table, any_, bindparam, insert
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

COPY_FROM = 32  # rows: below this, an INSERT's one round trip is cheaper than COPY's two


class BulkInsert:
    """Rows of (some of) a table's columns, in the table's order, written at the driver.

    On SQLite, values go through each column's own bind processor, so they are stored
    exactly as the rest of the code reads them; asyncpg's COPY encodes Python values (UUIDs,
    aware datetimes, bytes, JSON through the codecs SQLAlchemy installs) itself. A unique
    violation raises SQLAlchemy's IntegrityError whatever the path, so callers map
    constraint names to errors the same way (shared/uow.py)."""

    def __init__(self, table: Table, dialect: Dialect, columns: Sequence[str] = ()) -> None:
        self.table = table.name
        # The table's column order, which is the compiled statement's parameter order.
        self.columns = [c.key for c in table.columns if not columns or c.key in columns]
        compiled = insert(table).compile(dialect=dialect, column_keys=self.columns)
        self.sql = str(compiled)
        names = list(compiled.positiontup or [])
        if names != self.columns:
            raise ValueError(f"{table.name}: unexpected parameter order {names}")
        processors = [
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        ]
        # Only the columns whose type converts a value (UUIDs, timestamps, …), once.
        self.converters = [(i, p) for i, p in enumerate(processors) if p is not None]
        self.copy = dialect.name == "postgresql" and dialect.driver == "asyncpg"
        # asyncpg's COPY takes JSON as text (SQLAlchemy encodes it for statements only).
        self.json = [i for i, name in enumerate(names) if isinstance(table.c[name].type, JSON)]

    def bind(self, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        if not self.converters:
            return [tuple(row) for row in rows]
        bound = []
        for row in rows:
            values = list(row)
            for i, process in self.converters:
                values[i] = process(values[i])
            bound.append(tuple(values))
        return bound

    def _json_as_text(self, row: Sequence[Any]) -> tuple[Any, ...]:
        values = list(row)
        for i in self.json:
            if values[i] is not None:
                values[i] = json.dumps(values[i], separators=(",", ":"))
        return tuple(values)

    async def execute(self, conn: AsyncConnection, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if not self.copy:
            await conn.exec_driver_sql(self.sql, self.bind(rows))
            return
        driver: Any = (await conn.get_raw_connection()).driver_connection
        if not driver.is_in_transaction() and conn.in_transaction():
            # SQLAlchemy's asyncpg adapter begins the driver's transaction with its first
            # statement: a COPY before one would commit on its own.
            await conn.exec_driver_sql("SELECT 1")
        if not driver.is_in_transaction():
            raise RuntimeError(f"COPY into {self.table} outside a transaction")
        if self.json:
            rows = [self._json_as_text(row) for row in rows]
        try:
            await driver.copy_records_to_table(self.table, records=rows, columns=self.columns)
        except Exception as exc:
            if getattr(exc, "sqlstate", "")[:2] == "23":  # integrity constraint violation
                raise IntegrityError(f"COPY {self.table}", None, exc) from exc
            raise


_cache: dict[tuple[str, str, tuple[str, ...]], BulkInsert] = {}


Executor = AsyncSession | AsyncConnection


async def analyse(engine: AsyncEngine, tables: Sequence[Table]) -> None:
    """Refresh PostgreSQL's statistics of tables a bulk load is growing (its documented
    advice after a bulk load): planned while a table looked empty, a lookup by key scans
    the whole table and a batch costs more the further the load gets. Autovacuum would
    catch up eventually, or never where it is off. Elsewhere nothing to do."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            await conn.exec_driver_sql(f'ANALYZE "{table.name}"')


async def insert_rows(db: Executor, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert dict rows (all with the same keys) in the session's transaction: a plain
    insert for a few, the driver's bulk path for a batch."""
    if not rows:
        return
    columns = tuple(rows[0])
    if len(rows) < COPY_FROM or _client_defaults(table, columns):
        await db.execute(insert(table), list(rows))
        return
    conn = await db.connection() if isinstance(db, AsyncSession) else db
    key = (conn.dialect.name, table.name, columns)
    bulk = _cache.get(key)
    if bulk is None:
        bulk = _cache[key] = BulkInsert(table, conn.dialect, columns)
    order = bulk.columns
    await bulk.execute(conn, [tuple(row[c] for c in order) for row in rows])


def _client_defaults(table: Table, columns: tuple[str, ...]) -> bool:
    """Whether a column left out has a default SQLAlchemy computes (the driver's path
    would leave it NULL instead)."""
    return any(c.default is not None for c in table.columns if c.key not in columns)


async def one_of(db: Executor, column: ColumnElement[Any], values: Sequence[Any]) -> Any:
    """`column IN values` as PostgreSQL plans it once: `= ANY($1)` with one array
    parameter, not one statement text (and plan) per list length; elsewhere a plain IN."""
    conn = await db.connection() if isinstance(db, AsyncSession) else db
    if conn.dialect.name != "postgresql":
        return column.in_(list(values))
    array = bindparam(None, list(values), type_=ARRAY(column.type))
    return column == any_(array)
