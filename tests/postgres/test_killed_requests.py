"""A web worker killed in the middle of a keyed request leaves nothing behind: the key is held by
the request's own transaction (core.idempotency.services), which PostgreSQL ends when the
worker's connection drops, so the client's retry with the same key is served at once — one
order, never a 409 for a request that no longer runs."""
from __future__ import annotations

import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from core.orders.models import Order
from tests.support.processes import wait_until
from tests.support.shop import place_order_body

pytestmark = pytest.mark.postgres

WEB_NAME = "sf-killed-web"


def test_a_retry_after_the_worker_died_mid_request_places_the_order_once(pg_app, pg_shop, live_server, postgres_url):
    shop = pg_shop()
    session_id, key = shop.cart_with(("PROD001", 1)), str(uuid.uuid4())
    server = live_server(pg_app, workers=1, PGAPPNAME=WEB_NAME)
    [worker] = psutil.Process(server.process.pid).children()
    headers = {**shop.headers(session_id), "Idempotency-Key": key}
    engine = create_engine(shop.db_url, poolclass=NullPool)
    with engine.connect() as holder, ThreadPoolExecutor(1) as pool:
        # The cart is locked here, so the request stops inside its transaction, holding its key.
        holder.execute(text("SELECT id FROM carts WHERE session_id = :sid FOR UPDATE"), {"sid": session_id})

        def send() -> int | str:
            try:
                with httpx.Client(base_url=server.url, timeout=30) as http:
                    return http.post("/api/checkout/place-order", headers=headers, json=place_order_body(key)).status_code
            except httpx.HTTPError as exc:
                return type(exc).__name__

        first = pool.submit(send)
        # Autocommit: pg_stat_activity is read afresh by each statement, not once per transaction.
        with closing(create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=NullPool).connect()) as watcher:
            wait_until(lambda: watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name AND wait_event_type = 'Lock'"),
                {"name": WEB_NAME}).scalar() == 1, message="the request waiting for the cart, its key held")
            worker.send_signal(signal.SIGKILL)
            assert isinstance(first.result(timeout=30), str)   # the client saw its connection drop
            holder.rollback()
            # The killed worker's transaction is gone with its connection, and its key with it.
            wait_until(lambda: watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"), {"name": WEB_NAME}
            ).scalar() == 0, message="the dead worker's connection to end")
    wait_until(lambda: len(psutil.Process(server.process.pid).children()) == 1, message="gunicorn to replace the worker")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        retried = http.post("/api/checkout/place-order", headers=headers, json=place_order_body(key))
        again = http.post("/api/checkout/place-order", headers=headers, json=place_order_body(key))
    assert retried.status_code == 200, retried.json()
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["orderId"] == retried.json()["orderId"]
    assert shop.count(Order) == 1
