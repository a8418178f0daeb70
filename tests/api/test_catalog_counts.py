"""The catalog's totalCount, kept per process by the catalog's revision (tenant migration 0006):
exact after every change that can change it, and not counted again after one that cannot."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete

import pytest

from core.catalog.models import product_categories
from core.catalog.pages import CatalogPages, catalog_pages_of
from tests.support.backends import on_both_backends

PRODUCTS = "/api/catalog/products"


@pytest.fixture(autouse=True)
def pages_read_every_time(app):
    """Counts are what these tests check: no catalog page is kept (core.catalog.pages), so every
    request reads its page and its count comes from what the process keeps by revision."""
    pages = catalog_pages_of(app)
    app.extensions[pages.EXTENSION] = CatalogPages(pages.redis, entries=0, seconds=1)


def tenant(slug: str) -> dict:
    return {"X-Tenant-Slug": slug}


@on_both_backends
def test_a_kept_count_follows_every_change_that_can_change_it(client, shop, create_category, create_product,
                                                               count_queries):
    store = shop()
    slug = store.slug

    def total(**query) -> int:
        response = client.get(PRODUCTS, headers=tenant(slug), query_string={"pageSize": 1, **query})
        assert response.status_code == 200
        return response.get_json()["totalCount"]

    category = create_category(slug, "Gadgets")
    assert (total(), total(search="gizmo"), total(categoryId=category)) == (5, 0, 0)
    gizmo = create_product(slug, "Blue Gizmo", category_ids=[category])
    assert (total(), total(search="gizmo"), total(categoryId=category)) == (6, 1, 1)
    store.set_product("PROD001", name="Red Gizmo")                      # renamed into the search
    assert (total(), total(search="gizmo")) == (6, 2)
    store.set_product("PROD001", is_active=False)                       # deactivated
    assert (total(), total(search="gizmo")) == (5, 1)
    store.set_product("PROD002", price=Decimal("999.00"))               # repriced into a range
    assert total(minPrice="900") == 1
    with store.db() as session:                                         # unlinked from its category
        session.execute(delete(product_categories).where(product_categories.c.product_id == gizmo))
    assert total(categoryId=category) == 0

    # A stock change alone keeps the count (the page alone is read), and the page shows the new stock.
    assert total() == 5
    store.set_stock("PROD003", 77)
    with count_queries(slug, on=store.app) as statements:
        assert total() == 5
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    items = client.get(PRODUCTS, headers=tenant(slug), query_string={"pageSize": 100}).get_json()["items"]
    assert {item["id"]: item["stock"] for item in items}[store.product_id("PROD003")] == 77
