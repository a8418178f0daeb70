"""The provisioning job executed by a real `rq` worker process against a real Redis."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from api.platform import FAILED_STEP_MESSAGE
from tests.support.flows import init_and_confirm


def test_worker_process_takes_tenant_from_queued_to_ready(app, client, redis_conn, rq_worker):
    provisioning_id, slug = init_and_confirm(client)
    worker = rq_worker(app, "provisioning", burst=True)
    assert worker.wait(timeout=120) == 0

    status = client.get(f"/provision/tenants/{provisioning_id}/status").get_json()
    assert status["status"] == "Ready", status
    assert status["tenantSlug"] == slug
    assert status["dbName"] == "ecom_tenant_" + slug.replace("-", "_")
    assert [(s["step"], s["status"]) for s in status["steps"]] == [
        ("CreateDatabase", "Success"), ("ApplyMigrations", "Success"), ("SeedData", "Success")]
    for step in status["steps"]:
        assert step["startedAt"] <= step["completedAt"]
        assert step["log"] and step["errorMessage"] is None

    database = Path(app.config["DATA_DIR"]) / "tenants" / f"{status['dbName']}.db"
    skus = sqlite3.connect(database).execute("SELECT sku FROM products ORDER BY sku").fetchall()
    assert [row[0] for row in skus] == ["PROD001", "PROD002", "PROD003", "PROD004", "PROD005"]
    assert client.get("/public/tenant-config", headers={"X-Tenant-Slug": slug}).status_code == 200


def test_retried_job_does_not_seed_twice(app, client, redis_conn, rq_worker):
    """A second run of the job for a Ready tenant changes nothing (retries are harmless)."""
    provisioning_id, slug = init_and_confirm(client)
    assert rq_worker(app, "provisioning", burst=True).wait(timeout=120) == 0
    with app.app_context():
        from core.tenancy.provisioning import enqueue_provisioning

        enqueue_provisioning(provisioning_id)
    assert rq_worker(app, "provisioning", burst=True).wait(timeout=120) == 0
    database = Path(app.config["DATA_DIR"]) / "tenants" / f"ecom_tenant_{slug.replace('-', '_')}.db"
    assert sqlite3.connect(database).execute("SELECT count(*) FROM products").fetchone()[0] == 5


def test_failing_step_in_worker_leaves_tenant_failed_and_repair_recovers(
        make_app, tmp_path, redis_conn, rq_worker, superadmin_headers_for):
    """CreateDatabase fails in the worker (the tenants folder is a file); the tenant is Failed with
    the step's error; once the cause is gone, repair brings it to Ready."""
    blocker = tmp_path / "blocked"
    blocker.write_text("not a directory")
    app = make_app(TENANT_DATABASE_URL=f"sqlite:///{blocker}/{{db_name}}.db")
    client = app.test_client()
    provisioning_id, slug = init_and_confirm(client)
    assert rq_worker(app, "provisioning", burst=True).wait(timeout=120) == 0

    status = client.get(f"/provision/tenants/{provisioning_id}/status").get_json()
    assert status["status"] == "Failed"
    create_step = status["steps"][0]
    # The anonymous endpoint says the step failed, not why (the error names paths, or SQL)...
    assert create_step["status"] == "Failed" and create_step["errorMessage"] == FAILED_STEP_MESSAGE
    assert str(blocker) not in json.dumps(status)
    assert [s["status"] for s in status["steps"][1:]] == ["Pending", "Pending"]
    # ... the super admin sees the error as recorded.
    recorded = client.get(f"/superadmin/tenants/{slug}", headers=superadmin_headers_for(client)).get_json()
    assert recorded["steps"][0]["errorMessage"].startswith(("FileExistsError", "NotADirectoryError", "OSError"))

    blocker.unlink()
    repaired = client.post("/superadmin/tenants/repair", headers=superadmin_headers_for(client),
                           json={"tenant": slug})
    assert repaired.get_json() == {"tenant": slug, "status": "Ready"}
    assert client.get(f"/provision/tenants/{provisioning_id}/status").get_json()["status"] == "Ready"


def test_one_worker_process_runs_consecutive_jobs_on_fresh_data(app, client, redis_conn, rq_worker):
    """A long-lived worker must not read a later tenant through a transaction left open by an
    earlier job (SQLite snapshots): a worker that is already running provisions both tenants."""
    worker = rq_worker(app, "provisioning")
    for _ in range(2):
        provisioning_id, _slug = init_and_confirm(client)
        from tests.support.processes import wait_until

        wait_until(lambda: client.get(f"/provision/tenants/{provisioning_id}/status").get_json()["status"]
                   in ("Ready", "Failed"), timeout=60, message="provisioning to finish")
        assert client.get(f"/provision/tenants/{provisioning_id}/status").get_json()["status"] == "Ready"
    worker.stop()
