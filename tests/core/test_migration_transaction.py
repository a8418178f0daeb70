"""core.tenancy.migrations.migration_transaction on SQLite: a batch migration's table rebuild
keeps the rows that reference the rebuilt table, a broken reference stops the migration, and no
pooled connection is left without foreign-key enforcement."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from core.catalog.models import product_categories
from core.tenancy.engines import make_engine
from core.tenancy.migrations import alembic_config, current_revision, head_revision, migration_transaction


def _rebuild_categories(conn) -> None:
    """What a batch migration does to a table on SQLite: copy, DROP the original, rename."""
    with Operations(MigrationContext.configure(conn)).batch_alter_table("categories", recreate="always"):
        pass


def _links(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(product_categories))


def test_a_table_rebuild_keeps_the_rows_referencing_the_table(shop):
    engine = make_engine(shop().db_url)
    try:
        links = _links(engine)
        assert links > 0  # the demo catalog files every product under a category
        with migration_transaction(engine) as conn:
            _rebuild_categories(conn)
        assert _links(engine) == links
    finally:
        engine.dispose()


def test_a_broken_reference_rolls_the_migration_back(shop):
    engine = make_engine(shop().db_url)
    try:
        links = _links(engine)
        with pytest.raises(RuntimeError, match="foreign key"):
            with migration_transaction(engine) as conn:
                conn.execute(text("DELETE FROM categories"))  # the links now point at nothing
        assert _links(engine) == links
    finally:
        engine.dispose()


def test_pooled_connections_enforce_foreign_keys_after_a_migration(shop):
    engine = make_engine(shop().db_url, pool_size=1, max_overflow=0)
    try:
        with migration_transaction(engine) as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_the_tenant_environment_refuses_a_sqlite_connection_enforcing_foreign_keys(shop):
    engine = make_engine(shop().db_url)
    config = alembic_config()
    try:
        with engine.begin() as conn, pytest.raises(RuntimeError, match="foreign keys off"):
            config.attributes["connection"] = conn
            command.downgrade(config, "0003")
        assert current_revision(engine) == head_revision()  # nothing ran
    finally:
        engine.dispose()
