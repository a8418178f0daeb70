"""What a web process keeps of the control database (core.caching): stores and API clients' live
state, kept exact across processes by the change feed (checked every STORE_CACHE_SECONDS),
verified tokens until they expire.

Two apps on one data directory stand for two processes of one deployment: `serving` answers the
shopper and the API client, `admin` is where the super admin (or the store admin) makes a change.
The serving app's feed runs on a clock the test moves, so "within STORE_CACHE_SECONDS" is shown
exactly: the change is not seen before that time has passed, and is seen once it has.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, text

from core.caching import ChangeFeed
from core.queues import redis_client
from tests.conftest import SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD
from tests.support.clock import Clock

TTL = 5.0
MAX_AGE = 300.0
CATALOG = "/api/catalog/products"
CUSTOMERS = "/api/provisioning/customers"


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def processes(make_app, tmp_path, clock, redis_conn):
    """(serving, admin): two apps on the same control database; serving's feed and caches on
    `clock` (and the feed's stream emptied: redis_conn)."""
    data_dir = tmp_path / "shared"
    serving = make_app(data_dir, STORE_CACHE_SECONDS=TTL)
    admin = make_app(data_dir, STORE_CACHE_SECONDS=TTL)
    feed = serving.extensions[ChangeFeed.EXTENSION] = ChangeFeed(serving, lambda: redis_client(serving), TTL, MAX_AGE,
                                                                 timer=clock)
    for name in ("storefleet.stores", "storefleet.live_api_clients"):
        serving.extensions[name] = feed.keep(name)
    return serving, admin


def superadmin(client) -> dict:
    token = client.post("/auth/token", json={"grant_type": "password", "username": SUPERADMIN_EMAIL,
                                             "password": SUPERADMIN_PASSWORD}).get_json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def new_store(app) -> str:
    from core.tenancy.provisioning import create_tenant_directly

    with app.app_context():
        return create_tenant_directly("cached-store", "Cached", "PREMIUM").slug


def partner_token(admin_client, slug: str) -> tuple[str, str]:
    """(client id, bearer token) of a new partner of the store, issued by `admin_client`."""
    creds = admin_client.post(f"/superadmin/tenants/{slug}/api-clients", headers=superadmin(admin_client),
                              json={"name": "partner", "role": "partner"}).get_json()
    token = admin_client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                                    "client_secret": creds["clientSecret"]}).get_json()
    return creds["clientId"], token["access_token"]


def test_a_store_suspended_by_another_process_is_refused_within_the_ttl(processes, clock):
    serving, admin = processes
    slug = new_store(admin)
    shop, headers = serving.test_client(), {"X-Tenant-Slug": slug}
    assert shop.get(CATALOG, headers=headers).status_code == 200

    changed = admin.test_client().patch(f"/superadmin/tenants/{slug}", headers=superadmin(admin.test_client()),
                                        json={"status": "Suspended"})
    assert changed.get_json()["status"] == "Suspended"
    clock.now += TTL - 0.5
    assert shop.get(CATALOG, headers=headers).status_code == 200   # kept, as the TTL allows
    clock.now += 0.5
    refused = shop.get(CATALOG, headers=headers)
    assert (refused.status_code, refused.get_json()["title"]) == (423, "Tenant Locked")


def test_a_store_suspended_by_the_same_process_is_refused_at_once(processes):
    serving, _ = processes
    slug = new_store(serving)
    client, headers = serving.test_client(), {"X-Tenant-Slug": slug}
    assert client.get(CATALOG, headers=headers).status_code == 200
    client.patch(f"/superadmin/tenants/{slug}", headers=superadmin(client), json={"status": "Suspended"})
    assert client.get(CATALOG, headers=headers).status_code == 423
    client.patch(f"/superadmin/tenants/{slug}", headers=superadmin(client), json={"status": "Ready"})
    assert client.get(CATALOG, headers=headers).status_code == 200


def test_a_plan_override_made_by_the_same_process_applies_at_once(processes):
    serving, _ = processes
    slug = new_store(serving)
    client, headers = serving.test_client(), {"X-Tenant-Slug": slug}
    assert client.get(CATALOG, headers=headers).status_code == 200
    client.patch(f"/superadmin/tenants/{slug}", headers=superadmin(client), json={"features": {"catalog": False}})
    assert client.get(CATALOG, headers=headers).status_code == 403


def test_a_client_revoked_by_another_process_is_refused_within_the_ttl(processes, clock):
    serving, admin = processes
    slug = new_store(admin)
    admin_client = admin.test_client()
    _, token = partner_token(admin_client, slug)
    api, headers = serving.test_client(), {"X-Tenant-Slug": slug, "Authorization": f"Bearer {token}"}
    assert api.get(CUSTOMERS, headers=headers).status_code == 200

    with admin.app_context():
        from core.auth.models import ApiClient
        from core.auth.services import revoke_api_client
        from core.extensions import db
        from core.tenancy.admin import get_tenant

        tenant = get_tenant(slug)
        client_pk = db.session.scalar(db.select(ApiClient.id).filter_by(tenant_id=tenant.id))
        revoke_api_client(tenant, client_pk)
        db.session.commit()
    clock.now += TTL - 0.5
    assert api.get(CUSTOMERS, headers=headers).status_code == 200   # kept, as the TTL allows
    clock.now += 0.5
    refused = api.get(CUSTOMERS, headers=headers)
    assert refused.status_code == 401
    assert "revoked" in refused.get_json()["detail"]


def test_a_customer_deleted_by_the_same_process_loses_its_tokens_at_once(processes):
    """Deleting a customer revokes its clients with one UPDATE statement: every kept client
    state is forgotten on commit."""
    serving, _ = processes
    slug = new_store(serving)
    client = serving.test_client()
    _, partner = partner_token(client, slug)
    partner_headers = {"X-Tenant-Slug": slug, "Authorization": f"Bearer {partner}"}
    customer = client.post(CUSTOMERS, headers=partner_headers, json={
        "name": "Buyer", "contactEmail": "buyer@example.com"}).get_json()
    creds = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=superadmin(client),
                        json={"name": "buyer", "role": "customer", "customerId": customer["id"]}).get_json()
    token = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                              "client_secret": creds["clientSecret"]}).get_json()["access_token"]
    buyer = {"X-Tenant-Slug": slug, "Authorization": f"Bearer {token}"}
    assert client.get("/product-provisioner/provisioned-products", headers=buyer).status_code == 200
    assert client.delete(f"{CUSTOMERS}/{customer['id']}", headers=partner_headers).status_code == 204
    assert client.get("/product-provisioner/provisioned-products", headers=buyer).status_code == 401


def test_a_request_reads_the_control_database_only_on_a_miss(processes, clock):
    """A catalog call with an API client's token, made again within the TTL, sends not one
    statement to the control database: store, token and client state are all kept."""
    serving, admin = processes
    slug = new_store(admin)
    _, token = partner_token(admin.test_client(), slug)
    api, headers = serving.test_client(), {"X-Tenant-Slug": slug, "Authorization": f"Bearer {token}"}
    with serving.app_context():
        from core.extensions import db

        engine = db.engine
    statements = []
    # (SQLite's transactions also send BEGIN: the queries are what is counted.)
    listener = lambda conn, cursor, statement, *args: statement.startswith("SELECT") and statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert api.get(CATALOG, headers=headers).status_code == 200
        first = len(statements)
        assert api.get(CATALOG, headers=headers).status_code == 200
        assert len(statements) == first   # nothing more: a hit
        clock.now += TTL
        assert api.get(CATALOG, headers=headers).status_code == 200
        assert len(statements) == first   # the feed was read: nothing changed, nothing read again
        admin.test_client().patch(f"/superadmin/tenants/{slug}", headers=superadmin(admin.test_client()),
                                  json={"limits": {"apiRequestsPerMinute": 900}})
        clock.now += TTL
        assert api.get(CATALOG, headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert first == 2, statements                      # the store, and the client's state
    assert len(statements) == 3, statements            # the store changed elsewhere: read again


def _suspend_behind_the_apps_back(app, slug: str) -> None:
    """UPDATE the tenant row on a connection of its own, as psql would: no commit announces it."""
    with app.app_context():
        from core.extensions import db

        with db.engine.begin() as connection:
            connection.execute(text("UPDATE tenants SET status = 'Suspended' WHERE slug = :slug"), {"slug": slug})


def test_a_change_no_commit_announced_is_seen_within_the_maximum_age(processes, clock):
    serving, admin = processes
    slug = new_store(admin)
    shop, headers = serving.test_client(), {"X-Tenant-Slug": slug}
    assert shop.get(CATALOG, headers=headers).status_code == 200
    _suspend_behind_the_apps_back(admin, slug)
    clock.now += TTL
    assert shop.get(CATALOG, headers=headers).status_code == 200   # not announced: kept
    clock.now += MAX_AGE - TTL
    assert shop.get(CATALOG, headers=headers).status_code == 423


def test_a_redis_that_lost_the_feed_makes_every_process_forget_what_it_kept(processes, clock, redis_conn):
    """Announcements may have been lost with Redis's data: a process that finds the feed begun
    anew keeps nothing it read before, announced or not."""
    serving, admin = processes
    slug = new_store(admin)
    shop, headers = serving.test_client(), {"X-Tenant-Slug": slug}
    assert shop.get(CATALOG, headers=headers).status_code == 200
    _suspend_behind_the_apps_back(admin, slug)
    redis_conn.flushdb()
    clock.now += TTL
    assert shop.get(CATALOG, headers=headers).status_code == 423


def test_a_feed_trimmed_past_what_a_process_read_makes_it_forget_what_it_kept(processes, clock, redis_conn):
    serving, admin = processes
    slug = new_store(admin)
    shop, headers = serving.test_client(), {"X-Tenant-Slug": slug}
    assert shop.get(CATALOG, headers=headers).status_code == 200
    redis_conn.xadd(ChangeFeed.STREAM, {"extension": "storefleet.stores", "key": "another-store"})
    clock.now += TTL
    assert shop.get(CATALOG, headers=headers).status_code == 200    # reads up to that announcement
    _suspend_behind_the_apps_back(admin, slug)
    redis_conn.xadd(ChangeFeed.STREAM, {"extension": "storefleet.stores", "key": "a-third-store"})
    redis_conn.xtrim(ChangeFeed.STREAM, maxlen=0)   # gone before the serving process read them
    redis_conn.xadd(ChangeFeed.STREAM, {"extension": "storefleet.stores", "key": "a-fourth-store"})
    clock.now += TTL
    assert shop.get(CATALOG, headers=headers).status_code == 423


def test_without_redis_nothing_is_kept_longer_than_the_check(make_app, tmp_path, clock):
    """A feed that cannot be read makes its process forget what it kept at each check: a change
    announced to nobody is still seen within STORE_CACHE_SECONDS."""
    data_dir = tmp_path / "no-redis"
    serving = make_app(data_dir, STORE_CACHE_SECONDS=TTL, REDIS_URL="redis://127.0.0.1:9/0")
    admin = make_app(data_dir, STORE_CACHE_SECONDS=TTL)
    feed = serving.extensions[ChangeFeed.EXTENSION] = ChangeFeed(serving, lambda: redis_client(serving), TTL, MAX_AGE,
                                                                 timer=clock)
    serving.extensions["storefleet.stores"] = feed.keep("storefleet.stores")
    slug = new_store(admin)
    with serving.app_context():
        from core.tenancy.directory import find_store

        assert find_store(slug).status == "Ready"
        _suspend_behind_the_apps_back(admin, slug)
        assert find_store(slug).status == "Ready"   # kept until the next check
        clock.now += TTL
        assert find_store(slug).status == "Suspended"
