"""Catalog pages kept per process by each store's catalog version in Redis (core.catalog.pages):
a kept page costs no statement, and every change committed to what a page shows, by any process,
on any path, is in the next page any process serves.

Two apps on one data directory (and, on PostgreSQL, one server) stand for two processes of one
deployment: `serving` answers shoppers, `writer` commits the changes.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.pool import NullPool

from core.catalog.models import Product
from core.catalog.pages import CATALOG_TABLES
from core.tenancy.changes import ChangeWatch, store_key
from core.tenancy.engines import engines_of
from tests.support.backends import on_both_backends
from tests.support.shop import Shop

PRODUCTS = "/api/catalog/products"


@pytest.fixture
def writer_of(make_app, superadmin_headers):
    """Factory: the Shop `store` as a second process sees it (its own app, engines and caches)."""

    def factory(store: Shop) -> Shop:
        config = store.app.config
        other = make_app(Path(config["DATA_DIR"]), SQLALCHEMY_DATABASE_URI=config["SQLALCHEMY_DATABASE_URI"],
                         TENANT_DATABASE_URL=config["TENANT_DATABASE_URL"])
        return Shop(other, other.test_client(), store.slug, superadmin_headers)

    return factory


def listed(store: Shop) -> dict[str, dict]:
    """Every product of the store's first catalog page, by name, as `store`'s process serves it."""
    response = store.client.get(PRODUCTS, headers={"X-Tenant-Slug": store.slug}, query_string={"pageSize": 100})
    assert response.status_code == 200, response.get_json()
    return {item["name"]: item for item in response.get_json()["items"]}


@on_both_backends
def test_a_kept_page_is_served_without_a_statement(shop, count_queries):
    store = shop()
    first = listed(store)
    with count_queries(store.slug, on=store.app) as statements:
        assert listed(store) == first
    assert statements == []


@on_both_backends
def test_every_change_committed_by_another_process_is_in_the_next_page(shop, writer_of):
    serving = shop()
    writer = writer_of(serving)
    assert listed(serving)["Wireless Headphones"]["stock"] == 50
    assert listed(serving)["Wireless Headphones"]["stock"] == 50   # kept

    # A shopper's order in the other process: the ORM's flush and the stock's conditional UPDATE.
    placed = writer.place_order(writer.cart_with(("PROD001", 3)))
    assert placed.status_code == 200, placed.get_json()
    assert listed(serving)["Wireless Headphones"]["stock"] == 47

    # An inventory reserve: one UPDATE … RETURNING.
    reserved = writer.client.put("/inventory/PROD001/reserve", json={"quantity": 2},
                                 headers={"X-Tenant-Slug": writer.slug, **writer.token_headers("store_admin")})
    assert reserved.status_code == 200, reserved.get_json()
    assert listed(serving)["Wireless Headphones"]["stock"] == 45

    # A rename and a deactivation, as a store admin's edit writes them.
    writer.set_product("PROD001", name="Studio Headphones")
    assert "Studio Headphones" in listed(serving)
    writer.set_product("PROD002", is_active=False)
    assert "Smart Watch" not in listed(serving)


def test_a_rolled_back_change_announces_nothing(shop, writer_of):
    serving = shop()
    writer = writer_of(serving)
    announced = []
    engines_of(writer.app).watch(ChangeWatch(CATALOG_TABLES, announced.append))
    with pytest.raises(RuntimeError):
        with writer.db() as session:
            session.execute(update(Product).where(Product.sku == "PROD001").values(stock=0))
            raise RuntimeError("the work fails before its commit")
    assert writer.stock("PROD001") == 50
    cart = writer.cart_with(("PROD001", 30))
    writer.set_stock("PROD001", 20)
    assert announced == [store_key(writer.db_url)]
    refused = writer.place_order(cart)   # more than there is now: 409, its work rolled back
    assert refused.status_code == 409
    assert announced == [store_key(writer.db_url)]


def test_a_redis_that_lost_its_data_never_brings_back_a_kept_page(shop, redis_conn):
    """A change made behind the app's back (psql, an engine of its own) is not announced: the kept
    page stays until it expires. Versions are random tokens, so after Redis loses every key the
    next version is new and no page kept before is served again."""
    store = shop()
    assert listed(store)["Wireless Headphones"]["stock"] == 50
    outside = create_engine(store.db_url, poolclass=NullPool)
    with outside.begin() as connection:
        connection.execute(update(Product).where(Product.sku == "PROD001").values(stock=7))
    outside.dispose()
    assert listed(store)["Wireless Headphones"]["stock"] == 50   # not announced: kept
    redis_conn.flushdb()
    assert listed(store)["Wireless Headphones"]["stock"] == 7


def test_the_watch_reads_the_target_of_each_write():
    watch = ChangeWatch(("products", "categories", "product_categories"), lambda _key: None)
    assert watch.writes('UPDATE products SET stock=(products.stock - %(q)s) WHERE products.sku = %(s)s')
    assert watch.writes('INSERT INTO product_categories (product_id, category_id) VALUES (?, ?)')
    assert watch.writes('DELETE FROM "categories" WHERE categories.id = ?')
    assert watch.writes('WITH taken AS (UPDATE products SET stock = 0 RETURNING id) SELECT count(*) FROM taken')
    assert not watch.writes('SELECT products.id FROM products WHERE products.id = ? FOR UPDATE OF products')
    assert not watch.writes('UPDATE carts SET updated_at=? WHERE carts.id = ?')
    assert not watch.writes('INSERT INTO order_lines (order_id, product_id, product_name) VALUES (?, ?, ?)')
    assert not watch.writes('UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1')


def test_without_redis_pages_are_read_from_the_database_and_said_once(make_app, caplog):
    """Redis down: every catalog request still answers, from the database, and the process says
    so once (a line per request would drown every other line of the log)."""
    app = make_app(REDIS_URL="redis://127.0.0.1:9/0")   # nothing listens there
    from core.tenancy.provisioning import create_tenant_directly

    with app.app_context():
        slug = create_tenant_directly("no-redis", "No Redis", "PREMIUM").slug
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        answers = [client.get(PRODUCTS, headers={"X-Tenant-Slug": slug}) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert {a.get_json()["totalCount"] for a in answers} == {5}
    said = [r.getMessage() for r in caplog.records if "no catalog version in Redis" in r.getMessage()]
    assert len(said) == 1, said
