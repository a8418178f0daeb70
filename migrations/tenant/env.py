"""Alembic environment of tenant databases. The caller passes the connection of the one tenant
database to migrate, in its transaction (core.tenancy.migrations.migration_transaction, which
upgrade_to_head and downgrade_to use); there is no URL here."""
from alembic import context

import core.models  # noqa: F401  (registers every tenant table on TenantBase.metadata)
from core.tenancy.base import TenantBase

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Tenant migrations run through core.tenancy.migrations with a connection.")
if connection.dialect.name == "sqlite" and connection.exec_driver_sql("PRAGMA foreign_keys").scalar():
    # A batch migration's table rebuild would cascade-delete the rows referencing the table.
    raise RuntimeError("SQLite tenant migrations run with foreign keys off: use "
                       "core.tenancy.migrations.migration_transaction.")

context.configure(
    connection=connection,
    target_metadata=TenantBase.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
