"""Advisory locks of PostgreSQL, by name: one process at a time does a thing, and a process that
dies lets go (the lock goes with its connection)."""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


def lock_id(scope: str, key: str) -> int:
    """The advisory lock's 64-bit number for (scope, key): 64 bits of sha256 (two names that
    clashed would only make one wait or be refused while the other runs: 1 in 2**64 a pair)."""
    digest = hashlib.sha256(f"{scope}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def held_alone(engine: Engine, scope: str, key: str) -> Iterator[bool]:
    """Whether this process holds (scope, key) alone, for the block: on PostgreSQL a session lock
    taken without waiting, on a connection of its own that the block keeps (so commits made
    elsewhere meanwhile do not release it), given back at the end, or when the process dies with
    the connection. SQLite serves one machine's development set-up: always True there."""
    if engine.dialect.name == "sqlite":
        yield True
        return
    number = lock_id(scope, key)
    # Autocommit: a session lock outlives transactions, so none is left open around it.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:number)"), {"number": number}))
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:number)"), {"number": number})


def one_at_a_time(session: Session, scope: str, key: str) -> None:
    """Make the rest of `session`'s transaction wait for any other holding (scope, key), until
    it ends: a count then an insert under a plan limit (maxCustomers) stays within it when many
    run at once. On PostgreSQL a transaction advisory lock, given back at commit or rollback;
    SQLite's writing session already runs one writer at a time (core.tenancy.engines)."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(text("SELECT pg_advisory_xact_lock(:number)"), {"number": lock_id(scope, key)})
