"""Products in the store admin: the searchable, paginated table (inactive products too), adding
and editing with the domain's errors beside the fields, and replenishing inline."""
from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from core.catalog.models import Product
from tests.support.store_admin import store_admin  # noqa: F401  (fixture)

VALID = {"name": "Desk Lamp", "description": "A lamp.", "price": "40.00", "discount": "0.25",
         "low_stock_threshold": "5", "is_active": "y", "images": "https://img.example/lamp.jpg\n/static/lamp.svg",
         "dynamic_attributes": "color: Black\nwatts: 9", "customization_options": "shade (required): white, green\nengraving"}


def product_count(store_admin) -> int:
    with store_admin.db() as session:
        return session.scalar(select(func.count()).select_from(Product))


def rows(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/admin/products/[^"]+">([^<]+)</a>', html)


# --- the table -----------------------------------------------------------------------------------

def test_products_lists_every_product_with_its_stock_badge_inactive_ones_too(store_admin, create_product):
    create_product(store_admin.slug, "Retired Mouse", sku="OLD-1", quantity=0, is_active=False)
    create_product(store_admin.slug, "Few Left", sku="FEW-1", quantity=3, low_stock_threshold=5)
    html = store_admin.get("/admin/products").get_data(as_text=True)
    assert rows(html) == ["Bluetooth Speaker", "Few Left", "Laptop Stand", "Retired Mouse", "USB-C Charger",
                          "Webcam 1080p", "Wireless Headphones"]
    retired = html[html.index("Retired Mouse"):html.index("USB-C Charger")]
    assert "inactive" in retired and 'class="badge out_of_stock"' in retired
    few = html[html.index("Few Left"):html.index("Laptop Stand")]
    assert 'class="badge low_stock"' in few and '<span class="quantity" data-testid="quantity">3</span>' in few
    assert "7 products" in html
    speaker = html[html.index("Bluetooth Speaker"):html.index("Few Left")]
    assert "127.49 <span class=\"muted\">(−15 %)</span>" in speaker and "149.99" in speaker


@pytest.mark.parametrize("term,expected", [("speaker", ["Bluetooth Speaker"]), ("prod00", None),
                                           ("PROD004", ["Laptop Stand"]), ("nothing-like-it", [])])
def test_products_search_by_name_or_sku(term, expected, store_admin):
    html = store_admin.get("/admin/products", query_string={"q": term}).get_data(as_text=True)
    if expected is None:
        assert len(rows(html)) == 5
    else:
        assert rows(html) == expected
    if expected == []:
        assert "No product matches" in html


def test_products_are_paginated_and_an_htmx_request_gets_only_the_table(store_admin, create_product):
    for i in range(20):
        create_product(store_admin.slug, f"Item {i:02d}")
    first = store_admin.get("/admin/products").get_data(as_text=True)
    second = store_admin.get("/admin/products", query_string={"page": 2}).get_data(as_text=True)
    assert len(rows(first)) == 20 and len(rows(second)) == 5
    assert set(rows(first)).isdisjoint(rows(second))
    assert "page 1 of 2" in first and 'href="/admin/products?page=2"' in first
    partial = store_admin.htmx_get("/admin/products", query_string={"q": "item 1"})
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in body and body.strip().startswith('<div id="products-table">')
    assert len(rows(body)) == 10
    assert "HX-Request" in partial.headers["Vary"]


def test_a_search_too_long_is_refused(store_admin):
    assert store_admin.get("/admin/products", query_string={"q": "x" * 201}).status_code == 400


# --- add -----------------------------------------------------------------------------------------

def test_add_a_product(store_admin, create_category):
    lighting = create_category(store_admin.slug, "Lighting")
    response = store_admin.post("/admin/products/new", dict(VALID, sku="LAMP-1", quantity="12", categories=lighting))
    assert response.status_code == 303
    product = store_admin.product("LAMP-1")
    assert response.headers["Location"] == f"/admin/products/{product.id}"
    assert (product.name, product.price, product.discount, product.final_price) == ("Desk Lamp", D("40.00"),
                                                                                     D("0.2500"), D("30.00"))
    assert (product.stock, product.low_stock_threshold, product.is_active) == (12, 5, True)
    assert product.images == ["https://img.example/lamp.jpg", "/static/lamp.svg"]
    assert product.dynamic_attributes == {"color": "Black", "watts": "9"}
    assert product.customization_options == {"shade": {"required": True, "values": ["white", "green"]},
                                             "engraving": {"required": False}}
    assert [c.name for c in product.categories] == ["Lighting"]
    assert "Product Desk Lamp (LAMP-1) was added." in store_admin.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("changes,field,message", [
    ({"price": "-1"}, "price", "price must be from 0 to"),
    ({"price": "abc"}, "price", "Not a valid decimal value"),
    ({"discount": "1.5"}, "discount", "discount must be from 0 to 1."),
    ({"name": "   "}, "name", "Name is required"),
    ({"sku": "has space"}, "sku", "SKU must be 1–64 characters"),
    ({"quantity": "-3"}, "quantity", "quantity must be an integer from 0"),
    ({"low_stock_threshold": "-1"}, "low_stock_threshold", "lowStockThreshold must be a non-negative integer."),
    ({"images": "not a url"}, "images", "is not an http(s) URL"),
    ({"images": "javascript:alert(1)"}, "images", "is not an http(s) URL"),
    ({"dynamic_attributes": "no colon here"}, "dynamic_attributes", "is not &#39;name: value&#39;"),
    ({"customization_options": "size (required) (optional)"}, "customization_options", "is not"),
    ({"categories": "00000000-0000-0000-0000-000000000000"}, "categories", "Every category id must name"),
])
def test_add_a_product_with_an_invalid_field_shows_the_error_beside_it_and_adds_nothing(changes, field, message,
                                                                                      store_admin):
    before = product_count(store_admin)
    response = store_admin.post("/admin/products/new", {**VALID, "sku": "LAMP-2", "quantity": "1", **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    if field == "categories":
        assert 'aria-describedby="categories-error"' in html
    else:
        assert f'aria-describedby="{field}-error"' in html
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    assert error and message in error.group(1), html
    assert product_count(store_admin) == before
    assert "A lamp.</textarea>" in html  # what was typed stays in the form


def test_add_a_product_with_a_taken_sku_says_so_beside_the_sku(store_admin):
    response = store_admin.post("/admin/products/new", dict(VALID, sku="PROD001", quantity="1"))
    assert response.status_code == 409
    assert re.search(r'id="sku-error">A product with SKU &#39;PROD001&#39; already exists.', response.get_data(as_text=True))
    assert store_admin.product("PROD001").name == "Wireless Headphones"


def test_add_a_product_beyond_the_plans_limit_is_refused_above_the_form(store_admin, superadmin_headers, client):
    client.patch(f"/superadmin/tenants/{store_admin.slug}", headers=superadmin_headers,
                 json={"limits": {"maxProducts": 5}})
    response = store_admin.post("/admin/products/new", dict(VALID, sku="LAMP-3", quantity="1"))
    assert response.status_code == 403
    assert "maxProducts" in response.get_data(as_text=True)
    assert store_admin.product("LAMP-3") is None


# --- edit ----------------------------------------------------------------------------------------

def test_the_edit_form_shows_the_products_details(store_admin):
    product = store_admin.product("PROD001")
    html = store_admin.get(f"/admin/products/{product.id}").get_data(as_text=True)
    assert 'value="Wireless Headphones"' in html and 'value="79.99"' in html and 'value="0.1"' in html
    assert "color (required): Black, Silver, Blue\nengraving" in html
    assert "brand: AudioTech\ncolor: Black\nbluetooth: 5.3" in html
    assert "/static/img/products/headphones.svg" in html
    assert re.search(r'<input checked id="categories-\d" name="categories" type="checkbox" value="[^"]+"> '
                     r'<label for="categories-\d">Audio</label>', html)
    assert 'name="sku"' not in html  # the SKU names the product in orders and the API: it stays


def test_edit_a_product_recomputes_the_final_price_and_keeps_sku_and_stock(store_admin):
    product = store_admin.product("PROD003")
    response = store_admin.post(f"/admin/products/{product.id}", dict(VALID, name="Speaker Mini", price="100",
                                                                      discount="0.5", is_active=""))
    assert response.status_code == 303
    after = store_admin.product("PROD003")
    assert (after.name, after.price, after.discount, after.final_price) == ("Speaker Mini", D("100.00"),
                                                                             D("0.5000"), D("50.00"))
    assert (after.sku, after.stock, after.is_active, after.categories) == ("PROD003", 30, False, [])
    assert after.customization_options["shade"] == {"required": True, "values": ["white", "green"]}
    # The storefront no longer offers it; the admin still lists it.
    assert "Speaker Mini" in store_admin.get("/admin/products").get_data(as_text=True)


def test_edit_a_product_with_invalid_fields_shows_each_error_and_changes_nothing(store_admin):
    product = store_admin.product("PROD002")
    response = store_admin.post(f"/admin/products/{product.id}",
                                dict(VALID, price="-5", discount="2", images="ftp://files.example/x.png"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    for field in ("price", "discount", "images"):
        assert f'id="{field}-error"' in html
    assert "The product was not saved" in html
    after = store_admin.product("PROD002")
    assert (after.name, after.price, after.final_price, after.images) == (
        product.name, product.price, product.final_price, product.images)


# --- replenish -----------------------------------------------------------------------------------

def test_replenish_inline_answers_the_stock_cell_with_the_new_quantity_and_status(store_admin, create_product):
    product_id = create_product(store_admin.slug, "Gadget", sku="GADGET", quantity=0, low_stock_threshold=10)
    response = store_admin.post(f"/admin/products/{product_id}/replenish", {"quantity": "4"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.strip().startswith(f'<td class="stock-cell" id="stock-{product_id}"')
    assert '<span class="quantity" data-testid="quantity">4</span>' in html and "low stock" in html
    assert "Added 4 units: 0 → 4." in html
    assert store_admin.stock("GADGET") == 4
    html = store_admin.post(f"/admin/products/{product_id}/replenish", {"quantity": "6"}, htmx=True).get_data(as_text=True)
    assert '<span class="quantity" data-testid="quantity">10</span>' in html and "in stock" in html
    assert store_admin.stock("GADGET") == 10


@pytest.mark.parametrize("quantity,message", [("0", "Quantity must be a positive integer."),
                                              ("-3", "Quantity must be a positive integer."),
                                              ("abc", "Not a valid integer value."),
                                              ("2.5", "Not a valid integer value."),
                                              ("", "Not a valid integer value."),
                                              ("2147483648", "Quantity must be at most 2147483647.")])
def test_replenish_with_a_bad_quantity_shows_the_error_and_changes_nothing(quantity, message, store_admin):
    product = store_admin.product("PROD004")
    response = store_admin.post(f"/admin/products/{product.id}/replenish", {"quantity": quantity}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'aria-describedby="replenish-{product.id}-error"' in html
    assert message in html
    assert '<span class="quantity" data-testid="quantity">25</span>' in html
    assert store_admin.stock("PROD004") == 25


def test_replenish_past_the_largest_stock_is_refused(store_admin, create_product):
    product_id = create_product(store_admin.slug, "Full", sku="FULL", quantity=2_147_483_000)
    response = store_admin.post(f"/admin/products/{product_id}/replenish", {"quantity": "1000"}, htmx=True)
    assert response.status_code == 409 and "would take the stock past" in response.get_data(as_text=True)
    assert store_admin.stock("FULL") == 2_147_483_000


def test_replenish_without_htmx_redirects_back_with_a_message(store_admin):
    product = store_admin.product("PROD005")
    response = store_admin.post(f"/admin/products/{product.id}/replenish", {"quantity": "10"},
                                headers={"Referer": f"{store_admin.base}/admin/products?page=1"})
    assert response.status_code == 303 and response.headers["Location"] == f"{store_admin.base}/admin/products?page=1"
    assert store_admin.stock("PROD005") == 50
    assert "Added 10 units of Webcam 1080p: 50 in stock." in store_admin.get("/admin/products").get_data(as_text=True)
    elsewhere = store_admin.post(f"/admin/products/{product.id}/replenish", {"quantity": "1"},
                                 headers={"Referer": "http://evil.example/admin/"})
    assert elsewhere.headers["Location"] == "/admin/products"


# --- the core service behind the form ------------------------------------------------------------

@pytest.mark.parametrize("changes,field", [({"price": 1.5}, "price"), ({"discount": D("1.01")}, "discount"),
                                           ({"images": ["ftp://files.example/a.png"]}, "images"),
                                           ({"dynamic_attributes": {"size": 3}}, "dynamicAttributes"),
                                           ({"customization_options": {"size": {"required": "yes"}}},
                                            "customizationOptions"),
                                           ({"low_stock_threshold": True}, "lowStockThreshold")])
def test_update_product_keeps_create_products_rules(changes, field, store_admin):
    from core.catalog.products import update_product
    from core.inventory.services import find_product
    from core.errors import ValidationFailed

    product_id = store_admin.product("PROD002").id
    values = {"name": "Charger", "price": D("10"), "discount": D("0"), **changes}
    with store_admin.db() as session, pytest.raises(ValidationFailed) as failed:
        update_product(session, find_product(session, product_id), **values)
    assert set(failed.value.errors) == {field}
    assert store_admin.product("PROD002").name == "USB-C Charger"


def test_update_product_rounds_money_and_recomputes_the_final_price(store_admin):
    from core.catalog.products import update_product
    from core.inventory.services import find_product

    product_id = store_admin.product("PROD002").id
    with store_admin.db() as session:
        update_product(session, find_product(session, product_id), name=" Charger ", price=D("10.005"),
                       discount=D("0.333333"))
    after = store_admin.product("PROD002")
    assert (after.name, after.price, after.discount, after.final_price) == ("Charger", D("10.01"), D("0.3333"),
                                                                             D("6.67"))
