"""Orders in the store admin: the list of both channels with filters and pages, the detail, and
cancelling a pending order, which gives its stock back."""
from __future__ import annotations

import re
import uuid

import pytest

from tests.support.shop import place_order_body
from tests.support.store_admin import store_admin  # noqa: F401  (fixture)

ORDER_NUMBER = re.compile(r'<a href="/admin/orders/([0-9a-f-]{36})">(ORD-\d{8}-\d{6})</a>')


def listed(html: str) -> list[str]:
    return [order_id for order_id, _ in ORDER_NUMBER.findall(html)]


def test_orders_of_the_storefront_and_the_api_are_listed_newest_first(store_admin, client):
    api_order = store_admin.place_order(("PROD002", 1), channel="api", email="partner@example.com")
    # A real storefront order, placed over the JSON API like a shopper's browser would.
    session_id, key = str(uuid.uuid4()), str(uuid.uuid4())
    headers = {"X-Tenant-Slug": store_admin.slug, "X-Session-Id": session_id}
    product_id = store_admin.product("PROD001").id
    assert client.post("/api/cart/items", headers=headers, json={"productId": product_id, "quantity": 2}).status_code == 200
    placed = client.post("/api/checkout/place-order", headers={**headers, "Idempotency-Key": key},
                         json=place_order_body(key))
    assert placed.status_code == 200, placed.get_json()
    shop_order = placed.get_json()["orderId"]

    html = store_admin.get("/admin/orders").get_data(as_text=True)
    assert listed(html) == [shop_order, api_order]
    assert ">storefront<" in html and ">api<" in html and "customer@example.com" in html
    assert "2 orders" in html


@pytest.mark.parametrize("query,expected", [
    ({"channel": "api"}, ["api"]),
    ({"channel": "storefront"}, ["shop-pending", "shop-cancelled"]),
    ({"status": "CANCELLED"}, ["shop-cancelled"]),
    ({"status": "PENDING", "channel": "storefront"}, ["shop-pending"]),
    ({"channel": "", "status": ""}, ["shop-pending", "shop-cancelled", "api"]),
])
def test_orders_filter_by_channel_and_status(query, expected, store_admin):
    ids = {"api": store_admin.place_order(("PROD002", 1), channel="api")}
    ids["shop-cancelled"] = store_admin.place_order(("PROD003", 1))
    store_admin.cancel(ids["shop-cancelled"])
    ids["shop-pending"] = store_admin.place_order(("PROD004", 1))
    html = store_admin.get("/admin/orders", query_string=query).get_data(as_text=True)
    names = {order_id: name for name, order_id in ids.items()}
    assert [names[order_id] for order_id in listed(html)] == expected


@pytest.mark.parametrize("query", [{"channel": "fax"}, {"status": "SHIPPED"}])
def test_an_unknown_filter_is_a_bad_request(query, store_admin):
    response = store_admin.get("/admin/orders", query_string=query)
    assert response.status_code == 400 and "text/html" in response.content_type


def test_orders_are_paginated_and_htmx_gets_the_table_only(store_admin):
    for _ in range(21):
        store_admin.place_order(("PROD002", 1), channel="api")
    first = store_admin.get("/admin/orders", query_string={"channel": "api"}).get_data(as_text=True)
    second = store_admin.get("/admin/orders", query_string={"channel": "api", "page": 2}).get_data(as_text=True)
    assert len(listed(first)) == 20 and len(listed(second)) == 1
    assert set(listed(first)).isdisjoint(listed(second))
    assert 'href="/admin/orders?page=2&amp;channel=api"' in first
    partial = store_admin.htmx_get("/admin/orders", query_string={"channel": "api", "page": 2}).get_data(as_text=True)
    assert "<html" not in partial and len(listed(partial)) == 1


def test_the_order_detail_shows_its_lines_totals_and_contact(store_admin):
    order_id = store_admin.place_order(("PROD001", 2), ("PROD004", 1), email="ann@example.com")
    html = store_admin.get(f"/admin/orders/{order_id}").get_data(as_text=True)
    order = store_admin.order(order_id)
    assert f"Order {order.number}" in html and "ann@example.com" in html and "+14155550100" in html
    assert "Wireless Headphones" in html and "PROD004" in html and "143.98" in html and "223.07" in html
    assert "Cancel this order" in html


def test_cancel_a_pending_order_gives_its_stock_back(store_admin):
    order_id = store_admin.place_order(("PROD001", 2), ("PROD004", 3))
    assert (store_admin.stock("PROD001"), store_admin.stock("PROD004")) == (48, 22)
    response = store_admin.post(f"/admin/orders/{order_id}/cancel")
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/orders/{order_id}"
    assert store_admin.order(order_id).status == "CANCELLED"
    assert (store_admin.stock("PROD001"), store_admin.stock("PROD004")) == (50, 25)
    html = store_admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "was cancelled; its stock was given back." in html and "Cancel this order" not in html


def test_cancel_an_order_that_is_not_pending_shows_why_and_gives_nothing_back(store_admin):
    order_id = store_admin.place_order(("PROD001", 2))
    store_admin.cancel(order_id)
    assert store_admin.stock("PROD001") == 50
    response = store_admin.post(f"/admin/orders/{order_id}/cancel")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'role="alert">Only a pending order can be cancelled (this one is CANCELLED).' in html
    assert store_admin.stock("PROD001") == 50
