"""Connections to a database server are bounded per process however many stores it holds
(core.tenancy.engines): more stores than the bound are served, concurrently, with never more
connections open (seen in pg_stat_activity) than TENANT_SERVER_CONNECTIONS; with all of them
taken, a request waits TENANT_POOL_TIMEOUT_SECONDS and then answers 503 with Retry-After."""
from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, event, text

from core.tenancy.engines import TenantDatabases

pytestmark = pytest.mark.postgres

BOUND = 3
STORES = 7
CATALOG = "/api/catalog/products"


@pytest.fixture
def bounded_app(pg_app):
    """pg_app with a pool of BOUND connections per server, waiting at most 1 s for one."""
    pg_app.extensions["storefleet.tenant_engines"].dispose_all()
    pg_app.extensions["storefleet.tenant_engines"] = TenantDatabases(server_connections=BOUND, pool_timeout=1)
    return pg_app


@pytest.fixture
def stores(bounded_app):
    from core.tenancy.provisioning import create_tenant_directly

    with bounded_app.app_context():
        tenants = [create_tenant_directly(f"b{uuid.uuid4().hex[:6]}", f"Bounded {i}", "PREMIUM") for i in range(STORES)]
        return [(tenant.slug, tenant.db_name) for tenant in tenants]


def open_connections(postgres_url, databases: list[str]) -> int:
    """Connections open now to these databases, as the server sees them (the test's own query
    goes to another database)."""
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = ANY(:names)"),
                               {"names": databases})
    finally:
        engine.dispose()


def settled_count(postgres_url, databases: list[str], bound: int, deadline: float = 2.0) -> int:
    """What the server counts, once any backend above `bound` has had time to exit: a backend
    whose client has closed its connection is listed until its process has ended, so a count
    above the bound is read again, for at most `deadline` seconds. A process that holds more
    than `bound` connections keeps them listed, and the count stays above."""
    count = open_connections(postgres_url, databases)
    give_up = time.monotonic() + deadline
    while count > bound and time.monotonic() < give_up:
        count = open_connections(postgres_url, databases)
    return count


def test_more_stores_than_connections_are_served_within_the_bound(bounded_app, stores, postgres_url):
    databases = [name for _, name in stores]
    engine = bounded_app.extensions["storefleet.tenant_engines"].engine(bounded_app.config["TENANT_DATABASE_URL"])
    statuses: list[int] = []
    already = engine.pool.checkedin() + engine.pool.checkedout()   # kept since the stores were seeded
    held = {"now": already, "most": already}
    lock = threading.Lock()

    def opened(*_args) -> None:
        with lock:
            held["now"] += 1
            held["most"] = max(held["most"], held["now"])

    def closed(*_args) -> None:
        with lock:
            held["now"] -= 1

    event.listen(engine, "connect", opened)
    event.listen(engine, "close", closed)
    seen: list[int] = []
    done = threading.Event()

    def shopper(offset: int) -> None:
        client = bounded_app.test_client()
        for i in range(3 * STORES):
            slug = stores[(i + offset) % STORES][0]
            statuses.append(client.get(CATALOG, headers={"X-Tenant-Slug": slug}).status_code)

    def watch() -> None:
        while not done.is_set():
            seen.append(settled_count(postgres_url, databases, BOUND))

    watcher = threading.Thread(target=watch)
    watcher.start()
    shoppers = [threading.Thread(target=shopper, args=(n,)) for n in range(4)]
    try:
        for thread in shoppers:
            thread.start()
        for thread in shoppers:
            thread.join(timeout=120)
    finally:
        done.set()
        watcher.join(timeout=30)
        event.remove(engine, "connect", opened)
        event.remove(engine, "close", closed)
    assert statuses == [200] * (4 * 3 * STORES)
    assert held["most"] == BOUND                        # every connection was needed, none more
    assert seen and max(seen) <= BOUND, seen            # and the server never kept more
    assert 0 < settled_count(postgres_url, databases, BOUND) <= BOUND   # the idle ones are kept


def test_with_every_connection_taken_a_request_answers_503_with_retry_after(bounded_app, stores):
    registry = bounded_app.extensions["storefleet.tenant_engines"]
    with bounded_app.app_context():
        from core.tenancy.admin import get_tenant

        urls = [get_tenant(slug).db_url for slug, _ in stores[:BOUND]]
    held = [registry.connect(url) for url in urls]
    try:
        refused = bounded_app.test_client().get(CATALOG, headers={"X-Tenant-Slug": stores[-1][0]})
    finally:
        for connection in held:
            connection.close()
    assert refused.status_code == 503
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"] == "1"
    answered = bounded_app.test_client().get(CATALOG, headers={"X-Tenant-Slug": stores[-1][0]})
    assert answered.status_code == 200   # a connection given back is taken again


def test_a_store_reuses_its_idle_connection_and_the_least_recently_used_one_makes_room(bounded_app, stores):
    registry = bounded_app.extensions["storefleet.tenant_engines"]
    with bounded_app.app_context():
        from core.tenancy.admin import get_tenant

        urls = [get_tenant(slug).db_url for slug, _ in stores]

    def backend_pid(url: str) -> int:
        with registry.connect(url) as connection:
            return connection.scalar(text("SELECT pg_backend_pid()"))

    first = [backend_pid(url) for url in urls[:BOUND]]
    assert [backend_pid(url) for url in urls[:BOUND]] == first      # each store's own, kept
    newcomer = backend_pid(urls[BOUND])                              # the bound is reached: a store's
    assert newcomer not in first                                     # connection goes, the newcomer's opens
    assert [backend_pid(url) for url in urls[1:BOUND]] == first[1:]  # the least recently used one went
    pool = registry.engine(urls[0]).pool
    assert (pool.checkedin(), pool.checkedout()) == (BOUND, 0)
