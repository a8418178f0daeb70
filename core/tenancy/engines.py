"""Tenant database engines: one per database URL, kept in a bounded LRU.

A deployment may hold thousands of tenants; an engine per tenant kept forever would exhaust
connections and memory. The registry keeps at most TENANT_ENGINE_CACHE_SIZE engines, each with a
small pool, and disposes of the least recently used one when it must make room.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from typing import Iterator

import orjson
from flask import current_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A pooled server connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0


def ping_when_idle(engine: Engine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> Engine:
    """Pessimistic disconnect handling that costs nothing on a busy connection: a connection
    that went back to the pool more than `idle_seconds` ago is pinged (SELECT 1) at checkout,
    and one that fails the ping is replaced (raising DisconnectionError from the checkout event
    makes the pool discard it and connect afresh, as SQLAlchemy documents). pool_pre_ping pings
    on every checkout instead: two extra round trips for each purchase a worker processes, where
    the connection was last used milliseconds before. A server restart is still noticed at the
    first checkout after it, unless the connection was used within the last `idle_seconds`."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at <= idle_seconds:
            return  # new, or back in the pool just now
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        except Exception as exc:  # any driver error means the connection is unusable
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc
        finally:
            try:
                cursor.close()
            except Exception:  # noqa: S110 (a dead connection's cursor may not close)
                pass

    return engine


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Every SQLite connection, control or tenant: WAL, a busy timeout, foreign keys on."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        # Let SQLAlchemy's "begin" event below emit BEGIN, so writers can take the lock early.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    """SQLite: writing transactions start with BEGIN IMMEDIATE, so two writers queue on the busy
    timeout instead of one failing when it upgrades a read lock; reads use a plain BEGIN."""
    if conn.dialect.name == "sqlite":
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, *, pool_size: int = 2, max_overflow: int = 3, pooled: bool = True) -> Engine:
    """A tenant engine with a small bounded pool; pooled=False: a new connection for every use.
    JSON columns are read by orjson (a catalog page reads three JSON values per product)."""
    pool = {"pool_size": pool_size, "max_overflow": max_overflow} if pooled else {"poolclass": NullPool}
    pool["json_deserializer"] = orjson.loads
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # A small pool per file (bounded like every tenant engine); connections may move between
        # the threads of a threaded server, one at a time.
        return create_engine(url, **pool,
                             connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
    return ping_when_idle(create_engine(url, **pool, pool_recycle=1800))


class EngineRegistry:
    """A bounded, thread-safe LRU of engines keyed by database URL."""

    def __init__(self, capacity: int = 64, pool_size: int = 2, max_overflow: int = 3) -> None:
        self.capacity = capacity
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        # The writing variant of each cached engine, by URL (see bind); dropped with its engine.
        self._writers: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._engines)

    def engine(self, url: str) -> Engine:
        with self._lock:
            engine = self._engines.get(url)
            if engine is not None:
                self._engines.move_to_end(url)
                return engine
            engine = make_engine(url, pool_size=self.pool_size, max_overflow=self.max_overflow)
            self._engines[url] = engine
            while len(self._engines) > self.capacity:
                evicted_url, evicted = self._engines.popitem(last=False)
                self._writers.pop(evicted_url, None)
                evicted.dispose()
            return engine

    def bind(self, url: str, *, write: bool) -> Engine:
        """What a session on `url` binds to: the engine itself to read; to write, the same engine
        with the option that makes SQLite begin with BEGIN IMMEDIATE (made once per engine)."""
        engine = self.engine(url)
        if not write:
            return engine
        writer = self._writers.get(url)
        if writer is None:
            writer = self._writers[url] = engine.execution_options(sqlite_immediate=True)
        return writer

    @contextmanager
    def passing(self, url: str) -> Iterator[Engine]:
        """The engine of `url` for a short visit that must not change the cache: the cached one
        when there is one (not moved up), else a one-off engine without a pool, disposed after.
        For sweeps over every store, which would otherwise push the busy stores' engines out."""
        with self._lock:
            engine = self._engines.get(url)
        if engine is not None:
            yield engine
            return
        engine = make_engine(url, pooled=False)
        try:
            yield engine
        finally:
            engine.dispose()

    def forget(self, url: str) -> None:
        """Dispose of the engine of `url` (before its database is dropped)."""
        with self._lock:
            engine = self._engines.pop(url, None)
            self._writers.pop(url, None)
        if engine is not None:
            engine.dispose()

    def dispose_all(self) -> None:
        with self._lock:
            engines, self._engines = list(self._engines.values()), OrderedDict()
            self._writers = {}
        for engine in engines:
            engine.dispose()


_REGISTRY = "storefleet.tenant_engines"


def init_engines(app) -> EngineRegistry:
    """The app's registry of tenant engines, sized from its configuration."""
    registry = app.extensions[_REGISTRY] = EngineRegistry(
        capacity=app.config["TENANT_ENGINE_CACHE_SIZE"], pool_size=app.config["TENANT_POOL_SIZE"],
        max_overflow=app.config["TENANT_MAX_OVERFLOW"])
    return registry


def engines() -> EngineRegistry:
    """The current app's registry of tenant engines."""
    return current_app.extensions[_REGISTRY]
