"""core.sqlite_hints: with_hint(..., "sqlite") becomes INDEXED BY on SQLite and nothing elsewhere."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

import core.sqlite_hints  # noqa: F401
from core.catalog.models import Product

HINTED = select(Product.id).where(Product.is_active).with_hint(Product, "INDEXED BY ix_products_active_name", "sqlite")


def test_sqlite_hint_is_rendered_after_the_table_name():
    sql = str(HINTED.compile(dialect=sqlite.dialect()))
    assert "FROM products INDEXED BY ix_products_active_name WHERE" in " ".join(sql.split())


def test_sqlite_hint_is_ignored_by_postgresql():
    assert "INDEXED BY" not in str(HINTED.compile(dialect=postgresql.dialect()))


def test_tables_without_hints_render_unchanged():
    plain = select(Product.id).where(Product.is_active)
    assert "INDEXED" not in str(plain.compile(dialect=sqlite.dialect()))
