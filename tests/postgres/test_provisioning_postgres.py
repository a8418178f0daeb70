"""Provisioning on PostgreSQL: CreateDatabase issues a real CREATE DATABASE; the fixture drops
every database afterwards."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.support.flows import init_and_confirm

pytestmark = pytest.mark.postgres


def database_exists(postgres_url, name: str) -> bool:
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}))
    finally:
        engine.dispose()


def test_init_confirm_worker_creates_a_real_database(pg_app, postgres_url, redis_conn, rq_worker):
    client = pg_app.test_client()
    provisioning_id, slug = init_and_confirm(client)
    db_name = "ecom_tenant_" + slug.replace("-", "_")
    assert not database_exists(postgres_url, db_name)

    assert rq_worker(pg_app, "provisioning", burst=True).wait(timeout=120) == 0
    status = client.get(f"/provision/tenants/{provisioning_id}/status").get_json()
    assert status["status"] == "Ready", status
    assert status["steps"][0]["log"] == f"Database {db_name} created successfully"
    assert database_exists(postgres_url, db_name)

    tenant_engine = create_engine(postgres_url.set(database=db_name))
    try:
        with tenant_engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM products")) == 5
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) is not None
    finally:
        tenant_engine.dispose()


def test_repair_on_postgres_keeps_data(pg_app, postgres_url, superadmin_headers_pg):
    client = pg_app.test_client()
    created = client.post("/superadmin/tenants", headers=superadmin_headers_pg,
                          json={"slug": f"pg-repair-{uuid.uuid4().hex[:8]}", "name": "R", "planCode": "BASIC"})
    assert created.status_code == 201, created.get_json()
    slug = created.get_json()["slug"]
    with pg_app.app_context():
        from core.tenancy.admin import get_tenant
        url = get_tenant(slug).db_url
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE products SET stock = 7 WHERE sku = 'PROD001'"))
    engine.dispose()

    repaired = client.post("/superadmin/tenants/repair", headers=superadmin_headers_pg, json={"tenant": slug})
    assert repaired.get_json() == {"tenant": slug, "status": "Ready"}
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT stock FROM products WHERE sku = 'PROD001'")) == 7
        assert conn.scalar(text("SELECT count(*) FROM products")) == 5
    engine.dispose()
