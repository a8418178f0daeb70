"""The purchase orchestrator in real `rq` worker processes: it completes purchases, and a
worker killed in the middle of one reserves nothing twice once the job is retried."""
from __future__ import annotations

import sqlite3

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import create_engine, text

from tests.support.b2b import b2b_store
from tests.support.processes import wait_until

PURCHASES = "/purchase-gateway/purchases"


def stock(app, slug: str, sku: str) -> int:
    with app.app_context():
        from core.tenancy.admin import get_tenant
        from core.unit_of_work import own_transaction

        with own_transaction(get_tenant(slug).db_url, write=False) as session:
            return session.execute(text("SELECT stock FROM products WHERE sku = :s"), {"s": sku}).scalar()


def product_ids(app, slug: str) -> dict[str, str]:
    with app.app_context():
        from core.tenancy.admin import get_tenant
        from core.unit_of_work import own_transaction

        with own_transaction(get_tenant(slug).db_url, write=False) as session:
            return dict(session.execute(text("SELECT sku, id FROM products")).all())


def test_worker_process_completes_a_purchase(app, client, redis_conn, rq_worker):
    store = b2b_store(client)
    purchase_id = client.post(PURCHASES, headers=store.customer, json={"products": [
        {"id": "PROD001", "quantity": 2}, {"id": "PROD002", "quantity": 1}, {"id": "PROD003", "quantity": 1}]}
    ).get_json()["purchaseId"]
    assert rq_worker(app, "purchases", burst=True).wait(timeout=120) == 0
    body = client.get(f"{PURCHASES}/{purchase_id}", headers=store.customer).get_json()
    assert body["status"] == "COMPLETED"
    assert stock(app, store.slug, "PROD001") == 48


def _retry_abandoned_jobs(redis_conn) -> None:
    """What RQ does for a job whose worker died: its maintenance finds the job abandoned in the
    started registry and, as the job has retries left, schedules its retry after the back-off
    (core.purchases.PURCHASE_RETRY); the workers' scheduler queues it when due. Both triggered
    here at once instead of after the heartbeat expires and the back-off passes."""
    StartedJobRegistry("purchases", connection=redis_conn).cleanup(timestamp=10**10)
    scheduled = ScheduledJobRegistry("purchases", connection=redis_conn)
    due = scheduled.get_jobs_to_schedule(timestamp=10**10)
    assert due, "the abandoned job's retry was not scheduled"
    for job_id in due:
        Queue("purchases", connection=redis_conn).enqueue_job(Job.fetch(job_id, connection=redis_conn))
        scheduled.remove(job_id)


def _kill_midway_then_retry(app, client, redis_conn, rq_worker, store, hold_lock, wait_blocked, release):
    skus = sorted(["PROD001", "PROD002"], key=lambda sku: product_ids(app, store.slug)[sku])
    purchase_id = client.post(PURCHASES, headers=store.customer, json={"products": [
        {"id": skus[0], "quantity": 3}, {"id": skus[1], "quantity": 4}]}).get_json()["purchaseId"]
    before = {sku: stock(app, store.slug, sku) for sku in skus}

    hold_lock(skus[1])
    worker = rq_worker(app, "purchases")
    wait_blocked()
    worker.kill()
    release()

    assert client.get(f"{PURCHASES}/{purchase_id}", headers=store.customer).get_json()["status"] == "PENDING"
    assert {sku: stock(app, store.slug, sku) for sku in skus} == before  # the dead worker's work rolled back

    _retry_abandoned_jobs(redis_conn)
    assert len(Queue("purchases", connection=redis_conn)) == 1
    assert rq_worker(app, "purchases", burst=True).wait(timeout=120) == 0
    body = client.get(f"{PURCHASES}/{purchase_id}", headers=store.customer).get_json()
    assert body["status"] == "COMPLETED"
    assert stock(app, store.slug, skus[0]) == before[skus[0]] - 3
    assert stock(app, store.slug, skus[1]) == before[skus[1]] - 4

    # The job delivered once more (a duplicate) changes nothing.
    with app.app_context():
        from core.purchases.services import enqueue_processing

        enqueue_processing(store.slug)(purchase_id)
    assert rq_worker(app, "purchases", burst=True).wait(timeout=120) == 0
    assert stock(app, store.slug, skus[0]) == before[skus[0]] - 3


def test_worker_killed_mid_purchase_on_sqlite(app, client, redis_conn, rq_worker):
    """The test holds the tenant database's write lock, so the worker is stuck inside the job
    when it is killed."""
    store = b2b_store(client)
    with app.app_context():
        from core.tenancy.admin import get_tenant

        path = get_tenant(store.slug).db_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)

    def hold_lock(_sku):
        holder.execute("BEGIN IMMEDIATE")

    def wait_blocked():
        job_ids = lambda: StartedJobRegistry("purchases", connection=redis_conn).get_job_ids()  # noqa: E731
        wait_until(job_ids, timeout=60, message="the worker to start the job")

    _kill_midway_then_retry(app, client, redis_conn, rq_worker, store, hold_lock, wait_blocked,
                            lambda: holder.execute("ROLLBACK"))
    holder.close()


@pytest.mark.postgres
def test_worker_killed_mid_purchase_on_postgres(pg_app, redis_conn, rq_worker):
    """The test locks the second product's row: the worker has reserved the first product
    (uncommitted) and waits on the second when it is killed."""
    client = pg_app.test_client()
    store = b2b_store(client)
    with pg_app.app_context():
        from core.tenancy.admin import get_tenant

        url = get_tenant(store.slug).db_url
    engine = create_engine(url)
    holder = engine.connect()
    transaction = holder.begin()
    db_name = holder.engine.url.database

    def hold_lock(sku):
        holder.execute(text("SELECT id FROM products WHERE sku = :s FOR UPDATE"), {"s": sku})

    def wait_blocked():
        def worker_waits_on_lock():
            with engine.connect() as probe:
                return probe.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :d AND wait_event_type = 'Lock'"),
                    {"d": db_name}).scalar()
        wait_until(worker_waits_on_lock, timeout=60, message="the worker to wait on the locked row")

    try:
        _kill_midway_then_retry(pg_app, client, redis_conn, rq_worker, store, hold_lock, wait_blocked,
                                transaction.rollback)
    finally:
        holder.close()
        engine.dispose()
