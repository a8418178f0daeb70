"""Pooled PostgreSQL connections are pinged only after idling, and a dead one is replaced."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from core.tenancy.engines import ping_when_idle

pytestmark = pytest.mark.postgres


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def _terminate(postgres_url, pid: int) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}) is True
    admin.dispose()


def test_a_connection_idle_past_the_limit_is_pinged_and_replaced_when_dead(postgres_url):
    engine = ping_when_idle(create_engine(postgres_url, pool_size=1, max_overflow=0), idle_seconds=0)
    try:
        first = _backend_pid(engine)
        _terminate(postgres_url, first)
        assert _backend_pid(engine) != first  # the ping failed, the pool connected afresh
    finally:
        engine.dispose()


def test_a_connection_used_just_now_is_not_pinged(postgres_url):
    engine = ping_when_idle(create_engine(postgres_url, pool_size=1, max_overflow=0), idle_seconds=3600)
    try:
        first = _backend_pid(engine)
        _terminate(postgres_url, first)
        # No ping: the dead connection is handed out and fails on use (then the pool recovers).
        with pytest.raises(OperationalError):
            _backend_pid(engine)
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()


def test_a_pinged_connection_is_handed_out_idle(postgres_url):
    """The ping begins no transaction: the connection can still be set to autocommit and holds
    no snapshot."""
    import psycopg.pq

    engine = ping_when_idle(create_engine(postgres_url, pool_size=1, max_overflow=0), idle_seconds=0)
    try:
        _backend_pid(engine)
        with engine.connect() as conn:   # pinged at this checkout
            assert conn.connection.dbapi_connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            conn.execution_options(isolation_level="AUTOCOMMIT")
            assert conn.scalar(text("SELECT 1")) == 1
    finally:
        engine.dispose()
