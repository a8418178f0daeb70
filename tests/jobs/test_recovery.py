"""The recovery sweep (core.recovery): a purchase or a tenant whose job Redis lost — a crash
between the commit and the enqueue, or a Redis restarted without its data — gets its job
queued again, exactly once, and is then processed; work whose job Redis still holds, or that
is younger than the grace period, is left alone."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import text, update

from tests.support.b2b import b2b_store
from tests.support.backends import on_both_backends
from tests.support.processes import ROOT, process_env, wait_until

PURCHASES = "/purchase-gateway/purchases"
LINES = [("PROD001", 2), ("PROD002", 1)]
GRACE = timedelta(seconds=60)


def _tenant(app, slug):
    with app.app_context():
        from core.tenancy.admin import get_tenant

        tenant = get_tenant(slug)
        return tenant.id, tenant.db_url


def _customer_id(app, slug) -> str:
    with app.app_context():
        from core.unit_of_work import own_transaction

        with own_transaction(_tenant(app, slug)[1], write=False) as session:
            return session.execute(text("SELECT id FROM customers ORDER BY created_at LIMIT 1")).scalar()


def record_purchase_without_job(app, slug: str, age: timedelta = timedelta(minutes=5)) -> str:
    """A PENDING purchase committed `age` ago whose job was never queued: what a web process that
    died between initiate_purchase's commit and its enqueue leaves behind."""
    with app.app_context():
        from core.purchases.models import Purchase
        from core.purchases.services import initiate_purchase
        from core.tenancy.admin import get_tenant
        from core.columns import utcnow
        from core.unit_of_work import own_transaction

        tenant = get_tenant(slug)
        with own_transaction(tenant.db_url) as session:
            purchase, _ = initiate_purchase(session, tenant, _customer_id(app, slug), LINES, None,
                                            enqueue=lambda purchase_id: None)
            session.execute(update(Purchase).where(Purchase.id == purchase.id).values(created_at=utcnow() - age))
            return purchase.id


def backdate_purchase(app, slug: str, purchase_id: str, age: timedelta = timedelta(minutes=5)) -> None:
    with app.app_context():
        from core.purchases.models import Purchase
        from core.columns import utcnow
        from core.unit_of_work import own_transaction

        with own_transaction(_tenant(app, slug)[1]) as session:
            session.execute(update(Purchase).where(Purchase.id == purchase_id).values(created_at=utcnow() - age))


def sweep(app, grace: timedelta = GRACE):
    with app.app_context():
        from core.recovery import requeue_lost_jobs

        return requeue_lost_jobs(grace)


def stock(app, slug: str, sku: str) -> int:
    with app.app_context():
        from core.unit_of_work import own_transaction

        with own_transaction(_tenant(app, slug)[1], write=False) as session:
            return session.execute(text("SELECT stock FROM products WHERE sku = :s"), {"s": sku}).scalar()


def status_of(client, store, purchase_id: str) -> str:
    return client.get(f"{PURCHASES}/{purchase_id}", headers=store.customer).get_json()["status"]


@on_both_backends
def test_a_purchase_whose_job_was_never_queued_is_queued_once_and_completed(app, client, redis_conn, run_jobs):
    store = b2b_store(client)
    before = stock(app, store.slug, "PROD001")
    purchase_id = record_purchase_without_job(app, store.slug)
    assert len(Queue("purchases", connection=redis_conn)) == 0

    recovered = sweep(app)
    assert recovered.purchases == {store.slug: 1}
    with app.app_context():
        from core.purchases.services import purchase_job_id

        assert Queue("purchases", connection=redis_conn).job_ids == [purchase_job_id(store.slug, purchase_id)]
    assert sweep(app).purchases == {}  # its job is queued now: a second sweep adds nothing

    run_jobs()
    assert status_of(client, store, purchase_id) == "COMPLETED"
    assert stock(app, store.slug, "PROD001") == before - 2
    assert sweep(app).purchases == {}  # no longer PENDING
    run_jobs()
    assert stock(app, store.slug, "PROD001") == before - 2


def test_purchases_lost_with_redis_data_are_recovered(app, client, redis_conn, run_jobs):
    """Redis restarted without persistence: every queued orchestrator job is gone."""
    store = b2b_store(client)
    ids = [client.post(PURCHASES, headers=store.customer, json={"products": [{"id": "PROD002", "quantity": 1}]}
                       ).get_json()["purchaseId"] for _ in range(3)]
    for purchase_id in ids:
        backdate_purchase(app, store.slug, purchase_id)
    redis_conn.flushdb()

    assert sweep(app).purchases == {store.slug: 3}
    run_jobs()
    assert [status_of(client, store, purchase_id) for purchase_id in ids] == ["COMPLETED"] * 3


def test_a_purchase_whose_job_is_still_queued_is_left_alone(app, client, redis_conn):
    store = b2b_store(client)
    purchase_id = client.post(PURCHASES, headers=store.customer, json={"products": [{"id": "PROD001", "quantity": 1}]}
                              ).get_json()["purchaseId"]
    backdate_purchase(app, store.slug, purchase_id)  # waited long, behind a backlog, but its job exists
    assert sweep(app).purchases == {}
    assert len(Queue("purchases", connection=redis_conn)) == 1


@on_both_backends
def test_a_purchase_younger_than_the_grace_period_is_left_alone(app, client, redis_conn):
    """The age is compared in the database (timestamps with time zone on PostgreSQL)."""
    store = b2b_store(client)
    record_purchase_without_job(app, store.slug, age=timedelta(seconds=5))
    assert sweep(app).purchases == {}
    assert len(Queue("purchases", connection=redis_conn)) == 0
    assert sweep(app, grace=timedelta(0)).purchases == {store.slug: 1}


def test_a_failed_job_is_queued_again_then_its_purchase_ends_failed(app, client, redis_conn, run_jobs):
    """A job whose retries were used up (its database down longer than they waited) is no longer
    left in RQ's failed registry with its purchase PENDING for good: the sweep queues it again,
    MAX_RECOVERIES times in all, then ends the purchase FAILED, its products REJECTED, nothing
    reserved."""
    from core.recovery import MAX_RECOVERIES

    store = b2b_store(client)
    purchase_id = record_purchase_without_job(app, store.slug)
    with app.app_context():
        from core.purchases.services import purchase_job_id

        job_id = purchase_job_id(store.slug, purchase_id)

    def fail_the_job():
        job = Job.fetch(job_id, connection=redis_conn)
        job.set_status("failed")  # as RQ leaves it once its retries are used up
        Queue("purchases", connection=redis_conn).remove(job_id)
        FailedJobRegistry("purchases", connection=redis_conn).add(job, ttl=3600)

    assert sweep(app).purchases == {store.slug: 1}  # lost: queued (the first of MAX_RECOVERIES)
    for _ in range(MAX_RECOVERIES - 1):
        fail_the_job()
        assert sweep(app).purchases == {store.slug: 1}  # failed: queued again
        assert job_id in Queue("purchases", connection=redis_conn).job_ids
        assert job_id not in FailedJobRegistry("purchases", connection=redis_conn).get_job_ids()
    fail_the_job()
    settled = sweep(app)
    assert settled.purchases == {} and settled.failed == 1
    status = client.get(f"/purchase-gateway/purchases/{purchase_id}", headers=store.customer).get_json()
    assert status["status"] == "FAILED" and f"queued {MAX_RECOVERIES} more times" in status["message"]
    assert {p["status"] for p in status["products"]} == {"REJECTED"}
    assert sweep(app).failed == 0  # settled once


def test_a_queued_tenant_whose_job_was_lost_is_provisioned(app, client, redis_conn, run_jobs):
    with app.app_context():
        from core.extensions import db
        from core.columns import utcnow
        from core.tenancy.models import Tenant
        from core.tenancy.provisioning import queue_new_tenant

        tenant_id = queue_new_tenant("lost-store", "Lost Store", "BASIC").id
        db.session.execute(update(Tenant).where(Tenant.id == tenant_id).values(updated_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    redis_conn.flushdb()

    assert sweep(app).tenants == ["lost-store"]
    assert sweep(app).tenants == []
    run_jobs()
    with app.app_context():
        from core.tenancy.admin import get_tenant

        assert get_tenant("lost-store").status == "Ready"
    assert sweep(app).tenants == []


def test_a_tenant_being_provisioned_recently_is_left_alone(app, redis_conn):
    with app.app_context():
        from core.tenancy.provisioning import queue_new_tenant

        queue_new_tenant("fresh-store", "Fresh Store", "BASIC")
    redis_conn.flushdb()
    assert sweep(app).tenants == []  # updated moments ago: its job may be on its way


def test_an_unreachable_store_is_reported_and_the_others_still_swept(app, client, redis_conn, tmp_path):
    broken, healthy = b2b_store(client), b2b_store(client)
    record_purchase_without_job(app, healthy.slug)
    with app.app_context():
        from core.extensions import db
        from core.tenancy.models import Tenant

        db.session.execute(update(Tenant).where(Tenant.slug == broken.slug).values(
            db_url=f"sqlite:///{tmp_path / 'no-such-folder' / 'tenant.db'}"))
        db.session.commit()

    recovered = sweep(app)
    assert recovered.unreachable == [broken.slug]
    assert recovered.purchases == {healthy.slug: 1}


def test_cli_requeue_lost_jobs(app, client, redis_conn):
    store = b2b_store(client)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["requeue-lost-jobs"]).output.strip() == "no lost jobs"
    record_purchase_without_job(app, store.slug)
    result = runner.invoke(args=["requeue-lost-jobs"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{store.slug}: 1 purchase job(s) queued again"
    assert len(Queue("purchases", connection=redis_conn)) == 1


@pytest.mark.slow
def test_the_cron_scheduler_and_a_worker_recover_a_lost_purchase(app, client, redis_conn, rq_worker):
    """`python -m jobs.cron` queues the sweep at start; a real worker runs it, then the purchase."""
    store = b2b_store(client)
    purchase_id = record_purchase_without_job(app, store.slug)
    worker = rq_worker(app, "default", "purchases")
    cron = subprocess.Popen([sys.executable, "-m", "jobs.cron"], cwd=ROOT, env=process_env(app),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: status_of(client, store, purchase_id) == "COMPLETED", timeout=90, interval=0.2,
                   message="the lost purchase to be recovered and completed")
    finally:
        cron.terminate()
        cron.wait(timeout=30)
        worker.stop()


def test_the_sweep_leaves_the_engine_cache_alone(app, client, redis_conn):
    """It visits every store each minute: the engines of the stores in use must stay cached."""
    stores = [b2b_store(client) for _ in range(2)]
    record_purchase_without_job(app, stores[0].slug)
    registry = app.extensions["storefleet.tenant_engines"]
    registry.dispose_all()
    assert sweep(app).purchases == {stores[0].slug: 1}
    assert len(registry) == 0


def test_a_purchase_job_retries_with_a_back_off_long_enough_for_a_restart(app, client, redis_conn):
    """A failed run is retried after 10 s, 30 s, 90 s and 4 min (the workers' scheduler queues
    each when due), not four times within a second, which a database restart outlasts."""
    store = b2b_store(client)
    started = client.post("/purchase-gateway/purchases", headers=store.customer,
                          json={"products": [{"id": "PROD001", "quantity": 1}]})
    assert started.status_code == 200, started.get_json()
    with app.app_context():
        from core.purchases.services import purchase_job_id

        job = Job.fetch(purchase_job_id(store.slug, started.get_json()["purchaseId"]), connection=redis_conn)
    assert (job.retries_left, job.retry_intervals) == (4, [10, 30, 90, 240])


@pytest.mark.slow
def test_the_cron_scheduler_carries_on_after_redis_restarts_empty(make_app, tmp_path):
    """Redis stopped under `python -m jobs.cron` and started again without its data: the
    scheduler says so in its log, keeps running, and queues the sweep again once Redis is back."""
    from redis import Redis
    from rq import Queue

    from storefleet.cli import start_embedded_redis, stop_embedded_redis

    socket_path = tmp_path / "own-redis" / "redis.sock"
    server = start_embedded_redis(socket_path)
    app = make_app(REDIS_URL=f"unix://{socket_path}")
    log = tmp_path / "cron.log"
    cron = subprocess.Popen([sys.executable, "-m", "jobs.cron"], cwd=ROOT,
                            env=process_env(app, RECOVERY_INTERVAL_SECONDS=2),
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)

    def sweep_queued() -> bool:
        try:
            return bool(Queue("default", connection=Redis(unix_socket_path=str(socket_path))).job_ids)
        except Exception:  # noqa: BLE001 - Redis not answering yet
            return False

    try:
        wait_until(sweep_queued, timeout=60, message="the sweep to be queued at start")
        stop_embedded_redis(server, save=False)
        wait_until(lambda: b"Redis failed" in log.read_bytes() or cron.poll() is not None, timeout=60,
                   message="the scheduler to see Redis gone")
        assert cron.poll() is None, log.read_text()
        server = start_embedded_redis(socket_path)  # empty: its data was not saved
        wait_until(sweep_queued, timeout=60, message="the sweep to be queued again once Redis is back")
        assert cron.poll() is None
    finally:
        cron.terminate()
        assert cron.wait(timeout=30) == 0
        stop_embedded_redis(server, save=False)


def test_a_job_whose_worker_died_is_retried_by_the_next_sweep(app, client, redis_conn):
    """A worker killed mid-job leaves it "started" until its heartbeat expires; RQ looks for such
    jobs every 10 minutes, the sweep every minute: the job goes back to its retries then."""
    import time

    from rq.job import JobStatus
    from rq.registry import StartedJobRegistry

    store = b2b_store(client)
    started = client.post("/purchase-gateway/purchases", headers=store.customer,
                          json={"products": [{"id": "PROD001", "quantity": 1}]})
    with app.app_context():
        from core.purchases.services import purchase_job_id

        job_id = purchase_job_id(store.slug, started.get_json()["purchaseId"])
    queue = Queue("purchases", connection=redis_conn)
    queue.remove(job_id)
    job = Job.fetch(job_id, connection=redis_conn)
    job.set_status(JobStatus.STARTED)  # what a worker killed while running it leaves behind ...
    registry = StartedJobRegistry("purchases", connection=redis_conn)
    redis_conn.zadd(registry.key, {f"{job_id}:killed-execution": time.time() - 1})  # ... its heartbeat expired
    sweep(app)
    assert job_id not in registry.get_job_ids()
    assert Job.fetch(job_id, connection=redis_conn).get_status() == JobStatus.SCHEDULED  # its retry, after the back-off


def test_the_sweep_revokes_clients_of_a_customer_whose_revocation_was_lost(app, client, redis_conn):
    """A PATCH to INACTIVE commits the customer in the store's database and revokes its clients
    in the control database after it; should that follow-up be lost, the sweep revokes them."""
    store = b2b_store(client)
    customer = store.customer
    assert client.get("/purchase-gateway/purchases/none", headers=customer).status_code == 404   # the token works
    _tenant_id, db_url = _tenant(app, store.slug)

    def sweep_and_commit():
        with app.app_context():
            from core.recovery import requeue_lost_jobs
            from core.unit_of_work import unit_of_work

            with unit_of_work():
                return requeue_lost_jobs(GRACE)

    with app.app_context():
        from core.unit_of_work import own_transaction

        with own_transaction(db_url) as session:   # the store's commit, without its follow-up
            session.execute(text("UPDATE customers SET status = 'INACTIVE'"))
    assert sweep_and_commit().revoked == 1
    assert client.get("/purchase-gateway/purchases/none", headers=customer).status_code == 401
    assert sweep_and_commit().revoked == 0   # nothing left to revoke
