"""One small database layer for SQLite (default) and PostgreSQL (by URL), same SQL where possible.

URLs: ``sqlite:///var/fabthread.db`` (relative path), ``sqlite:////abs/path.db`` or a plain
path; ``postgresql://user@127.0.0.1:5432/db``. SQL is written with ``?`` placeholders and
translated for psycopg. Connections are per thread.

Write transactions: SQLite ``BEGIN IMMEDIATE`` (takes the write lock up front, so a claim's
read and update cannot interleave with another writer); PostgreSQL ``BEGIN`` with row locks
(``SELECT ... FOR UPDATE SKIP LOCKED``, see ``Database.lock``).

SQLite writers of one process queue on a ``threading.Lock`` before ``BEGIN IMMEDIATE``.
SQLite's own busy handler polls: a blocked writer sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50,
50, 100 ms between retries, so with 20 agents writing, an unlucky claim slept through many
commits of others (p99 of 200+ ms at a p50 of 6 ms). The in-process lock hands over at once;
the busy timeout still covers writers in other processes (the CLI). ``FABTHREAD_SQLITE_
WRITE_LOCK=0`` turns the lock off (for comparisons, ``bench/hub_bench.py --compare``).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fabthread.errors import UserError

Row = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hubs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    lat_deg DOUBLE PRECISION NOT NULL,
    lon_deg DOUBLE PRECISION NOT NULL,
    data TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    hub_id TEXT NOT NULL,
    salt TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    deliver_to TEXT,
    design TEXT NOT NULL,
    design_hash TEXT,
    params TEXT,
    bundle_sha256 TEXT,
    bundle_path TEXT,
    bundle_size INTEGER,
    signature TEXT,
    route TEXT,
    reason TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (order_id),
    part INTEGER NOT NULL,
    hub_id TEXT NOT NULL,
    machine TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    status TEXT NOT NULL,
    lease_id TEXT,
    lease_agent TEXT,
    lease_expires DOUBLE PRECISION,
    prev_lease_id TEXT,
    prev_status TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    estimate_s DOUBLE PRECISION NOT NULL DEFAULT 0,
    failover TEXT NOT NULL DEFAULT '[]',
    tried TEXT NOT NULL DEFAULT '[]',
    reason TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (hub_id, status, created_at);
CREATE INDEX IF NOT EXISTS jobs_order ON jobs (order_id);
CREATE TABLE IF NOT EXISTS events (
    id {serial},
    order_id TEXT NOT NULL,
    job_id TEXT,
    ts DOUBLE PRECISION NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    hub_id TEXT,
    machine TEXT,
    agent TEXT,
    bundle_sha256 TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_order ON events (order_id, id);
CREATE TABLE IF NOT EXISTS client_tokens (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    salt TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stock (
    hub_id TEXT NOT NULL,
    material TEXT NOT NULL,
    color TEXT NOT NULL,
    grams DOUBLE PRECISION NOT NULL,
    declared_grams DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (hub_id, material, color)
);
"""

# Columns added after the first schema: added on open when an older database lacks them.
_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("hubs", "paused", "INTEGER NOT NULL DEFAULT 0"),
    ("hubs", "paused_reason", "TEXT"),
    ("orders", "client", "TEXT NOT NULL DEFAULT ''"),
    ("jobs", "material", "TEXT NOT NULL DEFAULT ''"),
    ("jobs", "color", "TEXT NOT NULL DEFAULT ''"),
    ("jobs", "filament_g", "DOUBLE PRECISION NOT NULL DEFAULT 0"),
)


class Tx:
    """A transaction: ``rows``/``one``/``run`` with ``?`` placeholders."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self._cur = cursor
        self._pg = dialect == "postgres"

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._cur.execute(self._sql(sql), tuple(params))
        return int(self._cur.rowcount or 0)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cur.execute(self._sql(sql), tuple(params))
        return [dict(r) for r in self._cur.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._pg else sql


class Database:
    """Per-thread connections to one database; ``tx(write=True)`` for atomic changes."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgres"
            self.path: Path | None = None
        else:
            self.dialect = "sqlite"
            raw = url.removeprefix("sqlite://")
            raw = raw[1:] if url.startswith("sqlite://") and raw.startswith("/") else raw
            self.path = Path(raw)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._write_lock: threading.Lock | None = None
        if self.dialect == "sqlite" and os.environ.get("FABTHREAD_SQLITE_WRITE_LOCK", "1") != "0":
            self._write_lock = threading.Lock()
        with self.tx(write=True) as tx:
            serial = (
                "BIGSERIAL PRIMARY KEY"
                if self.dialect == "postgres"
                else ("INTEGER PRIMARY KEY AUTOINCREMENT")
            )
            for stmt in _SCHEMA.format(serial=serial).split(";"):
                if stmt.strip():
                    tx.run(stmt)
            for table, column, decl in _ADDED_COLUMNS:
                if column not in self._columns(tx, table):
                    tx.run(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")

    def _columns(self, tx: Tx, table: str) -> set[str]:
        if self.dialect == "sqlite":
            return {r["name"] for r in tx.rows(f"PRAGMA table_info({table})")}
        rows = tx.rows(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )
        return {r["column_name"] for r in rows}

    @property
    def lock(self) -> str:
        """Suffix that row-locks a claim candidate and skips rows other claims hold."""
        return " FOR UPDATE SKIP LOCKED" if self.dialect == "postgres" else ""

    def _connect(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self.dialect == "sqlite":
            conn = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed transaction survives a crash of the process.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA foreign_keys=ON")
        else:
            try:
                import psycopg
                from psycopg.rows import dict_row
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise UserError(
                    "a PostgreSQL URL needs psycopg: pip install 'psycopg[binary]'"
                ) from exc
            try:
                conn = psycopg.connect(
                    self.url, autocommit=True, row_factory=dict_row, connect_timeout=10
                )
            except psycopg.OperationalError as exc:
                raise UserError(f"cannot connect to {self.url}: {exc}") from None
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def tx(self, write: bool = False) -> Iterator[Tx]:
        conn = self._connect()
        if self.dialect == "sqlite":
            lock = self._write_lock if write else None
            if lock is not None:
                lock.acquire()
            try:
                cur = conn.cursor()
                cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield Tx(cur, "sqlite")
                except BaseException:
                    conn.rollback()
                    raise
                else:
                    conn.commit()
                finally:
                    cur.close()
            finally:
                if lock is not None:
                    lock.release()
        else:
            with conn.transaction(), conn.cursor() as cur:
                yield Tx(cur, "postgres")

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()
