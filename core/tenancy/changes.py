"""Which store databases a committed transaction changed, told once the commit is done.

A process that keeps something read from a store's database (core.catalog.pages keeps catalog
pages) must learn when any process commits a change to the tables it read. A ChangeWatch listens
on the tenant engines (core.tenancy.engines installs it on each):

- every INSERT, UPDATE or DELETE run on a watched table marks its connection: the ORM's flushes,
  Core statements and text alike, since the statement's own SQL is what is read;
- the transaction's COMMIT turns the mark into a change (a ROLLBACK drops it; a statement run in
  autocommit is a change at once);
- when the connection goes back to its pool — after the commit, so whoever is told and reads
  again sees the change — `changed(store_key)` is called once for its database.

A commit that fails after its mark was taken still tells: a needless notice costs a re-read,
a missed one would keep a stale copy. A change made outside the app's engines (psql, a
migration) is not seen: what is kept must also expire.
"""
from __future__ import annotations

import logging
import re
from typing import Callable, Iterable

from cachetools import LRUCache
from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from core.caching import WarnNowAndThen

log = logging.getLogger(__name__)

_PENDING, _COMMITTED = 1, 2   # a watch's mark in a pooled connection's info


def store_key(url: URL | str) -> str:
    """One store database's name for notices, the same from a store's db_url and from a pooled
    connection of its server (no password, no query)."""
    url = make_url(url)
    return f"{url.get_backend_name()}://{url.host or ''}:{url.port or ''}/{url.database}"


class ChangeWatch:
    """Calls `changed(store_key)` after each commit that changed one of `tables` (see the
    module's doc)."""

    def __init__(self, tables: Iterable[str], changed: Callable[[str], None]) -> None:
        names = "|".join(re.escape(name) for name in sorted(tables))
        # The target of a DML statement: INSERT INTO t, UPDATE t, DELETE FROM t, quoted or not,
        # also inside a WITH. "FOR UPDATE OF t" names no target (OF comes between).
        self._writes = re.compile(rf'\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(?:{names})"?(?:\s|\(|$)',
                                  re.IGNORECASE)
        self._verdicts: LRUCache[str, bool] = LRUCache(4096)   # statements repeat: read each once
        self.changed = changed
        self._mark = f"storefleet.change.{id(self)}"   # each watch marks on its own
        self._unannounced = WarnNowAndThen(log)

    def writes(self, statement: str) -> bool:
        verdict = self._verdicts.get(statement)
        if verdict is None:
            verdict = self._verdicts[statement] = self._writes.search(statement) is not None
        return verdict

    def install(self, engine: Engine, key_of: Callable[[ConnectionPoolEntry], str]) -> None:
        """Watch `engine`'s connections; key_of(pool entry) names the store database of one."""
        mark = self._mark

        @event.listens_for(engine, "after_cursor_execute")
        def _wrote(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
            if self.writes(statement):
                autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
                if autocommit or conn.info.get(mark) != _COMMITTED:
                    conn.info[mark] = _COMMITTED if autocommit else _PENDING

        @event.listens_for(engine, "commit")
        def _committing(conn) -> None:
            if conn.info.get(mark) == _PENDING:
                conn.info[mark] = _COMMITTED

        @event.listens_for(engine, "rollback")
        def _rolled_back(conn) -> None:
            # A lost connection cannot be asked (its mark, if any, makes a needless notice).
            if not conn.invalidated and conn.info.get(mark) == _PENDING:
                del conn.info[mark]

        @event.listens_for(engine, "checkin")
        def _returned(_dbapi_connection, record: ConnectionPoolEntry) -> None:
            if record.info.pop(mark, None) == _COMMITTED:
                try:
                    self.changed(key_of(record))
                except Exception as exc:  # the commit stands; the notice is lost, and kept copies expire
                    self._unannounced.warning("A change to %s was committed but could not be announced: %s",
                                              key_of(record), exc)
