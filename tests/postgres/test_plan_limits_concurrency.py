"""Plan limits hold when many requests race for the last place, across gunicorn's processes on
PostgreSQL: the count and the insert under a limit run one at a time per store (core.locks)."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.b2b import b2b_store
from tests.support.races import held_pair

pytestmark = pytest.mark.postgres

RACERS = 24


def race(url: str, headers: dict, path: str, bodies: list[dict]) -> list[int]:
    """POST each body at once (a barrier lines them up) from its own connection; the statuses."""
    barrier = threading.Barrier(len(bodies), timeout=60)

    def send(body: dict) -> int:
        with httpx.Client(base_url=url, timeout=60) as http:
            barrier.wait()
            return http.post(path, headers=headers, json=body).status_code

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
