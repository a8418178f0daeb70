"""Every plan limit holds when many requests race for the last place, across gunicorn's processes
on PostgreSQL: the count and the insert under a limit run one at a time per store (core.locks),
a cart's lines one at a time per cart and a customer's provisionings per customer (row locks),
and API calls are counted in Redis before they run (web.ratelimit)."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.b2b import b2b_store
from tests.support.races import held_pair
from tests.support.shop import place_order_body

pytestmark = pytest.mark.postgres

RACERS = 24


def race(url: str, headers: dict, path: str, bodies: list[dict | None], method: str = "POST") -> list[int]:
    """Send each body at once (a barrier lines them up) from its own connection; the statuses."""
    barrier = threading.Barrier(len(bodies), timeout=60)

    def send(body: dict | None) -> int:
        with httpx.Client(base_url=url, timeout=60) as http:
            barrier.wait()
            return http.request(method, path, headers=headers, json=body).status_code

    with ThreadPoolExecutor(len(bodies)) as pool:
        return sorted(pool.map(send, bodies))


@pytest.mark.parametrize("limit, path, body, count", [
    ("maxCustomers", "/api/provisioning/customers",
     lambda: {"name": "Racer", "contactEmail": f"{uuid.uuid4().hex[:12]}@race.example.com"},
     lambda store, client: client.get("/api/provisioning/customers", headers=store.partner,
                                      query_string={"pageSize": 100}).get_json()["totalCount"]),
    ("maxProducts", "/inventory",
     lambda: {"product_id": f"RACE-{uuid.uuid4().hex[:8]}", "name": "Racer", "quantity": 1, "price": 1},
     lambda store, client: len(client.get("/inventory", headers={"X-Tenant-Slug": store.slug}).get_json())),
])
def test_a_plan_limit_holds_when_creates_race(pg_app, live_server, limit, path, body, count):
    client = pg_app.test_client()
    store = b2b_store(client)
    existing = count(store, client)
    allowed = existing + 3
    patched = client.patch(f"/superadmin/tenants/{store.slug}", headers=store.admin, json={"limits": {limit: allowed}})
    assert patched.status_code == 200
    headers = store.partner if limit == "maxCustomers" else store.headers_for("store_admin")
    server = live_server(pg_app, workers=4)
    statuses = race(server.url, headers, path, [body() for _ in range(RACERS)])
    assert statuses == [201] * 3 + [403] * (RACERS - 3)
    assert count(store, client) == allowed


def test_two_creates_that_both_counted_below_the_limit_make_one_customer(pg_app):
    """Each create is held after its count of customers until both have counted (or for 3 s, when
    the other cannot: it waits for the first's transaction). Counting and then inserting would
    let both in, one past maxCustomers; one at a time per store lets one."""
    client = pg_app.test_client()
    store = b2b_store(client)  # holds one customer
    assert client.patch(f"/superadmin/tenants/{store.slug}", headers=store.admin,
                        json={"limits": {"maxCustomers": 2}}).status_code == 200

    def create() -> int:
        return pg_app.test_client().post("/api/provisioning/customers", headers=store.partner, json={
            "name": "Racer", "contactEmail": f"{uuid.uuid4().hex[:12]}@race.example.com"}).status_code

    def counts_customers(statement: str) -> bool:
        return statement.lstrip().upper().startswith("SELECT COUNT") and "customers" in statement

    assert held_pair(counts_customers, create) == [201, 403]


def set_limit(client, store, limit: str, value: int) -> None:
    assert client.patch(f"/superadmin/tenants/{store.slug}", headers=store.admin,
                        json={"limits": {limit: value}}).status_code == 200


def test_max_cart_items_holds_when_one_cart_is_filled_at_once(pg_app, live_server):
    client = pg_app.test_client()
    store = b2b_store(client)
    set_limit(client, store, "maxCartItems", 5)
    items = client.get("/api/catalog/products", headers={"X-Tenant-Slug": store.slug}).get_json()["items"]
    headers = {"X-Tenant-Slug": store.slug, "X-Session-Id": str(uuid.uuid4())}
    server = live_server(pg_app, workers=4)
    statuses = race(server.url, headers, "/api/cart/items",
                    [{"productId": items[i % 3]["id"], "quantity": 1} for i in range(RACERS)])
    assert statuses == [200] * 5 + [403] * (RACERS - 5)
    assert client.get("/api/cart", headers=headers).get_json()["itemCount"] == 5


def test_the_provisioning_quota_holds_when_one_customer_provisions_at_once(pg_app, live_server):
    client = pg_app.test_client()
    store = b2b_store(client)
    set_limit(client, store, "provisioningQuotaPerCustomer", 3)
    server = live_server(pg_app, workers=4)
    statuses = race(server.url, store.customer, "/product-provisioner/products",
                    [{"productId": "PROD002", "quantity": 1} for _ in range(RACERS)])
    assert statuses == [200] * 3 + [409] * (RACERS - 3)
    provisioned = client.get("/product-provisioner/provisioned-products", headers=store.customer).get_json()
    assert sum(item["quantity"] for item in provisioned) == 3


def test_api_requests_per_minute_holds_when_one_client_calls_at_once(pg_app, live_server):
    client = pg_app.test_client()
    store = b2b_store(client)
    set_limit(client, store, "apiRequestsPerMinute", 5)
    partner = store.headers_for("partner")   # a client that has made no call yet
    server = live_server(pg_app, workers=4)
    statuses = race(server.url, partner, "/api/provisioning/customers", [None] * RACERS, method="GET")
    assert statuses == [200] * 5 + [429] * (RACERS - 5)


def test_max_products_per_order_holds_for_every_order_placed_at_once(pg_app, live_server):
    client = pg_app.test_client()
    store = b2b_store(client)
    set_limit(client, store, "maxProductsPerOrder", 2)
    items = client.get("/api/catalog/products", headers={"X-Tenant-Slug": store.slug}).get_json()["items"]

    def cart(products: int) -> str:
        session_id = str(uuid.uuid4())
        for item in items[:products]:
            assert client.post("/api/cart/items", headers={"X-Tenant-Slug": store.slug, "X-Session-Id": session_id},
                               json={"productId": item["id"], "quantity": 1}).status_code == 200
        return session_id

    carts = [cart(2) for _ in range(4)] + [cart(3) for _ in range(4)]
    server = live_server(pg_app, workers=4)
    barrier = threading.Barrier(len(carts), timeout=60)

    def place(session_id: str) -> int:
        key = str(uuid.uuid4())
        with httpx.Client(base_url=server.url, timeout=60) as http:
            barrier.wait()
            return http.post("/api/checkout/place-order", json=place_order_body(key), headers={
                "X-Tenant-Slug": store.slug, "X-Session-Id": session_id, "Idempotency-Key": key}).status_code

    with ThreadPoolExecutor(len(carts)) as pool:
        assert list(pool.map(place, carts)) == [200] * 4 + [400] * 4
