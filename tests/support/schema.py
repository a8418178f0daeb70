"""Comparing a migrated tenant database with the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

import core.models  # noqa: F401  (every tenant table on TenantBase.metadata)
from core.tenancy.base import TenantBase
from core.tenancy.migrations import current_revision, head_revision


def schema_drift(db_url: str) -> list:
    """What autogenerate would still write for the database at `db_url` (at head): [] when the
    migrations build exactly the models' schema."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), TenantBase.metadata)
    finally:
        engine.dispose()
