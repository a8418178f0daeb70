"""Tenant migration 0006: catalog_revision, raised by the database in every transaction that may
change a catalog count (products added, removed, (de)activated, renamed or repriced; category
links made or removed) and by no other; each database draws its own epoch; the downgrade takes
the table and its triggers away. On SQLite and on PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from core.tenancy.migrations import downgrade_to, upgrade_to, upgrade_to_head
from tests.support.backends import scratch_database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
INSERT_PRODUCT = ("INSERT INTO products (id, sku, name, description, price, discount, stock, low_stock_threshold, "
                  "is_active, images, dynamic_attributes, customization_options, created_at, updated_at) "
                  "VALUES ('{id}', '{sku}', '{sku}', '', 1, 0, 1, 10, true, '[]', '{{}}', '{{}}', :now, :now)")
# statement → whether it may change a count (and so must raise the revision)
STATEMENTS = [
    ("UPDATE products SET stock = stock + 1", False),
    ("UPDATE products SET updated_at = updated_at", False),
    ("UPDATE products SET low_stock_threshold = 3, images = images", False),
    ("UPDATE products SET name = name || ' II' WHERE sku = 'A'", True),
    ("UPDATE products SET is_active = false WHERE sku = 'B'", True),
    ("UPDATE products SET price = price + 1 WHERE sku = 'A'", True),
    ("UPDATE products SET discount = 0.5 WHERE sku = 'A'", True),
    (INSERT_PRODUCT.format(id="c", sku="C"), True),
    ("INSERT INTO product_categories (product_id, category_id) VALUES ('c', 'k')", True),
    ("UPDATE categories SET description = 'x'", False),
    ("DELETE FROM product_categories WHERE product_id = 'c'", True),
    ("DELETE FROM products WHERE sku = 'C'", True),
    ("INSERT INTO carts (id, session_id, created_at, updated_at) VALUES ('t', 's', :now, :now)", False),
]


def _revision(conn) -> tuple[str, int]:
    return tuple(conn.execute(text("SELECT epoch, revision FROM catalog_revision")).one())


def _migrate(db_url: str) -> str:
    """Upgrade a store with products to 0006, check every statement, downgrade; its epoch."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        upgrade_to(engine, "0005")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO categories (id, name, description, is_active, created_at) "
                              "VALUES ('k', 'K', '', true, :now)"), {"now": NOW})
            for sku in ("A", "B"):
                conn.execute(text(INSERT_PRODUCT.format(id=sku.lower(), sku=sku)), {"now": NOW})
        upgrade_to(engine, "0006")
        with engine.connect() as conn:
            epoch, revision = _revision(conn)
        assert len(epoch) == 32 and revision == 0
        for statement, raises in STATEMENTS:
            with engine.begin() as conn:
                conn.execute(text(statement), {"now": NOW})
                after = _revision(conn)
            assert after[0] == epoch
            assert (after[1] > revision) is raises, statement
            revision = after[1]

        downgrade_to(engine, "0005")
        assert "catalog_revision" not in inspect(engine).get_table_names()
        with engine.begin() as conn:   # no trigger is left to refer to the table
            conn.execute(text("UPDATE products SET name = 'A again' WHERE sku = 'A'"))
            conn.execute(text("DELETE FROM products WHERE sku = 'B'"))
        upgrade_to_head(engine)
        return epoch
    finally:
        engine.dispose()


def test_the_revision_follows_what_a_count_sees_on_sqlite(tmp_path):
    first = _migrate(f"sqlite:///{tmp_path / 'one.db'}")
    assert _migrate(f"sqlite:///{tmp_path / 'two.db'}") != first


@pytest.mark.postgres
def test_the_revision_follows_what_a_count_sees_on_postgresql(postgres_url):
    with scratch_database(postgres_url, "sf_test_m0006") as url:
        _migrate(url)
