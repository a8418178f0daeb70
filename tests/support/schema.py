"""Comparing a migrated database with the models: a tenant database with TenantBase's tables
(migrations/tenant), the control database with ControlBase's (migrations/control)."""
from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine
from sqlalchemy.pool import NullPool

import core.models  # noqa: F401  (every table on TenantBase.metadata and ControlBase.metadata)
from core.extensions import ControlBase
from core.tenancy.base import TenantBase
from core.tenancy.migrations import current_revision, head_revision


def _drift(db_url: str, metadata: MetaData, head: str) -> list:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        assert current_revision(engine) == head
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()


def schema_drift(db_url: str) -> list:
    """What autogenerate would still write for the tenant database at `db_url` (at head): [] when
    the migrations build exactly the models' schema."""
    return _drift(db_url, TenantBase.metadata, head_revision())


def control_schema_drift(db_url: str, migrations: Path) -> list:
    """The same for the control database at `db_url`, migrated by the history in `migrations`
    (the app's CONTROL_MIGRATIONS)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    return _drift(db_url, ControlBase.metadata, ScriptDirectory.from_config(config).get_current_head())
