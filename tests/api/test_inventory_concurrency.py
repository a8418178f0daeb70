"""Stock never oversells: 100 concurrent reserves of one unit against a stock of 37, sent to a
real gunicorn with 4 worker processes, on SQLite and on PostgreSQL."""
from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.backends import on_both_backends

REQUESTS = 100
STOCK = 37
CONCURRENCY = 16


def race_for_stock(base_url: str, headers: dict) -> None:
    """Create a product with STOCK units through the API, fire REQUESTS reserves of one unit at
    once, then check that exactly STOCK succeeded, the rest were refused, and nothing is left."""
    sku = f"RACE-{uuid.uuid4().hex[:8]}"
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    with httpx.Client(base_url=base_url, headers=headers, timeout=60, limits=limits) as http:
        created = http.post("/inventory", json={"product_id": sku, "name": "Limited edition", "quantity": STOCK,
                                                "price": 10})
        assert created.status_code == 201, created.text

        def reserve(_):
            response = http.put(f"/inventory/{sku}/reserve", json={"quantity": 1})
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            answers = list(pool.map(reserve, range(REQUESTS)))

        statuses = Counter(status for status, _ in answers)
        assert statuses == {200: STOCK, 409: REQUESTS - STOCK}, statuses
        # Each winner saw a different stock level: every unit was handed out exactly once.
        remaining = sorted(body["remaining_quantity"] for status, body in answers if status == 200)
        assert remaining == list(range(STOCK))
        assert all(body["title"] == "Insufficient Stock" for status, body in answers if status == 409)
        final = http.get(f"/inventory/{sku}/status").json()
        assert (final["quantity"], final["status"]) == (0, "out_of_stock")


@on_both_backends
def test_concurrent_reserves_never_oversell(app, create_tenant, api_client_headers, live_server):
    slug = create_tenant()
    headers = {"X-Tenant-Slug": slug, **api_client_headers(slug, "store_admin")}
    race_for_stock(live_server(app, workers=4).url, headers)
