"""The tenant migration history builds exactly the schema the models declare, on SQLite and on
PostgreSQL (tests/support/schema.py says what is compared), and the comparison notices a
generated column that is not what the models declare."""
from __future__ import annotations

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Computed, Numeric, create_engine, text
from sqlalchemy.pool import NullPool

from core.catalog.models import FINAL_PRICE_SQL
from core.tenancy.migrations import migration_transaction
from tests.support.backends import on_both_backends
from tests.support.schema import generated_columns, schema_drift, sqlite_generated_expression

NAIVE = "round(price * (1 - discount), 2)"


@on_both_backends
def test_a_provisioned_store_matches_the_models(shop):
    assert schema_drift(shop().db_url) == []


def test_final_price_is_generated_and_stored_as_the_models_declare(shop):
    engine = create_engine(shop().db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            assert generated_columns(conn, "products") == {"final_price": (FINAL_PRICE_SQL, True)}
    finally:
        engine.dispose()


def test_the_comparison_notices_another_expression_on_sqlite(shop):
    store = shop()
    engine = create_engine(store.db_url, poolclass=NullPool)
    try:
        with migration_transaction(engine) as conn, \
                Operations(MigrationContext.configure(conn)).batch_alter_table("products") as batch:
            batch.drop_index("ix_products_active_final_price")
            batch.drop_column("final_price")
            batch.add_column(Column("final_price", Numeric(12, 2), Computed(NAIVE, persisted=True), nullable=False))
            batch.create_index("ix_products_active_final_price", ["is_active", "final_price"])
    finally:
        engine.dispose()
    assert schema_drift(store.db_url) == [
        ("generated", "products", "final_price", (NAIVE, True), (FINAL_PRICE_SQL, True))]


@pytest.mark.parametrize("app", ["postgres"], indirect=True)
@pytest.mark.postgres
def test_the_comparison_notices_a_plain_column_on_postgresql(shop):
    store = shop()
    engine = create_engine(store.db_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE products ALTER COLUMN final_price DROP EXPRESSION"))
    finally:
        engine.dispose()
    [(kind, table, column, in_database, declared)] = schema_drift(store.db_url)
    assert (kind, table, column, in_database, declared[1]) == ("generated", "products", "final_price", None, True)


@pytest.mark.parametrize("create_table, expression", [
    ('CREATE TABLE t (id INTEGER, "a, b" NUMERIC(12, 2) GENERATED ALWAYS AS (CAST(round(x * 100) AS BIGINT)) STORED,'
     ' c TEXT)', "CAST(round(x * 100) AS BIGINT)"),
    ("CREATE TABLE t (c TEXT DEFAULT 'AS (no)', d AS (c || ')' || 'x') VIRTUAL)", "c || ')' || 'x'"),
])
def test_sqlite_generated_expression_reads_the_text_between_matching_parentheses(create_table, expression):
    name = "a, b" if '"a, b"' in create_table else "d"
    assert sqlite_generated_expression(create_table, name) == expression
    assert sqlite_generated_expression(create_table, "c") is None
