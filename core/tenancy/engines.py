"""Tenant databases: where a store's sessions get their connections, bounded however many stores
there are.

- A database server (PostgreSQL): one Engine per server, whatever the number of its stores, and
  one pool (StorePool) of at most TENANT_SERVER_CONNECTIONS connections per process. A
  connection belongs to one store's database (PostgreSQL cannot switch a connection to another
  database): asked for a store with no idle connection of its own when the bound is reached, the
  pool closes the idle connection used least recently and opens one to the store asked for; with
  none idle either, it waits up to TENANT_POOL_TIMEOUT_SECONDS, then gives up (TimeoutError: the
  API answers 503 with Retry-After). One dialect (initialized once) and one cache of compiled
  statements serve every store of the server.
- SQLite: an engine per file, at most TENANT_ENGINE_CACHE_SIZE of them (least recently used
  disposed first), each with a small pool; files have no server whose connections run out.

Connections are taken through `engines().connect(db_url)`, which names the database; a session of
a store is bound to such a connection (core.unit_of_work).

Why one pool per server rather than a bounded LRU of tiny pools (an Engine per store, each with
a pool of one): both hold the same connections, and a store without an idle connection costs a
new connection either way; but an Engine per store also initializes its dialect on its first
connection (five queries to the server) and compiles every statement again, so a store whose
engine was pushed out of the LRU costs that again (bench/connections.py measures both).
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

import orjson
from flask import current_app
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError, TimeoutError as PoolTimeout
from sqlalchemy.pool import ConnectionPoolEntry, NullPool, Pool

from core.tenancy.changes import ChangeWatch, store_key

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A pooled server connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0


def ping_when_idle(engine: Engine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> Engine:
    """Pessimistic disconnect handling that costs nothing on a busy connection: a connection
    that went back to the pool more than `idle_seconds` ago is pinged (the dialect's SELECT 1) at checkout,
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
        try:
            # The dialect's own ping: psycopg's pings in autocommit, so it begins no transaction
            # and the connection is handed out idle (and may be set to autocommit).
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any driver error means the connection is unusable
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc

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
    """An engine of one database with a small bounded pool (SQLite files); pooled=False: a new
    connection for every use (migrations, one-off visits). JSON columns are read by orjson (a
    catalog page reads three JSON values per product)."""
    pool = {"pool_size": pool_size, "max_overflow": max_overflow} if pooled else {"poolclass": NullPool}
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Connections may move between the threads of a threaded server, one at a time.
        return create_engine(url, **pool, json_deserializer=orjson.loads,
                             connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
    return ping_when_idle(create_engine(url, **pool, json_deserializer=orjson.loads, pool_recycle=1800))


# --- one pool per server ---------------------------------------------------------------------------

# The database the connection being taken is for (set by TenantDatabases.connect around the
# checkout), and whether it goes back to the pool's idle ones afterwards (False: a visit).
_DATABASE: ContextVar[str | None] = ContextVar("storefleet_tenant_database", default=None)
_KEEP: ContextVar[bool] = ContextVar("storefleet_keep_connection", default=True)
_RECORD_DATABASE = "storefleet.database"
_RECORD_DISCARD = "storefleet.discard"


class StorePool(Pool):
    """At most `limit` connections to one server, each to one store's database (see the
    module's doc). Idle connections are reused for their own database, most recently returned
    first; when the limit is reached the least recently used idle one makes room."""

    def __init__(self, creator, limit: int = 8, timeout: float = 10.0, **kw) -> None:
        super().__init__(creator, **kw)
        self.limit = limit
        self.timeout = timeout
        self._ready = threading.Condition()
        self._idle: OrderedDict[ConnectionPoolEntry, str] = OrderedDict()   # least recently used first
        self._open = 0   # connections that exist: idle, or checked out
        self._disposed = False

    def _do_get(self) -> ConnectionPoolEntry:
        database = _DATABASE.get()
        if database is None:
            raise RuntimeError("A store's connection is taken through engines().connect(db_url).")
        deadline = time.monotonic() + self.timeout
        evicted = None
        with self._ready:
            while True:
                for record in reversed(self._idle):
                    if self._idle[record] == database:
                        del self._idle[record]
                        return self._marked(record)
                if self._open < self.limit:
                    self._open += 1
                    break
                if self._idle:
                    evicted, _ = self._idle.popitem(last=False)   # its slot is the new connection's
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._ready.wait(remaining):
                    raise PoolTimeout(f"All {self.limit} connections to the database server are in use; "
                                      f"none was free within {self.timeout:g} s.")
        if evicted is not None:
            evicted.close()
        try:
            return self._marked(self._create_connection())
        except BaseException:
            self._release_slot()
            raise

    @staticmethod
    def _marked(record: ConnectionPoolEntry) -> ConnectionPoolEntry:
        record.record_info[_RECORD_DISCARD] = not _KEEP.get()
        return record

    def _release_slot(self) -> None:
        with self._ready:
            self._open -= 1
            self._ready.notify()

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        if self._disposed or record.record_info.get(_RECORD_DISCARD):
            record.close()
            self._release_slot()
            return
        with self._ready:
            self._idle[record] = record.record_info[_RECORD_DATABASE]
            self._ready.notify()

    def forget(self, database: str) -> None:
        """Close the idle connections to `database` (before it is dropped); one checked out
        is closed when it comes back."""
        with self._ready:
            gone = [record for record, of in self._idle.items() if of == database]
            for record in gone:
                del self._idle[record]
        for record in gone:
            record.close()
            self._release_slot()

    def dispose(self) -> None:
        with self._ready:
            self._disposed = True
            idle, self._idle = list(self._idle), OrderedDict()
            self._open -= len(idle)
            self._ready.notify_all()
        for record in idle:
            record.close()

    def recreate(self) -> StorePool:
        return StorePool(self._creator, limit=self.limit, timeout=self.timeout, recycle=self._recycle,
                         echo=self.echo, logging_name=self._orig_logging_name, reset_on_return=self._reset_on_return,
                         _dispatch=self.dispatch, dialect=self._dialect, pre_ping=self._pre_ping)

    def size(self) -> int:
        return self.limit

    def checkedin(self) -> int:
        return len(self._idle)

    def checkedout(self) -> int:
        return self._open - len(self._idle)

    def status(self) -> str:
        return (f"StorePool limit {self.limit}: {self._open} open, {len(self._idle)} idle, "
                f"{self.checkedout()} checked out")


def _server_key(url: URL) -> str:
    return url.set(database="").render_as_string(hide_password=False)


def make_server_engine(url: URL, *, limit: int, timeout: float) -> Engine:
    """The engine of the database server of `url`: a StorePool whose connections go to the
    database each checkout names (TenantDatabases.connect)."""
    engine: Engine | None = None

    def connect(record: ConnectionPoolEntry):
        # A record keeps its database: reconnecting (after a failed ping, a recycle) goes back to it.
        database = record.record_info.setdefault(_RECORD_DATABASE, _DATABASE.get())
        cargs, cparams = engine.dialect.create_connect_args(url.set(database=database))
        return engine.dialect.connect(*cargs, **cparams)

    engine = create_engine(url, creator=connect, poolclass=StorePool, limit=limit, pool_timeout=timeout,
                           json_deserializer=orjson.loads, pool_recycle=1800)
    return ping_when_idle(engine)


class TenantDatabases:
    """The tenant databases of a process: their engines and bounded connections (see the
    module's doc)."""

    def __init__(self, capacity: int = 64, pool_size: int = 2, max_overflow: int = 3,
                 server_connections: int = 8, pool_timeout: float = 10.0) -> None:
        self.capacity = capacity
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        self.server_connections = server_connections
        self.pool_timeout = pool_timeout
        self._files: OrderedDict[str, Engine] = OrderedDict()
        self._servers: dict[str, Engine] = {}
        self._watches: list[ChangeWatch] = []
        self._lock = threading.Lock()

    def watch(self, watch: ChangeWatch) -> None:
        """Install `watch` on every engine of a store database, now and to come
        (core.tenancy.changes)."""
        with self._lock:
            self._watches.append(watch)
            files, servers = list(self._files.items()), list(self._servers.values())
        for db_url, engine in files:
            self._watched_file(engine, db_url, [watch])
        for engine in servers:
            self._watched_server(engine, [watch])

    @staticmethod
    def _watched_file(engine: Engine, db_url: str, watches: list[ChangeWatch]) -> Engine:
        key = store_key(db_url)
        for watch in watches:
            watch.install(engine, lambda _record: key)
        return engine

    @staticmethod
    def _watched_server(engine: Engine, watches: list[ChangeWatch]) -> Engine:
        url = engine.url
        for watch in watches:
            watch.install(engine, lambda record: store_key(url.set(database=record.record_info[_RECORD_DATABASE])))
        return engine

    def __len__(self) -> int:
        return len(self._files)

    @staticmethod
    def _is_file(url: URL) -> bool:
        return url.get_backend_name() == "sqlite"

    def engine(self, db_url: str) -> Engine:
        """The engine behind `db_url`'s connections: the file's own (SQLite), else its server's,
        shared by every store of that server (listen to its events, read its dialect; connect
        through connect())."""
        url = make_url(db_url)
        with self._lock:
            if self._is_file(url):
                engine = self._files.get(db_url)
                if engine is not None:
                    self._files.move_to_end(db_url)
                    return engine
                engine = self._files[db_url] = self._watched_file(
                    make_engine(db_url, pool_size=self.pool_size, max_overflow=self.max_overflow), db_url,
                    self._watches)
                while len(self._files) > self.capacity:
                    _, evicted = self._files.popitem(last=False)
                    evicted.dispose()
                return engine
            key = _server_key(url)
            engine = self._servers.get(key)
            if engine is None:
                engine = self._servers[key] = self._watched_server(
                    make_server_engine(url, limit=self.server_connections, timeout=self.pool_timeout),
                    self._watches)
            return engine

    def connect(self, db_url: str, *, write: bool = False) -> Connection:
        """A connection to the store database of `db_url`, from its engine's pool; close it to
        give it back. A writing connection of SQLite begins its transactions with BEGIN
        IMMEDIATE, so two writers queue instead of one failing when it upgrades a read lock."""
        engine = self.engine(db_url)
        if engine.dialect.name == "sqlite":
            connection = engine.connect()
            return connection.execution_options(sqlite_immediate=True) if write else connection
        token = _DATABASE.set(make_url(db_url).database)
        try:
            connection = engine.connect()
        finally:
            _DATABASE.reset(token)
        return connection

    @contextmanager
    def passing(self, db_url: str) -> Iterator[Connection]:
        """A connection for a short visit that must not change what is kept: sweeps over every
        store would otherwise push the busy stores' engines (SQLite) or idle connections out.
        On a server it takes a slot of the pool while it is used, and is closed afterwards; a
        file's cached engine is used as it is, else a one-off engine without a pool."""
        url = make_url(db_url)
        if not self._is_file(url):
            token = _KEEP.set(False)
            try:
                connection = self.connect(db_url)
            finally:
                _KEEP.reset(token)
            with connection:
                yield connection
            return
        with self._lock:
            engine = self._files.get(db_url)
        one_off = engine is None
        if one_off:
            engine = self._watched_file(make_engine(db_url, pooled=False), db_url, self._watches)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            if one_off:
                engine.dispose()

    def forget(self, db_url: str) -> None:
        """Close what is kept of `db_url` (before its database is dropped)."""
        url = make_url(db_url)
        with self._lock:
            if self._is_file(url):
                engine = self._files.pop(db_url, None)
                if engine is not None:
                    engine.dispose()
                return
            engine = self._servers.get(_server_key(url))
        if engine is not None:
            engine.pool.forget(url.database)

    def dispose_all(self) -> None:
        with self._lock:
            engines = [*self._files.values(), *self._servers.values()]
            self._files, self._servers = OrderedDict(), {}
        for engine in engines:
            engine.dispose()


_REGISTRY = "storefleet.tenant_engines"


def init_engines(app) -> TenantDatabases:
    """The app's tenant databases, sized from its configuration."""
    registry = app.extensions[_REGISTRY] = TenantDatabases(
        capacity=app.config["TENANT_ENGINE_CACHE_SIZE"], pool_size=app.config["TENANT_POOL_SIZE"],
        max_overflow=app.config["TENANT_MAX_OVERFLOW"],
        server_connections=app.config["TENANT_SERVER_CONNECTIONS"],
        pool_timeout=app.config["TENANT_POOL_TIMEOUT_SECONDS"])
    return registry


def engines_of(app) -> TenantDatabases:
    """`app`'s tenant databases."""
    return app.extensions[_REGISTRY]


def engines() -> TenantDatabases:
    """The current app's tenant databases."""
    return engines_of(current_app)
