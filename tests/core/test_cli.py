"""The operator commands behind `make run`: set-up is complete on the first start and reuses the
data on the next."""
from __future__ import annotations

from core.config import TestingConfig
from storefleet.app import create_app


def test_setup_migrates_creates_superadmin_and_demo_then_reuses(tmp_path, redis_url):
    app = create_app(TestingConfig(tmp_path / "fresh", redis_url, SUPERADMIN_EMAIL="boss@example.com",
                                   SUPERADMIN_PASSWORD="boss-password"))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["setup"])
    assert first.exit_code == 0, first.output
    assert "super admin boss@example.com created" in first.output
    assert "demo tenant provisioned: Ready" in first.output
    assert "demo store admin owner@demo.storefleet.dev created" in first.output

    second = runner.invoke(args=["setup"])
    assert second.exit_code == 0, second.output
    assert "super admin boss@example.com exists" in second.output
    assert "demo tenant exists: Ready" in second.output
    assert "demo store admin owner@demo.storefleet.dev exists" in second.output

    client = app.test_client()
    assert client.get("/public/tenant-config", headers={"X-Tenant-Slug": "demo"}).get_json()["name"] == "Demo Store"
    token = client.post("/auth/token", json={"grant_type": "password", "username": "boss@example.com",
                                              "password": "boss-password"})
    assert token.status_code == 200
    store_admin = client.post("/auth/token", json={"grant_type": "password", "username": "owner@demo.storefleet.dev",
                                                    "password": "demo-store-admin"})
    assert store_admin.status_code == 200
    with app.app_context():
        from core.extensions import db

        db.engine.dispose()


def test_setup_brings_existing_store_databases_to_the_head_migration(tmp_path, redis_url):
    """make run reuses DATA_DIR: a store database made by an older version is upgraded on start."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.pool import NullPool

    from core.tenancy.migrations import downgrade_to, head_revision

    app = create_app(TestingConfig(tmp_path / "older", redis_url))
    runner = app.test_cli_runner()
    assert "tenant databases at" in runner.invoke(args=["setup"]).output
    with app.app_context():
        from core.tenancy.admin import get_tenant

        engine = create_engine(get_tenant("demo").db_url, poolclass=NullPool)
    downgrade_to(engine, "0003")
    assert "session_id" not in {c["name"] for c in inspect(engine).get_columns("orders")}

    again = runner.invoke(args=["setup"])
    assert again.exit_code == 0, again.output
    assert f"tenant databases at {head_revision()}: 1 upgraded, 0 already there" in again.output
    assert "session_id" in {c["name"] for c in inspect(engine).get_columns("orders")}
    assert f"tenant databases at {head_revision()}: 0 upgraded, 1 already there" in runner.invoke(args=["setup"]).output
    engine.dispose()
    with app.app_context():
        from core.extensions import db

        db.engine.dispose()


def test_provision_and_repair_commands(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["provision-tenant", "cli-store", "--name", "CLI Store", "--plan", "BASIC"])
    assert result.exit_code == 0, result.output
    assert "CreateDatabase" in result.output and "cli-store: Ready" in result.output
    again = runner.invoke(args=["provision-tenant", "cli-store", "--name", "CLI Store"])
    assert again.exit_code != 0 and "already exists" in again.output
    repaired = runner.invoke(args=["repair-tenant", "cli-store"])
    assert repaired.exit_code == 0 and "cli-store: Ready" in repaired.output
