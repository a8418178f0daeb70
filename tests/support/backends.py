"""Running one scenario on both database backends.

`app` (root conftest) is the SQLite app unless a test parametrizes it indirectly: decorated with
`on_both_backends`, a test runs once on SQLite and once on PostgreSQL (the `pg_app` fixture: a
real control database and real tenant databases, dropped afterwards), and every fixture built
on `app` (client, create_tenant, create_product, tenant_db, shop, store, superadmin_headers,
run_jobs, live_server, ...) follows it. The PostgreSQL run is marked `postgres`: it is skipped
when no server answers, and fails instead under REQUIRE_POSTGRES=1 (CI).
"""
from __future__ import annotations

import pytest

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
on_both_backends = pytest.mark.parametrize("app", BACKENDS, indirect=True)


def dialect_of(app) -> str:
    """"sqlite" or "postgresql": the backend of the app's tenant databases."""
    return "postgresql" if app.config["TENANT_DATABASE_URL"].startswith("postgresql") else "sqlite"
