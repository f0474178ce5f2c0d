"""Database plumbing shared by every service: engine, kernel tables, migrations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    event,
    text,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.dml import Update

if TYPE_CHECKING:
    from shared.events import Envelope


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored and returned in UTC, also on SQLite (which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("position", BigId, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("type", String(80), nullable=False),
    Column("aggregate_type", String(40), nullable=False),
    Column("aggregate_id", Uuid, nullable=False),
    Column("aggregate_version", Integer, nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("aggregate_id", "aggregate_version", name="uq_events_aggregate_version"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False),
    Column("subject", String(120), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    Index(
        "ix_outbox_unsent",
        "id",
        sqlite_where=text("sent_at IS NULL"),
        postgresql_where=text("sent_at IS NULL"),
    ),
)

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(80), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", UTCDateTime(), nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("consumer", String(80), nullable=False),
    Column("stream_seq", BigInteger, nullable=True),
    Column("subject", String(200), nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("reason", Text, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
)


def versioned_update(key: Column[Any], envelope: Envelope, **values: Any) -> Update:
    """UPDATE the read-model row of the envelope's aggregate (`key`: its primary key
    column), with the aggregate version the row now reflects."""
    return (
        update(key.table)
        .where(key == envelope.aggregate_id)
        .values(version=envelope.aggregate_version, **values)
    )


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if not is_sqlite(url):
        # A fixed pool: busy requests wait for a connection rather than open and close
        # overflow ones, each a new session that re-prepares every statement (that churn
        # cost a third of the registry's throughput). Five services stay within
        # PostgreSQL's default 100 connections.
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 0)
        # Recycle instead of a pre-ping per checkout: a ping is a round trip per transaction.
        # During an outage a request waits at most a few seconds for a connection (then
        # answers 503), and a dead one found in the pool is dropped, not handed out again.
        kwargs.setdefault("pool_timeout", 5)
        kwargs.setdefault("connect_args", {"timeout": 5})
        return create_async_engine(url, pool_recycle=1800, **kwargs)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
    _serialise_sqlite_writers(engine)
    return engine


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    """SQLite: WAL, and BEGIN IMMEDIATE so a writer waits for the lock instead of failing
    half-way with SQLITE_BUSY when it upgrades a read transaction."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")  # WAL: reads go alongside the writer
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


READ_ONLY = "bansos_read_only"


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for queries. On SQLite their transactions begin deferred, so readers
    do not queue for the write lock behind writers (and each other); elsewhere it changes
    nothing."""
    return engine.execution_options(**{READ_ONLY: True})


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


KERNEL_MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(version_locations: list[Path]) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(KERNEL_MIGRATIONS))
    locations = [KERNEL_MIGRATIONS / "versions", *version_locations]
    cfg.set_main_option("version_locations", " ".join(str(p) for p in locations))
    cfg.set_main_option("path_separator", "space")
    return cfg


MIGRATION_LOCK = 0x6261_6E6D  # "banm"


async def take_advisory_lock(conn: AsyncConnection, key: int, poll_s: float) -> None:
    """Wait until this connection holds the session advisory lock `key` (PostgreSQL),
    asking again every `poll_s`: how one process among several is elected for a job
    (the outbox relay, a service's background work). Held until the connection closes."""
    while not await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}):
        await conn.commit()
        await asyncio.sleep(poll_s)
    await conn.commit()


async def migrate(
    engine: AsyncEngine, version_locations: list[Path], target: str = "heads"
) -> None:
    """Bring the database to `target` (all branches by default); safe on every start."""
    cfg = alembic_config(version_locations)

    def _upgrade(connection: Connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, target)

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Workers of one service start together: one migrates, the others wait for it
            # and then find nothing to do.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        await conn.run_sync(_upgrade)


async def ensure_database(url: str) -> None:
    """PostgreSQL: create the service's database if it does not exist yet.

    Where it exists (e.g. made by deploy/postgres/init.sh) nothing else is touched, so a
    service role without CREATEDB works.
    """
    if is_sqlite(url):
        return
    probe = create_async_engine(url)
    try:
        async with probe.connect():
            return
    except Exception as exc:
        if "does not exist" not in str(exc):
            raise
    finally:
        await probe.dispose()
    parsed = make_url(url)
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            )
            if not exists:
                try:
                    await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
                except DBAPIError as exc:
                    if "already exists" not in str(exc):  # another worker made it first
                        raise
    finally:
        await admin.dispose()
