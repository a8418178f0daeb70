"""Running one scenario on both database backends.

`app` (root conftest) is the SQLite app unless a test parametrizes it indirectly: decorated with
`on_both_backends`, a test runs once on SQLite and once on PostgreSQL (the `pg_app` fixture: a
real control database and real tenant databases, dropped afterwards), and every fixture built
on `app` (client, create_tenant, create_product, tenant_db, shop, store, superadmin_headers,
run_jobs, live_server, ...) follows it. The PostgreSQL run is marked `postgres`: it is skipped
when no server answers, and fails instead under REQUIRE_POSTGRES=1 (CI).
"""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
on_both_backends = pytest.mark.parametrize("app", BACKENDS, indirect=True)
# A scenario only PostgreSQL has (concurrent writers of one database, advisory locks).
on_postgres = pytest.mark.parametrize("app", BACKENDS[1:], indirect=True)


def dialect_of(app) -> str:
    """"sqlite" or "postgresql": the backend of the app's tenant databases."""
    return "postgresql" if app.config["TENANT_DATABASE_URL"].startswith("postgresql") else "sqlite"


@contextmanager
def scratch_database(postgres_url, prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on the server of `postgres_url`, named
    `prefix` and a random suffix; dropped afterwards, whatever happened."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
