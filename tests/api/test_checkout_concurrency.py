"""Place-order under real concurrency: a gunicorn with 4 worker processes, hit by httpx from a
bounded thread pool, on SQLite and on PostgreSQL.

- 50 shoppers race for the last 10 units: exactly 10 orders, stock 0, 40 answers 409, no 5xx.
- one shopper's retrying client sends one Idempotency-Key 20 times at once: exactly one order;
  every answer is 200 with that order, or 409 while the first request runs; no 5xx.
"""
from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from core.orders.models import Order
from tests.support.backends import on_both_backends
from tests.support.shop import place_order_body

CONCURRENCY = 16
SHOPPERS = 50
UNITS = 10
RETRIES = 20
SKU = "PROD004"


def place_orders(base_url: str, requests: list[tuple[dict, str]]) -> list[tuple[int, dict]]:
    """POST every (headers, key) to place-order at once; returns (status, JSON body) in order."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    with httpx.Client(base_url=base_url, timeout=60, limits=limits) as http:
        def place(request):
            headers, key = request
            response = http.post("/api/checkout/place-order", headers={**headers, "Idempotency-Key": key},
                                 json=place_order_body(key))
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            return list(pool.map(place, requests))


def race_for_the_last_units(store, base_url: str) -> None:
    sessions = [store.cart_with((SKU, 1)) for _ in range(SHOPPERS)]
    store.set_stock(SKU, UNITS)

    answers = place_orders(base_url, [(store.headers(s), str(uuid.uuid4())) for s in sessions])

    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: UNITS, 409: SHOPPERS - UNITS}, statuses
    assert all(body["title"] == "Insufficient Stock" for status, body in answers if status == 409)
    assert len({body["orderNumber"] for status, body in answers if status == 200}) == UNITS
    assert store.count(Order) == UNITS
    assert store.stock(SKU) == 0


def retry_one_key_at_once(store, base_url: str) -> None:
    session_id, key = store.cart_with((SKU, 1)), str(uuid.uuid4())
    store.set_stock(SKU, UNITS)

    answers = place_orders(base_url, [(store.headers(session_id), key)] * RETRIES)

    statuses = Counter(status for status, _ in answers)
    assert set(statuses) <= {200, 409} and statuses[200] >= 1, statuses
    assert len({body["orderId"] for status, body in answers if status == 200}) == 1
    assert all(body["title"] == "Idempotency Key Conflict" for status, body in answers if status == 409)
    assert store.count(Order) == 1
    assert store.stock(SKU) == UNITS - 1


@on_both_backends
def test_concurrent_place_orders_never_oversell(app, shop, live_server):
    race_for_the_last_units(shop(), live_server(app, workers=4).url)


@on_both_backends
def test_concurrent_retries_of_one_key_place_one_order(app, shop, live_server):
    retry_one_key_at_once(shop(), live_server(app, workers=4).url)
