"""Tenant migration 0004 gives existing checkout orders the shopper session that placed them,
read from the idempotency record whose stored answer names the order (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from core.tenancy.migrations import upgrade_to, upgrade_to_head
from tests.support.backends import BACKENDS, scratch_database

NOW = "2026-11-30 12:00:00"


def _order(conn, number: str, key: str | None) -> None:
    conn.execute(text(
        "INSERT INTO orders (id, number, channel, status, email, subtotal, tax, shipping, total, idempotency_key, "
        "created_at, updated_at) VALUES (:id, :number, 'storefront', 'PENDING', 'a@example.com', 10, 1.5, 10, "
        "21.5, :key, :now, :now)"), {"id": number.lower(), "number": number, "key": key, "now": NOW})


def _record(conn, scope: str, key: str, body: str) -> None:
    conn.execute(text(
        "INSERT INTO idempotency_records (id, scope, key, fingerprint, state, response_status, response_body, "
        "created_at, locked_at) VALUES (:id, :scope, :key, 'f', 'completed', 201, :body, :now, :now)"),
        {"id": f"{scope}/{key}"[-36:], "scope": scope, "key": key, "body": body, "now": NOW})


def _backfill(db_url: str) -> dict[str, str | None]:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        upgrade_to(engine, "0003")
        with engine.begin() as conn:
            _order(conn, "ORD-20261130-AAAAAA", "key-1")
            _order(conn, "ORD-20261130-BBBBBB", "key-1")  # another shopper used the same key
            _order(conn, "ORD-20261130-CCCCCC", "key-2")  # placed with a token: no session
            _order(conn, "ORD-20261130-DDDDDD", None)
            _record(conn, "shop:session:shopper-a", "key-1", '{"orderNumber": "ORD-20261130-AAAAAA"}')
            _record(conn, "shop:session:shopper-b", "key-1", "<p>Order ORD-20261130-BBBBBB placed</p>")
            _record(conn, "shop:sub:user-1", "key-2", '{"orderNumber": "ORD-20261130-CCCCCC"}')
        upgrade_to_head(engine)
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT number, session_id FROM orders")).all())
    finally:
        engine.dispose()


EXPECTED = {"ORD-20261130-AAAAAA": "shopper-a", "ORD-20261130-BBBBBB": "shopper-b",
            "ORD-20261130-CCCCCC": None, "ORD-20261130-DDDDDD": None}


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    """The URL of a new, empty database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tenant.db'}"
        return
    with scratch_database(request.getfixturevalue("postgres_url"), "sf_test_m0004") as url:
        yield url


def test_backfill(empty_database):
    assert _backfill(empty_database) == EXPECTED
