"""Purchases processed per second by two RQ worker processes (three products each).

    .venv/bin/python bench/purchases.py [--purchases 1000] [--workers 2]
    .venv/bin/python bench/purchases.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/purchases.py --worker rq-simple    # RQ's stock SimpleWorker instead

Creates a store (temporary DATA_DIR; with --postgres its databases live on that server and are
dropped afterwards), records N purchases through the gateway's domain service with their
orchestrator jobs queued, then starts the workers. The rate is the purchases processed divided by the time
from the first outcome to the last, as the purchases recorded them (worker start-up excluded); every purchase is checked to have
been processed, and the stock to have gone down by exactly what was reserved.

It also prints the CPU time the workers and Redis spent per purchase: on a machine shared with
other work the rate follows the load, the CPU per purchase much less.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from storefleet.cli import start_embedded_redis, stop_embedded_redis  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--purchases", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", help="server URL for the control and tenant databases")
    parser.add_argument("--worker", choices=WORKER_KINDS, default="storefleet",
                        help="the worker class of python -m jobs.worker (rq-simple: RQ's stock SimpleWorker)")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="sf-bench-purchases-"))
    redis_server = start_embedded_redis(data_dir / "redis" / "redis.sock")
    os.environ.update(DATA_DIR=str(data_dir), REDIS_URL=f"unix://{redis_server.socket_file}")
    admin, created = None, []
    if args.postgres:
        server = make_url(args.postgres)
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        control = f"sf_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{control}"'))
        created.append(control)
        os.environ["DATABASE_URL"] = server.set(database=control).render_as_string(hide_password=False)
        os.environ["TENANT_DATABASE_URL"] = server.set(database="DBNAME").render_as_string(
            hide_password=False).replace("DBNAME", "{db_name}")

    from storefleet.app import create_app

    app = create_app()
    slug = f"bench-{uuid.uuid4().hex[:6]}"
    try:
        with app.app_context():
            prepare(app, slug, args.purchases)
            created.append("ecom_tenant_" + slug.replace("-", "_"))
        # The CPU of a worker that starts and finds nothing to do, to leave start-up out.
        startup_cpu = children_cpu_seconds()
        run_workers(1, queue="default", kind=args.worker)
        startup_cpu = children_cpu_seconds() - startup_cpu
        redis_cpu = redis_cpu_seconds(redis_server)
        workers_cpu = children_cpu_seconds()
        run_workers(args.workers, kind=args.worker)
        workers_cpu = children_cpu_seconds() - workers_cpu - args.workers * startup_cpu
        redis_cpu = redis_cpu_seconds(redis_server) - redis_cpu
        with app.app_context():
            verify(slug, args.purchases)
            elapsed = processing_window(slug)
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(f"{backend}: {args.purchases} purchases (3 products each) processed by {args.workers} {args.worker} workers "
              f"in {elapsed:.2f} s = {(args.purchases - 1) / elapsed:.0f} purchases/s")
        print(f"CPU per purchase (worker start-up left out): workers {workers_cpu / args.purchases * 1000:.1f} ms, "
              f"Redis {redis_cpu / args.purchases * 1000:.1f} ms (load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs)")
    finally:
        app.extensions["storefleet.tenant_engines"].dispose_all()
        with app.app_context():
            from core.extensions import db

            db.session.remove()
            db.engine.dispose()
        stop_embedded_redis(redis_server, save=False)
        if admin is not None:
            with admin.connect() as conn:
                for name in created:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def prepare(app, slug: str, count: int) -> None:
    from flask_migrate import upgrade

    from core.auth.services import ensure_superadmin
    from core.customers.services import CustomerData, create_customer
    from core.extensions import db
    from core.purchases.services import enqueue_processing, initiate_purchase
    from core.tenancy.provisioning import create_tenant_directly
    from sqlalchemy.orm import Session

    from core.tenancy.engines import engines
    from core.unit_of_work import own_transaction

    upgrade(directory=str(app.config["CONTROL_MIGRATIONS"]))
    ensure_superadmin("bench@example.com", "bench-password")
    tenant = create_tenant_directly(slug, "Bench", "ENTERPRISE")
    with own_transaction(tenant.db_url) as session:
        session.execute(text("UPDATE products SET stock = 1000000"))
        customer = create_customer(session, tenant, CustomerData(name="Bench", contact_email="b@example.com"))
        customer_id = customer.id
    enqueue = enqueue_processing(slug)
    # initiate_purchase commits each purchase itself (the job must find it), as the API's does.
    with engines().connect(tenant.db_url, write=True) as connection, Session(connection) as session:
        for _ in range(count):
            initiate_purchase(session, tenant, customer_id, [("PROD001", 1), ("PROD002", 2), ("PROD005", 1)],
                              None, enqueue)
    db.session.commit()


# python -m jobs.worker with Storefleet's worker class, or with RQ's stock SimpleWorker (to see
# what the subclass saves).
WORKER_KINDS = ("storefleet", "rq-simple")


def run_workers(count: int, queue: str = "purchases", kind: str = "storefleet") -> None:
    env = dict(os.environ)
    command = [sys.executable, "-m", "jobs.worker", queue, "--burst", "--worker-class", kind]
    workers = [subprocess.Popen(command, cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]
    for worker in workers:
        if worker.wait(timeout=600) != 0:
            raise SystemExit("a worker failed")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def redis_cpu_seconds(server) -> float:
    info = server.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def processing_window(slug: str) -> float:
    """Seconds from the first purchase's outcome to the last's, as the purchases recorded them
    (worker start-up is not part of the rate)."""
    from core.tenancy.admin import get_tenant
    from core.unit_of_work import own_transaction
    from core.purchases.models import Purchase
    from sqlalchemy import func, select

    with own_transaction(get_tenant(slug).db_url, write=False) as session:
        first, last = session.execute(select(func.min(Purchase.updated_at), func.max(Purchase.updated_at))).one()
    return (last - first).total_seconds()


def verify(slug: str, count: int) -> None:
    from core.tenancy.admin import get_tenant
    from core.unit_of_work import own_transaction

    with own_transaction(get_tenant(slug).db_url, write=False) as session:
        statuses = dict(session.execute(text("SELECT status, count(*) FROM purchases GROUP BY status")).all())
        stock = session.execute(text("SELECT stock FROM products WHERE sku = 'PROD002'")).scalar()
    assert statuses == {"COMPLETED": count}, statuses
    assert stock == 1_000_000 - 2 * count, stock


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"(whole run {time.perf_counter() - started:.1f} s)")
