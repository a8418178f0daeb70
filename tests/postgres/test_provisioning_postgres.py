"""Provisioning on PostgreSQL: CreateDatabase issues a real CREATE DATABASE; the fixture drops
every database afterwards. Two inits of one new slug at once make one store and one 409."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, event, text

from core.errors import Conflict
from core.extensions import db
from core.tenancy.models import Tenant
from core.tenancy.provisioning import init_provisioning
from tests.support.flows import init_and_confirm
from tests.support.processes import wait_until
from tests.support.races import held_pair

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


def tenants_with_slug(app, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Tenant).filter_by(slug=slug))


def test_simultaneous_inits_of_one_slug_make_one_store_and_a_409(pg_app):
    """Both requests pass the slug check before either inserts (a barrier holds each at its
    flush), so the second INSERT meets the first on the unique index: 409, never a 500."""
    slug = f"pg-race-{uuid.uuid4().hex[:8]}"
    checked = threading.Barrier(2, timeout=30)

    def hold_until_both_checked(session, _context, _instances):
        if any(isinstance(obj, Tenant) and obj.slug == slug for obj in session.new):
            checked.wait()

    def init():
        return pg_app.test_client().post("/provision/tenants/init",
                                         json={"slug": slug, "name": "Race", "plan": "Basic"})

    event.listen(db.session, "before_flush", hold_until_both_checked)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = [future.result(timeout=60) for future in [pool.submit(init), pool.submit(init)]]
    finally:
        event.remove(db.session, "before_flush", hold_until_both_checked)

    assert sorted(answer.status_code for answer in answers) == [200, 409]
    [conflict] = [answer for answer in answers if answer.status_code == 409]
    assert conflict.mimetype == "application/problem+json"
    assert conflict.get_json()["title"] == "Conflict"
    assert conflict.get_json()["detail"] == f"A store with slug '{slug}' already exists."
    assert tenants_with_slug(pg_app, slug) == 1


def inserts_waiting_for_a_lock(engine) -> int:
    """Backends of this database whose INSERT INTO tenants waits for a lock. A new connection
    each time: pg_stat_activity is a snapshot taken once per transaction."""
    with engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO tenants%'"))


def test_a_slug_taken_after_the_check_is_a_conflict(pg_app):
    """The check cannot see a tenant flushed but not yet committed by another transaction: our
    INSERT waits on the unique index, and once the other commits it is Conflict, not IntegrityError."""
    slug = f"pg-taken-{uuid.uuid4().hex[:8]}"

    def init_in_its_own_context():
        with pg_app.app_context():
            return init_provisioning(slug, "Second", "Basic")

    with pg_app.app_context():
        init_provisioning(slug, "First", "Basic")  # flushed, uncommitted: holds the slug's index entry
        with ThreadPoolExecutor(max_workers=1) as pool:
            second = pool.submit(init_in_its_own_context)
            try:
                wait_until(lambda: second.done() or inserts_waiting_for_a_lock(db.engine), timeout=30,
                           message="the second INSERT to wait on the slug's unique index")
                assert not second.done(), second.result()
            finally:
                db.session.commit()
            with pytest.raises(Conflict, match=f"A store with slug '{slug}' already exists."):
                second.result(timeout=30)
    assert tenants_with_slug(pg_app, slug) == 1


def test_a_confirm_token_is_spent_once_however_many_confirm_at_once(pg_app, redis_conn, live_server, rq_worker):
    """Twenty confirms with one token at once, over four gunicorn workers: one 200, nineteen 401,
    one job queued; two workers then bring the store to Ready, every step a success."""
    import httpx
    from rq import Queue

    server = live_server(pg_app, workers=4)
    slug = f"pg-confirm-{uuid.uuid4().hex[:8]}"
    started = httpx.post(f"{server.url}/provision/tenants/init", json={"slug": slug, "name": "C", "plan": "Basic"})
    assert started.status_code == 200, started.text
    token, provisioning_id = started.json()["confirmToken"], started.json()["provisioningId"]
    barrier = threading.Barrier(20)

    def confirm(_):
        with httpx.Client(base_url=server.url, timeout=30) as http:
            barrier.wait()
            return http.post("/provision/tenants/confirm", headers={"Authorization": f"Bearer {token}"}).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(pool.map(confirm, range(20)))
    assert statuses == [200] + [401] * 19
    assert len(Queue("provisioning", connection=redis_conn).job_ids) == 1
    workers = [rq_worker(pg_app, "provisioning", burst=True) for _ in range(2)]
    assert all(worker.wait(timeout=120) == 0 for worker in workers)
    status = httpx.get(f"{server.url}/provision/tenants/{provisioning_id}/status").json()
    assert status["status"] == "Ready" and {step["status"] for step in status["steps"]} == {"Success"}, status


def test_one_run_of_a_store_s_steps_at_a_time(pg_app):
    """A second job of a store while the first holds its steps returns at once ("running"),
    touching nothing; a repair then is a 409; once the first is done, each may run."""
    from core.locks import held_alone
    from core.tenancy.provisioning import STEPS_LOCK, provision_queued_tenant, repair_tenant

    client = pg_app.test_client()
    provisioning_id, slug = init_and_confirm(client)
    with pg_app.app_context():
        with held_alone(db.engine, STEPS_LOCK, provisioning_id) as first:
            assert first
            assert provision_queued_tenant(provisioning_id) == "running"
            assert db.session.get(Tenant, provisioning_id).status == "Queued"
            with pytest.raises(Conflict):
                repair_tenant(slug)
        assert provision_queued_tenant(provisioning_id) == "Ready"
        assert repair_tenant(slug).status == "Ready"


def test_two_confirms_that_both_read_the_token_unspent_spend_it_once(pg_app):
    """Each confirm is held after its first statement on the tenant until both have made one (or
    for 3 s, when the other cannot: its UPDATE waits on the row). Reading the token and then
    writing would let both through; the one conditional UPDATE lets one."""
    client = pg_app.test_client()
    slug = f"pg-spend-{uuid.uuid4().hex[:8]}"
    token = client.post("/provision/tenants/init", json={"slug": slug, "name": "S", "plan": "Basic"}).get_json()[
        "confirmToken"]

    def confirm():
        return pg_app.test_client().post("/provision/tenants/confirm",
                                         headers={"Authorization": f"Bearer {token}"}).status_code

    assert held_pair(lambda statement: "tenants" in statement, confirm) == [200, 401]
