"""Authenticated carts (issue 13): with a customer's token of the store, the cart is the
customer's own and X-Session-Id optional; a guest cart named in the same call is merged into
it; place-order records the customer. The guest flow is unchanged."""
from __future__ import annotations

import uuid

import pytest

CART, PLACE = "/api/cart", "/api/checkout/place-order"
CONTACT = {"email": "buyer@acme.example.com", "phone": "+1234567890", "shippingAddress": "1 Main St",
           "paymentMethod": "CreditCard"}


@pytest.fixture
def shop_api(client, store):
    """The store's product ids by SKU, a customer's token headers and guest headers."""
    products = {item["name"]: item["id"]
                for item in client.get("/api/catalog/products?pageSize=100",
                                       headers={"X-Tenant-Slug": store.slug}).get_json()["items"]}
    customer = client.post("/api/provisioning/customers", headers=store.partner,
                           json={"name": "Acme", "contactEmail": "buyer@acme.example.com"}).get_json()
    return products, customer["id"], store.headers_for("customer", customer["id"])


def add(client, headers, product_id, quantity=1):
    return client.post(f"{CART}/items", headers=headers, json={"productId": product_id, "quantity": quantity})


def guest(store, session_id: str) -> dict:
    return {"X-Tenant-Slug": store.slug, "X-Session-Id": session_id}


def lines(response) -> dict:
    return {item["productId"]: item["quantity"] for item in response.get_json()["items"]}


def test_a_customer_token_needs_no_session_and_its_cart_follows_the_customer(client, store, shop_api):
    products, _, customer = shop_api
    product = next(iter(products.values()))
    assert add(client, customer, product, 2).status_code == 200
    # Another client of the same customer (a new token, no session) finds the same cart.
    again = client.get(CART, headers=store.headers_for("customer", shop_api[1]))
    assert again.status_code == 200 and lines(again) == {product: 2}
    # A guest cannot reach it: a guest's session id is a UUID, never a customer's cart key.
    assert client.get(CART, headers=guest(store, str(uuid.uuid4()))).status_code == 404


def test_a_guest_cart_named_with_the_token_is_merged_and_gone(client, store, shop_api):
    products, _, customer = shop_api
    first, second = list(products.values())[:2]
    session_id = str(uuid.uuid4())
    assert add(client, guest(store, session_id), first, 1).status_code == 200
    assert add(client, guest(store, session_id), second, 2).status_code == 200
    assert add(client, customer, first, 3).status_code == 200
    merged = client.get(CART, headers={**customer, "X-Session-Id": session_id})
    assert merged.status_code == 200 and lines(merged) == {first: 4, second: 2}
    assert client.get(CART, headers=guest(store, session_id)).status_code == 404
    assert lines(client.get(CART, headers=customer)) == {first: 4, second: 2}


def test_a_merge_past_the_stock_is_409_and_moves_nothing(client, store, shop_api, tenant_db):
    from sqlalchemy import update

    from core.catalog.models import Product

    products, _, customer = shop_api
    product = next(iter(products.values()))
    with tenant_db(store.slug) as session:
        session.execute(update(Product).where(Product.id == product).values(stock=5))
    session_id = str(uuid.uuid4())
    assert add(client, guest(store, session_id), product, 3).status_code == 200
    assert add(client, customer, product, 3).status_code == 200
    refused = client.get(CART, headers={**customer, "X-Session-Id": session_id})
    assert refused.status_code == 409
    assert lines(client.get(CART, headers=guest(store, session_id))) == {product: 3}
    assert lines(client.get(CART, headers=customer)) == {product: 3}


def test_place_order_with_a_customer_token_records_the_customer(client, store, shop_api, tenant_db):
    from sqlalchemy import select

    from core.orders.models import Order

    products, customer_id, customer = shop_api
    product = next(iter(products.values()))
    assert add(client, customer, product, 1).status_code == 200
    key = str(uuid.uuid4())
    placed = client.post(PLACE, headers={**customer, "Idempotency-Key": key}, json={**CONTACT, "idempotencyKey": key})
    assert placed.status_code == 200, placed.get_json()
    replay = client.post(PLACE, headers={**customer, "Idempotency-Key": key}, json={**CONTACT, "idempotencyKey": key})
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    with tenant_db(store.slug) as session:
        [order] = session.scalars(select(Order)).all()
        assert order.customer_id == customer_id and order.id == placed.get_json()["orderId"]
    assert client.get(CART, headers=customer).status_code == 404   # emptied by the order


def test_without_a_customer_token_a_call_naming_no_cart_is_401(client, store, shop_api):
    products, _, _ = shop_api
    product = next(iter(products.values()))
    for headers in ({"X-Tenant-Slug": store.slug}, store.partner):
        response = add(client, headers, product)
        assert response.status_code == 401 and "X-Session-Id" in response.get_json()["detail"]


def test_a_customer_token_of_another_store_is_401(client, store, shop_api, create_tenant, superadmin_headers):
    products, _, customer = shop_api
    other = create_tenant()
    response = add(client, {**customer, "X-Tenant-Slug": other}, next(iter(products.values())))
    assert response.status_code == 401
