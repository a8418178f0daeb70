"""Section 5 of multi-tenant-platform-api.md: quote and place-order, over HTTP on SQLite."""
from __future__ import annotations

import json
import re
import uuid
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select, text

from api.checkout import PlaceOrderRequest
from core.columns import utcnow
from core.idempotency.models import IdempotencyRecord, IdempotencyState
from core.idempotency.services import STALE_AFTER, caller_scope
from core.locks import lock_id
from core.orders.checkout import CheckoutRequest
from core.orders.models import Order, PaymentMethod
from core.orders.placement import OrderContact
from tests.support.backends import on_both_backends, on_postgres
from tests.support.shop import place_order_body

QUOTE = "/api/checkout/quote"
PLACE = "/api/checkout/place-order"


@pytest.fixture
def store(shop):
    return shop()


def orders_of(store) -> list[Order]:
    with store.db() as session:
        return list(session.scalars(select(Order).order_by(Order.created_at)))


def snapshot(store) -> dict:
    """Everything a checkout request may change in the store: orders (with their lines), stock,
    carts and idempotency records. A refused request leaves it as it was."""
    return {"orders": [(o.status, [(i.sku, i.quantity) for i in o.items]) for o in orders_of(store)],
            "stock": store.stocks(), "carts": store.carts(), "records": store.count(IdempotencyRecord)}


# --- quote ---------------------------------------------------------------------------------------

def test_quote_returns_totals_and_the_items_snapshot(client, store):
    session_id = store.cart_with(("PROD001", 2))
    response = client.post(QUOTE, headers=store.headers(session_id), json={})
    assert response.status_code == 200
    body = response.get_json()
    [item] = body["items"]
    assert body == {"subtotal": D("143.98"), "tax": D("21.60"), "shipping": D("0.00"), "total": D("165.58"),
                    "items": [{"id": item["id"], "productId": store.product_id("PROD001"),
                               "productName": "Wireless Headphones", "price": D("71.99"), "quantity": 2,
                               "subtotal": D("143.98"), "previousPrice": None}]}
    assert b'"shipping":0.00' in response.data and b'"tax":21.60' in response.data


def test_place_order_refuses_a_price_the_shopper_was_not_shown_until_a_quote_shows_it(client, store):
    session_id = store.cart_with(("PROD004", 2))
    store.set_product("PROD004", price=D("59.99"))
    before = snapshot(store)
    refused = store.place_order(session_id)
    assert refused.status_code == 409 and refused.get_json()["title"] == "Price Changed"
    assert "now costs 59.99 (was 49.99)" in refused.get_json()["detail"]
    assert snapshot(store) == before   # nothing ordered, nothing taken, the cart as it was
    quoted = client.post(QUOTE, headers=store.headers(session_id), json={}).get_json()
    assert (quoted["items"][0]["price"], quoted["items"][0]["previousPrice"], quoted["subtotal"]) == (
        D("59.99"), D("49.99"), D("119.98"))
    again = client.post(QUOTE, headers=store.headers(session_id), json={}).get_json()
    assert again["items"][0]["previousPrice"] is None   # the first quote showed it
    placed = store.place_order(session_id)
    assert placed.status_code == 200 and placed.get_json()["total"] == quoted["total"]
    [order] = orders_of(store)
    assert [(item.sku, item.unit_price) for item in order.items] == [("PROD004", D("59.99"))]


def test_quote_charges_flat_shipping_up_to_the_threshold(client, store):
    store.set_product("PROD002", price=D("50.00"))
    at_threshold = store.cart_with(("PROD002", 2))
    body = client.post(QUOTE, headers=store.headers(at_threshold), json={}).get_json()
    assert (body["subtotal"], body["tax"], body["shipping"], body["total"]) == (D("100.00"), D("15.00"), D("10.00"),
                                                                                D("125.00"))
    store.set_product("PROD005", price=D("0.01"), discount=D("0"))
    above = store.cart_with(("PROD002", 2), ("PROD005", 1))
    body = client.post(QUOTE, headers=store.headers(above), json={}).get_json()
    assert (body["subtotal"], body["tax"], body["shipping"], body["total"]) == (D("100.01"), D("15.00"), D("0.00"),
                                                                                D("115.01"))


def test_quote_uses_the_tenants_settings(client, store):
    store.set_tenant(tax_rate=D("0.0825"), flat_shipping=D("4.99"), free_shipping_threshold=D("500.00"))
    session_id = store.cart_with(("PROD003", 1))  # 127.49
    body = client.post(QUOTE, headers=store.headers(session_id), json={}).get_json()
    assert (body["subtotal"], body["tax"], body["shipping"], body["total"]) == (D("127.49"), D("10.52"), D("4.99"),
                                                                                D("143.00"))


def test_quote_accepts_no_body(client, store):
    session_id = store.cart_with(("PROD004", 1))
    before = snapshot(store)
    response = client.post(QUOTE, headers=store.headers(session_id))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["subtotal"], body["tax"], body["shipping"], body["total"]) == (D("49.99"), D("7.50"), D("10.00"),
                                                                                D("67.49"))
    assert snapshot(store) == before  # a quote takes no stock and places nothing


def test_quote_of_an_empty_or_missing_cart_is_400(client, store):
    emptied = store.cart_with(("PROD001", 1))
    client.delete("/api/cart", headers=store.headers(emptied))
    for session_id in (emptied, str(uuid.uuid4())):
        response = client.post(QUOTE, headers=store.headers(session_id), json={})
        assert response.status_code == 400
        assert response.mimetype == "application/problem+json"
        assert "empty" in response.get_json()["detail"]


@pytest.mark.parametrize("change", [{"stock": 1}, {"is_active": False}])
def test_quote_when_stock_no_longer_covers_the_cart_is_409(client, store, change):
    session_id = store.cart_with(("PROD002", 1), ("PROD004", 2))
    store.set_product("PROD004", **change)
    before = snapshot(store)
    response = client.post(QUOTE, headers=store.headers(session_id), json={})
    assert response.status_code == 409
    assert response.get_json()["title"] == "Insufficient Stock"
    assert snapshot(store) == before
    assert before["carts"] == {session_id: {"PROD002": 1, "PROD004": 2}}


# --- place-order ---------------------------------------------------------------------------------

def test_place_order_accepts_the_seed_example_and_creates_a_pending_order(client, store):
    session_id = store.cart_with(("PROD001", 2), ("PROD004", 1))
    quote = client.post(QUOTE, headers=store.headers(session_id), json={}).get_json()
    key = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
    response = client.post(PLACE, headers=store.headers(session_id, **{"Idempotency-Key": key}), json={
        "idempotencyKey": key,
        "email": "customer@example.com",
        "phone": "+1234567890",
        "shippingAddress": "123 Main St, City, State 12345, Country",
        "paymentMethod": "CreditCard",
    })
    assert response.status_code == 200, response.get_json()
    assert "Idempotent-Replayed" not in response.headers
    body = response.get_json()
    assert set(body) == {"orderId", "orderNumber", "total", "status", "createdAt"}
    uuid.UUID(body["orderId"])
    assert re.fullmatch(r"ORD-\d{8}-\d{6}", body["orderNumber"])
    assert body["orderNumber"][4:12] == utcnow().strftime("%Y%m%d")
    assert body["status"] == "PENDING"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["createdAt"])
    assert body["total"] == quote["total"] == D("223.07")
    assert b'"total":223.07' in response.data

    [order] = orders_of(store)
    assert (order.id, order.number, order.channel, order.status) == (body["orderId"], body["orderNumber"],
                                                                     "storefront", "PENDING")
    assert (order.email, order.phone, order.shipping_address, order.payment_method) == (
        "customer@example.com", "+1234567890", "123 Main St, City, State 12345, Country", "CreditCard")
    assert (order.subtotal, order.tax, order.shipping, order.total) == (D("193.97"), D("29.10"), D("0.00"),
                                                                        D("223.07"))
    assert order.idempotency_key == key and order.customer_id is None
    assert [(i.sku, i.name, i.unit_price, i.quantity, i.line_total) for i in order.items] == [
        ("PROD001", "Wireless Headphones", D("71.99"), 2, D("143.98")),
        ("PROD004", "Laptop Stand", D("49.99"), 1, D("49.99"))]
    assert (store.stock("PROD001"), store.stock("PROD004")) == (48, 24)
    assert client.get("/api/cart", headers=store.headers(session_id)).status_code == 404


@on_both_backends
def test_place_order_reads_the_cart_once_and_each_taken_stock_from_its_update(client, store, count_queries):
    """The key's record is looked up first; one SELECT locks the cart and, the lock held, one
    reads its lines with their products (core.cart.services.lock_cart says why not one); each
    line's conditional UPDATE returns the stock it left (RETURNING): nothing is read again, and
    the key's answer is the transaction's last statement."""
    session_id = store.cart_with(("PROD001", 2), ("PROD004", 1))
    with count_queries(store.slug) as statements:
        placed = store.place_order(session_id)
    assert placed.status_code == 200, placed.get_json()
    updates = [s for s in statements if s.startswith("UPDATE products SET stock")]
    assert len(updates) == 2 and all("RETURNING" in s for s in updates)
    selects = [s for s in statements if s.startswith("SELECT")]
    sent = [s for s in statements if s != "BEGIN IMMEDIATE"]  # SQLite's writing transaction begins so
    assert len(selects) == 3 and "idempotency_records" in selects[0] and sent[0] == selects[0], statements
    assert "FROM carts" in selects[1] and "cart_items" not in selects[1], selects
    assert "FROM cart_items" in selects[2] and "JOIN products" in selects[2], selects
    assert statements[-1].startswith("INSERT INTO idempotency_records"), statements
    assert store.stocks()["PROD001"] == 48


def test_place_order_stores_the_phone_in_e164(client, store):
    session_id = store.cart_with(("PROD002", 1))
    assert store.place_order(session_id, phone="+44 20 7946 0958").status_code == 200
    assert orders_of(store)[0].phone == "+442079460958"


def test_place_order_with_an_empty_cart_is_400_and_stores_nothing(client, store):
    session_id, key = str(uuid.uuid4()), str(uuid.uuid4())
    response = store.place_order(session_id, key)
    assert response.status_code == 400 and "empty" in response.get_json()["detail"]
    assert store.count(IdempotencyRecord) == 0
    store.add(session_id, "PROD002", 1)
    assert store.place_order(session_id, key).status_code == 200


def test_place_order_with_too_little_stock_is_409_takes_nothing_and_may_be_retried(client, store):
    session_id, key = store.cart_with(("PROD001", 1), ("PROD004", 3)), str(uuid.uuid4())
    store.set_stock("PROD004", 2)
    response = store.place_order(session_id, key)
    assert response.status_code == 409
    assert response.get_json()["title"] == "Insufficient Stock"
    assert (store.stock("PROD001"), store.stock("PROD004")) == (50, 2)
    assert orders_of(store) == [] and store.count(IdempotencyRecord) == 0
    assert client.get("/api/cart", headers=store.headers(session_id)).get_json()["itemCount"] == 4

    store.set_stock("PROD004", 3)
    assert store.place_order(session_id, key).status_code == 200
    assert (store.stock("PROD001"), store.stock("PROD004")) == (49, 0)


def test_place_order_of_a_deactivated_product_is_409(client, store):
    session_id = store.cart_with(("PROD003", 1))
    store.set_product("PROD003", is_active=False)
    before = snapshot(store)
    assert store.place_order(session_id).status_code == 409
    assert store.stock("PROD003") == 30
    assert snapshot(store) == before and before["orders"] == []


def test_place_order_beyond_max_products_per_order_is_400(client, store):
    store.configure(limits={"maxProductsPerOrder": 2})
    session_id = store.cart_with(("PROD001", 1), ("PROD002", 5), ("PROD003", 1))
    before = snapshot(store)
    response = store.place_order(session_id)
    assert response.status_code == 400
    assert "maxProductsPerOrder" in response.get_json()["detail"]
    assert snapshot(store) == before and before["orders"] == []
    client.delete(f"/api/cart/items/{client.get('/api/cart', headers=store.headers(session_id)).get_json()['items'][0]['id']}",
                  headers=store.headers(session_id))
    assert store.place_order(session_id).status_code == 200
    assert snapshot(store)["orders"] == [("PENDING", [("PROD002", 5), ("PROD003", 1)])]


@pytest.mark.parametrize("overrides, field", [
    ({"email": "not-an-email"}, "email"),
    ({"email": ""}, "email"),
    ({"phone": "1234567890"}, "phone"),
    ({"phone": "+12"}, "phone"),
    ({"phone": "+1 phone"}, "phone"),
    ({"phone": ""}, "phone"),
    ({"shippingAddress": ""}, "shippingAddress"),
    ({"shippingAddress": "   "}, "shippingAddress"),
    ({"paymentMethod": "Bitcoin"}, "paymentMethod"),
    ({"paymentMethod": "creditcard"}, "paymentMethod"),
    ({"email": None}, "email"),
])
def test_place_order_with_invalid_data_is_400_and_stores_nothing(client, store, overrides, field):
    session_id, key = store.cart_with(("PROD002", 1)), str(uuid.uuid4())
    response = store.place_order(session_id, key, **overrides)
    assert response.status_code == 400
    problem = response.get_json()
    assert problem["title"] == "Validation Error" and field in problem["errors"], problem
    assert store.count(IdempotencyRecord) == 0 and orders_of(store) == []
    assert store.place_order(session_id, key).status_code == 200


@pytest.mark.parametrize("field", ["idempotencyKey", "email", "phone", "shippingAddress", "paymentMethod"])
def test_place_order_without_a_field_is_400(client, store, field):
    session_id, key = store.cart_with(("PROD002", 1)), str(uuid.uuid4())
    body = place_order_body(key)
    del body[field]
    before = snapshot(store)
    response = client.post(PLACE, headers=store.headers(session_id, **{"Idempotency-Key": key}), json=body)
    assert response.status_code == 400
    assert field in response.get_json()["errors"]
    assert snapshot(store) == before and before["orders"] == [] and before["records"] == 0


def test_place_order_without_the_idempotency_key_header_is_400(client, store):
    session_id, key = store.cart_with(("PROD002", 1)), str(uuid.uuid4())
    for value in (None, "", "   "):
        headers = store.headers(session_id) if value is None else store.headers(session_id, **{"Idempotency-Key": value})
        response = client.post(PLACE, headers=headers, json=place_order_body(key))
        assert response.status_code == 400
        assert "Idempotency-Key" in response.get_json()["errors"]
    assert orders_of(store) == []


def test_place_order_with_differing_keys_is_400(client, store):
    session_id = store.cart_with(("PROD002", 1))
    response = client.post(PLACE, headers=store.headers(session_id, **{"Idempotency-Key": str(uuid.uuid4())}),
                           json=place_order_body(str(uuid.uuid4())))
    assert response.status_code == 400
    assert "idempotencyKey" in response.get_json()["errors"]
    assert orders_of(store) == [] and store.count(IdempotencyRecord) == 0


@pytest.mark.parametrize("path", [QUOTE, PLACE])
@pytest.mark.parametrize("session_id", [None, "abc"])
def test_checkout_requires_a_uuid_session_id(client, store, path, session_id):
    key = str(uuid.uuid4())
    store.cart_with(("PROD002", 1))
    before = snapshot(store)
    headers = {"X-Tenant-Slug": store.slug, "Idempotency-Key": key}
    if session_id is not None:
        headers["X-Session-Id"] = session_id
    response = client.post(path, headers=headers, json=place_order_body(key) if path == PLACE else {})
    if session_id is None:
        assert response.status_code == 401 and "X-Session-Id" in response.get_json()["detail"]
    else:
        assert response.status_code == 400 and "X-Session-Id" in response.get_json()["errors"]
    assert snapshot(store) == before


@pytest.mark.parametrize("path", [QUOTE, PLACE])
def test_checkout_is_403_when_the_checkout_feature_is_disabled(client, store, path):
    session_id, key = store.cart_with(("PROD002", 1)), str(uuid.uuid4())
    store.configure(features={"checkout": False})
    before = snapshot(store)
    response = client.post(path, headers=store.headers(session_id, **{"Idempotency-Key": key}),
                           json=place_order_body(key) if path == PLACE else {})
    assert response.status_code == 403
    assert response.get_json()["title"] == "Feature Disabled"
    assert snapshot(store) == before and before["carts"] == {session_id: {"PROD002": 1}}


@pytest.mark.parametrize("path", [QUOTE, PLACE])
def test_checkout_needs_a_ready_tenant(client, store, path):
    key = str(uuid.uuid4())
    session_id = store.cart_with(("PROD002", 1))
    before = snapshot(store)
    response = client.post(path, headers={"X-Tenant-Slug": "nowhere", "X-Session-Id": session_id,
                                          "Idempotency-Key": key}, json=place_order_body(key))
    assert response.status_code == 409 and response.get_json()["title"] == "Tenant not resolved"
    assert snapshot(store) == before


def test_place_order_without_guest_checkout_needs_a_token_of_the_store(client, store, shop):
    store.configure(features={"guestCheckout": False})
    session_id = store.cart_with(("PROD002", 1))
    response = store.place_order(session_id, email="not-even-valid")
    assert response.status_code == 401, "authentication is checked before the body"
    assert response.get_json()["title"] == "Unauthorized"
    assert store.place_order(session_id, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert store.place_order(session_id, headers=shop().token_headers("store_admin")).status_code == 401
    assert orders_of(store) == []
    # The quote stays open to guests.
    assert client.post(QUOTE, headers=store.headers(session_id), json={}).status_code == 200

    response = store.place_order(session_id, headers=store.token_headers("partner"))
    assert response.status_code == 200
    assert len(orders_of(store)) == 1


def test_place_order_with_guest_checkout_still_refuses_a_bad_token(client, store):
    session_id = store.cart_with(("PROD002", 1))
    before = snapshot(store)
    assert store.place_order(session_id, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert store.place_order(session_id, headers={"Authorization": "Basic abc"}).status_code == 401
    assert orders_of(store) == []
    assert snapshot(store) == before


def test_place_order_by_a_customer_token_records_the_customer(client, store):
    customer_id = client.post("/api/provisioning/customers",
                              headers={**store.token_headers("partner"), "X-Tenant-Slug": store.slug},
                              json={"name": "Acme", "contactEmail": "buyer@acme.example.com"}).get_json()["id"]
    session_id = store.cart_with(("PROD002", 1))
    assert store.place_order(session_id, headers=store.token_headers("customer", customer_id)).status_code == 200
    assert orders_of(store)[0].customer_id == customer_id
    assert snapshot(store)["orders"] == [("PENDING", [("PROD002", 1)])] and store.stock("PROD002") == 99


# --- idempotency ---------------------------------------------------------------------------------

def test_place_order_replays_the_first_answer_for_the_same_key_and_request(client, store):
    session_id, key = store.cart_with(("PROD003", 2)), str(uuid.uuid4())
    first = store.place_order(session_id, key)
    assert first.status_code == 200
    for _ in range(2):
        again = store.place_order(session_id, key)
        assert again.status_code == 200
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.data == first.data
    assert len(orders_of(store)) == 1 and store.stock("PROD003") == 28
    [record] = store_records(store)
    assert (record.state, record.response_status, json.loads(record.response_body)["orderId"]) == (
        IdempotencyState.COMPLETED, 200, first.get_json()["orderId"])
    assert record.scope == caller_scope(store.slug, session_id=session_id) and record.key == key


def test_place_order_with_a_used_key_and_another_request_is_409(client, store):
    session_id, key = store.cart_with(("PROD003", 1)), str(uuid.uuid4())
    assert store.place_order(session_id, key).status_code == 200
    store.add(session_id, "PROD003", 1)
    response = store.place_order(session_id, key, email="someone.else@example.com")
    assert response.status_code == 409
    assert response.get_json()["title"] == "Idempotency Key Conflict"
    assert len(orders_of(store)) == 1 and store.stock("PROD003") == 29


@on_postgres
def test_place_order_while_the_first_request_with_the_key_runs_is_409(client, store):
    session_id, key = store.cart_with(("PROD003", 1)), str(uuid.uuid4())
    with the_key_held_by_a_running_request(store, session_id, key):
        response = store.place_order(session_id, key)
    assert response.status_code == 409
    assert response.get_json()["title"] == "Idempotency Key Conflict"
    assert "still being processed" in response.get_json()["detail"]
    assert orders_of(store) == [] and store.stock("PROD003") == 30 and store_records(store) == []
    # The first request ended without an order (its transaction rolled back): the key is free.
    assert store.place_order(session_id, key).status_code == 200


def test_place_order_while_a_request_of_an_earlier_release_runs_is_409(client, store):
    session_id, key = store.cart_with(("PROD003", 1)), str(uuid.uuid4())
    claim_key_as_running(store, session_id, key, locked_at=utcnow())
    response = store.place_order(session_id, key)
    assert response.status_code == 409
    assert response.get_json()["title"] == "Idempotency Key Conflict"
    assert "still being processed" in response.get_json()["detail"]
    assert orders_of(store) == [] and store.stock("PROD003") == 30
    assert [r.state for r in store_records(store)] == [IdempotencyState.IN_PROGRESS]


def test_place_order_with_the_key_of_another_running_request_is_409(client, store):
    session_id, key = store.cart_with(("PROD003", 1)), str(uuid.uuid4())
    claim_key_as_running(store, session_id, key, locked_at=utcnow(),
                         body=place_order_body(key, paymentMethod="PayPal"))
    response = store.place_order(session_id, key)
    assert response.status_code == 409
    assert "different request" in response.get_json()["detail"]
    assert orders_of(store) == []


def test_place_order_takes_over_a_claim_abandoned_by_a_crashed_request(client, store):
    session_id, key = store.cart_with(("PROD003", 1)), str(uuid.uuid4())
    claim_key_as_running(store, session_id, key, locked_at=utcnow() - STALE_AFTER - timedelta(seconds=1))
    response = store.place_order(session_id, key)
    assert response.status_code == 200
    assert len(orders_of(store)) == 1
    [record] = store_records(store)
    assert record.state == IdempotencyState.COMPLETED


def test_idempotency_keys_are_scoped_to_the_caller(client, store):
    key = str(uuid.uuid4())
    first, second = store.cart_with(("PROD001", 1)), store.cart_with(("PROD002", 1))
    # Two guests may happen to send the same key: each has their own.
    assert store.place_order(first, key).status_code == 200
    assert store.place_order(second, key).status_code == 200
    assert len(orders_of(store)) == 2
    # One authenticated caller's key covers all its requests, whatever the session.
    token = store.token_headers("partner")
    third, fourth = store.cart_with(("PROD004", 1)), store.cart_with(("PROD005", 1))
    assert store.place_order(third, key, headers=token).status_code == 200
    assert store.place_order(fourth, key, headers=token).status_code == 409
    assert len(orders_of(store)) == 3


def store_records(store) -> list[IdempotencyRecord]:
    with store.db() as session:
        return list(session.scalars(select(IdempotencyRecord)))


@contextmanager
def the_key_held_by_a_running_request(store, session_id: str, key: str):
    """A transaction holding the key's advisory lock, as a place-order request with it does from
    its first statement until it ends (PostgreSQL)."""
    with store.db() as session:
        session.execute(text("SELECT pg_advisory_xact_lock(:lock)"),
                        {"lock": lock_id(caller_scope(store.slug, session_id=session_id), key)})
        yield
        session.rollback()


def claim_key_as_running(store, session_id: str, key: str, *, locked_at, body: dict | None = None) -> None:
    """What a request with `body` of an earlier release, which committed its claim on its own
    before placing the order, left while it ran (or after it died)."""
    request = PlaceOrderRequest.model_validate(body or place_order_body(key))
    with store.db() as session:
        session.add(IdempotencyRecord(scope=caller_scope(store.slug, session_id=session_id), key=key,
                                      fingerprint=_fingerprint(session_id, request),
                                      state=IdempotencyState.IN_PROGRESS,
                                      created_at=locked_at, locked_at=locked_at))


def _fingerprint(session_id: str, body: PlaceOrderRequest) -> str:
    """The fingerprint the API gives a place-order request (core.orders.checkout)."""
    contact = OrderContact(email=body.email, phone=body.phone, shipping_address=body.shipping_address,
                           payment_method=PaymentMethod(body.payment_method))
    return CheckoutRequest(session_id, body.idempotency_key, contact).fingerprint()


@on_both_backends
def test_an_order_worth_more_than_an_order_can_hold_is_400_and_takes_nothing(client, store):
    """The amounts are NUMERIC(12, 2) in the database: past $9,999,999,999.99 the order is
    refused by the domain (create_order), not by the database (a 500)."""
    from sqlalchemy import update

    from core.catalog.models import Product

    with store.db() as session:
        session.execute(update(Product).where(Product.sku == "PROD001").values(price=D("6000000000.00"), discount=0))
    session_id = store.cart_with(("PROD001", 2))
    response = store.place_order(session_id)
    assert response.status_code == 400, response.get_json()
    assert "largest amount an order can hold" in response.get_json()["detail"]
    assert orders_of(store) == [] and store.stock("PROD001") == 50 and store_records(store) == []
