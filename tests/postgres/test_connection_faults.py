"""Lost database connections under load: every answer tells the truth about what was done.

gunicorn (4 workers) and an RQ worker serve checkouts, reserves and purchases on PostgreSQL while
a thread terminates every server connection of theirs (pg_terminate_backend, picked by the
application_name their processes are given) every 0.2 s. Afterwards each answer is checked
against the databases: a 2xx matches exactly one effect, any other answer none; a failure is a
503 with Retry-After (never a 500); and every purchase the gateway acknowledged ends processed
exactly once (nothing doubled, nothing left PENDING).
"""
from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import create_engine, text

from tests.support.b2b import b2b_store
from tests.support.processes import wait_until
from tests.support.shop import place_order_body

WEB_NAME, WORKER_NAME = "sf-fault-web", "sf-fault-worker"
CHECKOUTS, RESERVES, PURCHASES = 40, 120, 40
KILL_EVERY = 0.2
HOT_SKU, CART_SKU = "PROD002", "PROD001"
PURCHASED = [("PROD003", 1), ("PROD005", 2)]


def terminate_connections_until(stop: threading.Event, server_url: str) -> list[int]:
    """Terminate every connection of the web and worker processes every KILL_EVERY seconds
    until `stop` is set; how many were terminated each time."""
    killed = []
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            while not stop.wait(KILL_EVERY):
                killed.append(conn.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name IN (:web, :worker)"), {"web": WEB_NAME, "worker": WORKER_NAME}).scalar())
    finally:
        engine.dispose()
    return killed


def test_lost_connections_never_answer_for_work_not_done(pg_app, pg_shop, live_server, rq_worker, postgres_url):
    shop = pg_shop()
    client = pg_app.test_client()
    admin = shop.token_headers("store_admin")
    b2b = b2b_store(client)
    carts = [shop.cart_with((CART_SKU, 1)) for _ in range(CHECKOUTS)]
    for sku in (HOT_SKU, CART_SKU):
        shop.set_stock(sku, 1_000_000)
    with pg_app.app_context():
        from core.tenancy.admin import get_tenant
        b2b_db = get_tenant(b2b.slug).db_url
    b2b_engine = create_engine(b2b_db)
    with b2b_engine.begin() as conn:
        conn.execute(text("UPDATE products SET stock = 1000000"))

    server = live_server(pg_app, workers=4, PGAPPNAME=WEB_NAME)
    rq_worker(pg_app, "purchases", PGAPPNAME=WORKER_NAME)

    def checkout(session_id: str) -> tuple[str, str, int, dict]:
        key = str(uuid.uuid4())
        answer = http.post("/api/checkout/place-order", json=place_order_body(key),
                           headers={**shop.headers(session_id), "Idempotency-Key": key})
        return "checkout", session_id, answer.status_code, dict(answer.headers)

    def reserve(_: int) -> tuple[str, str, int, dict]:
        answer = http.put(f"/inventory/{HOT_SKU}/reserve", json={"quantity": 1},
                          headers={**admin, "X-Tenant-Slug": shop.slug})
        return "reserve", "", answer.status_code, dict(answer.headers)

    def purchase(_: int) -> tuple[str, str, int, dict]:
        key = str(uuid.uuid4())
        answer = http.post("/purchase-gateway/purchases", headers={**b2b.customer, "Idempotency-Key": key},
                           json={"products": [{"id": sku, "quantity": n} for sku, n in PURCHASED]})
        return "purchase", key, answer.status_code, dict(answer.headers)

    work = ([(checkout, cart) for cart in carts] + [(reserve, i) for i in range(RESERVES)]
            + [(purchase, i) for i in range(PURCHASES)])
    work = [work[i] for i in sorted(range(len(work)), key=lambda i: (i * 7919) % len(work))]  # interleaved
    stop = threading.Event()
    with httpx.Client(base_url=server.url, timeout=60) as http, ThreadPoolExecutor(max_workers=9) as pool:
        killer = pool.submit(terminate_connections_until, stop, postgres_url)
        try:
            answers = list(pool.map(lambda job: job[0](job[1]), work))
        finally:
            stop.set()
        killed = killer.result()

    statuses = Counter((kind, status) for kind, _, status, _ in answers)
    assert sum(killed) > 0, "no connection was terminated: the test proved nothing"
    assert {status for _, _, status, _ in answers} <= {200, 503}, statuses
    assert all(headers.get("retry-after") for _, _, status, headers in answers if status == 503), statuses

    # Checkouts: one order per cart whose place-order answered 200, none for the others.
    with shop.db() as session:
        orders = Counter(session.scalars(text("SELECT session_id FROM orders")).all())
    for kind, session_id, status, _ in answers:
        if kind == "checkout":
            assert orders[session_id] == (1 if status == 200 else 0), (session_id, status, statuses)
    # Reserves: the stock went down by exactly the reserves answered 200.
    assert shop.stock(HOT_SKU) == 1_000_000 - statuses[("reserve", 200)], statuses

    # Purchases: one per key answered 200, none for the others; each processed once.
    acknowledged = {key for kind, key, status, _ in answers if kind == "purchase" and status == 200}

    def settled() -> bool:
        with b2b_engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM purchases WHERE status = 'PENDING'")).scalar() == 0
    wait_until(settled, timeout=120, message="every purchase processed")
    with b2b_engine.connect() as conn:
        recorded = dict(conn.execute(text("SELECT idempotency_key, status FROM purchases")).all())
        orders_of_purchases = conn.execute(text("SELECT count(*) FROM orders")).scalar()
        stock = dict(conn.execute(text("SELECT sku, stock FROM products WHERE sku IN ('PROD003', 'PROD005')")).all())
    b2b_engine.dispose()
    assert set(recorded) == acknowledged, statuses
    assert set(recorded.values()) == {"COMPLETED"}, Counter(recorded.values())
    assert orders_of_purchases == len(acknowledged)
    assert stock == {sku: 1_000_000 - n * len(acknowledged) for sku, n in PURCHASED}
