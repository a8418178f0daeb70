"""`flask migrate-tenants`: every provisioned tenant database to head, in batches, one line per
tenant; a broken tenant is reported and the rest carry on; the exit code tells whether any failed."""
from __future__ import annotations

from pathlib import Path

import pytest


def _downgrade(app, slug: str, revision: str) -> None:
    from core.tenancy.admin import get_tenant
    from core.tenancy.engines import engines
    from core.tenancy.migrations import downgrade_to

    with app.app_context():
        engine = engines().engine(get_tenant(slug).db_url)
        downgrade_to(engine, revision)
        engine.dispose()


def _revision(app, slug: str) -> str | None:
    from core.tenancy.admin import get_tenant
    from core.tenancy.migrations import current_revision
    from core.tenancy.engines import engines

    with app.app_context():
        return current_revision(engines().engine(get_tenant(slug).db_url))


def _point_tenant_at(app, slug: str, db_url: str) -> None:
    from core.extensions import db
    from core.tenancy.admin import get_tenant

    with app.app_context():
        get_tenant(slug).db_url = db_url
        db.session.commit()


def _head() -> str:
    from core.tenancy.migrations import head_revision

    return head_revision()


def test_migrate_tenants_upgrades_each_reports_each_and_continues_past_a_broken_one(app, create_tenant, tmp_path):
    behind = [create_tenant(slug) for slug in ("aa-behind", "cc-behind", "ee-behind")]
    current = create_tenant("dd-current")
    broken = create_tenant("bb-broken")
    for slug in behind:
        _downgrade(app, slug, "0001")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a SQLite database" * 100)
    _point_tenant_at(app, broken, f"sqlite:///{garbage}")

    result = app.test_cli_runner().invoke(args=["migrate-tenants", "--batch-size", "2"])

    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    head = _head()
    for slug in behind:
        assert f"{slug}: upgraded 0001 → {head}" in lines
        assert _revision(app, slug) == head
    assert f"{current}: already at head ({head})" in lines
    broken_line = next(line for line in lines if line.startswith(f"{broken}:"))
    assert broken_line.startswith(f"{broken}: FAILED: DatabaseError")
    assert "3 upgraded, 1 at head, 0 skipped, 1 failed" in result.output
    # Tenants after the broken one (by slug, across batches) were still migrated.
    assert lines.index(broken_line) < lines.index(f"ee-behind: upgraded 0001 → {head}")


def test_migrate_tenants_with_everything_at_head_succeeds_and_changes_nothing(app, create_tenant):
    slugs = [create_tenant() for _ in range(3)]
    result = app.test_cli_runner().invoke(args=["migrate-tenants"])
    assert result.exit_code == 0, result.output
    for slug in slugs:
        assert f"{slug}: already at head ({_head()})" in result.output
    assert "0 upgraded, 3 at head, 0 skipped, 0 failed" in result.output


def test_migrate_tenants_never_creates_a_missing_database(app, create_tenant, tmp_path):
    slug = create_tenant()
    missing = tmp_path / "gone" / "missing.db"
    missing.parent.mkdir()
    _point_tenant_at(app, slug, f"sqlite:///{missing}")
    result = app.test_cli_runner().invoke(args=["migrate-tenants"])
    assert result.exit_code == 1
    assert f"{slug}: FAILED: FileNotFoundError" in result.output
    assert not missing.exists()


def test_migrate_tenants_skips_tenants_not_provisioned_yet(app, client):
    pending = client.post("/provision/tenants/init", json={"slug": "not-yet", "name": "Not yet", "plan": "Basic"})
    assert pending.status_code == 200
    result = app.test_cli_runner().invoke(args=["migrate-tenants"])
    assert result.exit_code == 0, result.output
    assert "not-yet: skipped (Pending: its provisioning job migrates it)" in result.output
    assert not (Path(app.config["DATA_DIR"]) / "tenants" / "ecom_tenant_not_yet.db").exists()


@pytest.mark.parametrize("size", ["0", "-3", "many"])
def test_migrate_tenants_refuses_a_bad_batch_size(app, size):
    result = app.test_cli_runner().invoke(args=["migrate-tenants", "--batch-size", size])
    assert result.exit_code == 2 and "batch-size" in result.output


def test_provision_tenant_shows_each_step_as_it_completes(app):
    result = app.test_cli_runner().invoke(args=["provision-tenant", "steps-store", "--name", "Steps"])
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines() if line.startswith("  ")]
    assert [(words[0], words[1]) for words in lines] == [
        ("CreateDatabase", "Success"), ("ApplyMigrations", "Success"), ("SeedData", "Success")]


def test_provision_tenant_reports_the_failing_step_and_exits_non_zero(make_app, tmp_path):
    blocker = tmp_path / "blocked"
    blocker.write_text("not a directory")
    app = make_app(TENANT_DATABASE_URL=f"sqlite:///{blocker}/{{db_name}}.db")
    result = app.test_cli_runner().invoke(args=["provision-tenant", "doomed", "--name", "Doomed"])
    assert result.exit_code == 1
    assert "CreateDatabase   Failed" in result.output
    assert "Step CreateDatabase failed" in result.output
