"""Inventory replenishment in the super-admin portal: find a store's product by name or SKU (htmx
fragment from the same URL, or a plain GET form), add units, see the new quantity and status."""
from __future__ import annotations

import re

import pytest

from tests.support.platform_admin import field_error, flashes, form_errors, portal  # noqa: F401


def product_ids(page: str) -> list[str]:
    return re.findall(r'<tr id="product-([0-9a-f-]+)"', page)


def stock_of(client, slug: str, sku: str) -> dict:
    response = client.get(f"/inventory/{sku}", headers={"X-Tenant-Slug": slug})
    assert response.status_code == 200
    return response.get_json()


def test_search_by_name_or_sku_in_any_case(portal, create_tenant, create_product):
    slug = create_tenant()
    laptop = create_product(slug, "Travel Laptop Sleeve", sku="SLEEVE-01")
    create_product(slug, "Desk Lamp", sku="LAMP-02")
    by_name = portal.get("/admin/replenish", query_string={"store": slug, "q": "laptop sleeve"})
    assert by_name.status_code == 200
    assert product_ids(by_name.get_data(as_text=True)) == [laptop]
    by_sku = portal.get("/admin/replenish", query_string={"store": slug, "q": "sleeve-0"}).get_data(as_text=True)
    assert product_ids(by_sku) == [laptop]
    everything = portal.get("/admin/replenish", query_string={"store": slug}).get_data(as_text=True)
    assert len(product_ids(everything)) == 7  # the five seeded products and these two
    assert "<html" in everything and 'role="search"' in everything  # the plain GET form's page


def test_htmx_search_gets_the_results_fragment_from_the_same_url(portal, create_tenant):
    slug = create_tenant()
    response = portal.get("/admin/replenish", query_string={"store": slug, "q": "PROD00"},
                          headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="product-results"') and "<html" not in fragment
    assert len(product_ids(fragment)) == 5
    page = portal.get("/admin/replenish", query_string={"store": slug}).get_data(as_text=True)
    assert 'hx-get="/admin/replenish" hx-target="#product-results" hx-swap="outerHTML"' in page
    assert 'hx-trigger="input changed delay:250ms from:#q' in page


def test_search_wildcards_are_taken_literally(portal, create_tenant):
    slug = create_tenant()
    page = portal.get("/admin/replenish", query_string={"store": slug, "q": "%"}).get_data(as_text=True)
    assert product_ids(page) == [] and "No product of this store matches" in page


def test_replenish_shows_the_new_quantity_and_status_at_once(portal, create_tenant, create_product):
    slug = create_tenant()
    product_id = create_product(slug, "Spare Battery", sku="BATT-01", quantity=0)
    response = portal.post("/admin/replenish", {"store": slug, "product": product_id, "q": "BATT", "quantity": "4"})
    assert response.status_code == 303
    page = portal.get(response.headers["Location"]).get_data(as_text=True)
    assert "Added 4 to Spare Battery (BATT-01): now 4 (low stock)." in flashes(page)
    row = page[page.index(f'<tr id="product-{product_id}" class="just-changed">'):]
    row = row[:row.index("</tr>")]
    assert '<td class="quantity" data-label="Quantity">4</td>' in row and '<span class="badge low_stock">low stock</span>' in row
    assert stock_of(portal.client, slug, "BATT-01")["quantity"] == 4

    again = portal.post("/admin/replenish", {"store": slug, "product": product_id, "quantity": "20"})
    assert "now 24 (in stock)." in flashes(portal.get(again.headers["Location"]).get_data(as_text=True))[0]
    level = stock_of(portal.client, slug, "BATT-01")
    assert (level["quantity"], level["status"]) == (24, "in_stock")


@pytest.mark.parametrize("quantity,message", [("0", "Add at least 1 unit."), ("-5", "Add at least 1 unit."),
                                              ("many", "Not a valid integer value."),
                                              ("", "Enter how many units to add."),
                                              ("2147483648", "Add at most 2147483647 units at a time.")])
def test_a_bad_quantity_is_shown_beside_it_and_nothing_changes(portal, create_tenant, create_product, quantity,
                                                              message):
    slug = create_tenant()
    product_id = create_product(slug, "Cable", sku="CABLE-01", quantity=5)
    response = portal.post("/admin/replenish", {"store": slug, "product": product_id, "q": "CABLE",
                                                "quantity": quantity})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in field_error(page, f"quantity-{product_id}")
    assert 'aria-invalid="true"' in page
    assert stock_of(portal.client, slug, "CABLE-01")["quantity"] == 5


def test_an_unknown_product_is_refused(portal, create_tenant):
    slug = create_tenant()
    before = stock_of(portal.client, slug, "PROD001")["quantity"]
    assert before == 50
    response = portal.post("/admin/replenish", {"store": slug, "product": "no-such-product", "quantity": "3"})
    assert response.status_code == 404
    assert "Product 'no-such-product' not found." in form_errors(response.get_data(as_text=True))
    assert stock_of(portal.client, slug, "PROD001")["quantity"] == before


def test_a_product_of_another_store_is_not_found(portal, create_tenant, create_product):
    first, second = create_tenant(), create_tenant()
    product_id = create_product(first, "Only Here", sku="HERE-01", quantity=1)
    response = portal.post("/admin/replenish", {"store": second, "product": product_id, "quantity": "3"})
    assert response.status_code == 404
    assert stock_of(portal.client, first, "HERE-01")["quantity"] == 1


def test_a_suspended_store_cannot_be_replenished(portal, create_tenant):
    slug = create_tenant()
    before = stock_of(portal.client, slug, "PROD001")["quantity"]
    assert before == 50
    portal.post(f"/admin/tenants/{slug}/status", {"status": "Suspended"})
    response = portal.post("/admin/replenish", {"store": slug, "product": "PROD001", "quantity": "3"})
    assert response.status_code == 423
    assert "is suspended" in response.get_data(as_text=True)
    portal.post(f"/admin/tenants/{slug}/status", {"status": "Ready"})
    assert stock_of(portal.client, slug, "PROD001")["quantity"] == before
