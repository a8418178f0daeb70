"""Alembic environment of tenant databases. The caller passes the connection of the one tenant
database to migrate (core.tenancy.migrations.upgrade_to_head); there is no URL here."""
from alembic import context

import core.models  # noqa: F401  (registers every tenant table on TenantBase.metadata)
from core.tenancy.base import TenantBase

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Tenant migrations run through core.tenancy.migrations with a connection.")

context.configure(
    connection=connection,
    target_metadata=TenantBase.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
