"""Concurrent purchases and provisionings against one product, through a multi-process server
and two real RQ workers, never take more than its stock (SQLite and PostgreSQL)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import text

from tests.support.b2b import b2b_store
from tests.support.backends import on_both_backends
from tests.support.processes import wait_until

STOCK = 20
REQUESTS_EACH = 30


def set_stock(app, slug: str, sku: str, value: int) -> str:
    with app.app_context():
        from core.tenancy.admin import get_tenant
        from core.unit_of_work import own_transaction

        with own_transaction(get_tenant(slug).db_url) as session:
            session.execute(text("UPDATE products SET stock = :v WHERE sku = :s"), {"v": value, "s": sku})
        return get_tenant(slug).db_url


def run_race(app, live_server, rq_worker):
    client = app.test_client()
    store = b2b_store(client)
    db_url = set_stock(app, store.slug, "PROD003", STOCK)
    server = live_server(app, workers=4)
    workers = [rq_worker(app, "purchases") for _ in range(2)]

    def purchase(_):
        return httpx.post(f"{server.url}/purchase-gateway/purchases", headers=store.customer, timeout=60,
                          json={"products": [{"id": "PROD003", "quantity": 1}]})

    def provision(_):
        return httpx.post(f"{server.url}/product-provisioner/products", headers=store.customer, timeout=60,
                          json={"productId": "PROD003", "quantity": 1, "customization": {"color": "Red"}})

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(purchase, i) for i in range(REQUESTS_EACH)]
        futures += [pool.submit(provision, i) for i in range(REQUESTS_EACH)]
        responses = [f.result() for f in futures]
    assert all(r.status_code < 500 for r in responses), [r.text for r in responses if r.status_code >= 500]
    purchases = [r.json()["purchaseId"] for r in responses[:REQUESTS_EACH]]
    provisioned = sum(r.status_code == 200 for r in responses[REQUESTS_EACH:])
    assert {r.status_code for r in responses[REQUESTS_EACH:]} <= {200, 409}

    def all_processed():
        statuses = [client.get(f"/purchase-gateway/purchases/{pid}", headers=store.customer).get_json()["status"]
                    for pid in purchases]
        return statuses if "PENDING" not in statuses else None

    statuses = wait_until(all_processed, timeout=120, interval=0.2, message="every purchase to be processed")
    for worker in workers:
        worker.stop()
    reserved = statuses.count("COMPLETED")
    assert set(statuses) <= {"COMPLETED", "FAILED"}
    with app.app_context():
        from core.unit_of_work import own_transaction

        with own_transaction(db_url, write=False) as session:
            final = session.execute(text("SELECT stock FROM products WHERE sku = 'PROD003'")).scalar()
            rows = session.execute(text("SELECT coalesce(sum(quantity), 0) FROM provisioned_products")).scalar()
    assert rows == provisioned
    assert reserved + provisioned == STOCK  # demand (60) exceeds stock: all of it, and no more, is taken
    assert final == 0


@on_both_backends
def test_purchases_and_provisionings_never_oversell(app, redis_conn, live_server, rq_worker):
    run_race(app, live_server, rq_worker)
