"""Section 4 of multi-tenant-platform-api.md: the guest cart, over HTTP on SQLite."""
from __future__ import annotations

import uuid
from decimal import Decimal as D

import pytest

ITEMS = "/api/cart/items"
# Every cart endpoint: (method, path, body). {item} is replaced by a real item id of the session.
ENDPOINTS = [
    ("get", "/api/cart", None),
    ("post", ITEMS, "add"),
    ("put", ITEMS + "/{item}", {"quantity": 1}),
    ("delete", ITEMS + "/{item}", None),
    ("delete", "/api/cart", None),
]


def call(client, method, path, headers, body=None):
    return getattr(client, method)(path, headers=headers, **({"json": body} if body is not None else {}))


@pytest.fixture
def store(shop):
    return shop()


def test_add_item_returns_the_cart_dto(client, store):
    session_id = str(uuid.uuid4())
    response = client.post(ITEMS, headers=store.headers(session_id),
                           json={"productId": store.product_id("PROD001"), "quantity": 2})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"id", "sessionId", "items", "itemCount", "subtotal"}
    assert body["sessionId"] == session_id
    uuid.UUID(body["id"])
    [item] = body["items"]
    uuid.UUID(item["id"])
    assert item == {"id": item["id"], "productId": store.product_id("PROD001"), "productName": "Wireless Headphones",
                    "price": D("71.99"), "quantity": 2, "subtotal": D("143.98"),
                    "productImage": "/static/img/products/headphones.svg", "previousPrice": None}
    assert body["itemCount"] == 2 and body["subtotal"] == D("143.98")
    assert store.carts() == {session_id: {"PROD001": 2}}
    assert client.get("/api/cart", headers=store.headers(session_id)).get_json() == body


def test_add_item_sends_money_with_two_decimals(client, store):
    store.set_product("PROD002", price=D("30.00"))
    response = client.post(ITEMS, headers=store.headers(), json={"productId": store.product_id("PROD002"), "quantity": 1})
    assert b'"price":30.00' in response.data and b'"subtotal":30.00' in response.data


def test_add_item_merges_the_same_product_into_one_line(client, store):
    session_id = store.cart_with(("PROD002", 1), ("PROD005", 1))
    body = store.add(session_id, "PROD002", 3)
    assert [(i["productId"], i["quantity"]) for i in body["items"]] == [
        (store.product_id("PROD002"), 4), (store.product_id("PROD005"), 1)]
    assert body["itemCount"] == 5
    assert body["subtotal"] == D("119.96") + D("85.49")


def test_a_line_costs_todays_price_and_shows_the_price_seen_before_it_changed(client, store):
    session_id = store.cart_with(("PROD004", 1))
    store.set_product("PROD004", price=D("59.99"))
    cart = client.get("/api/cart", headers=store.headers(session_id)).get_json()
    assert (cart["items"][0]["price"], cart["items"][0]["previousPrice"], cart["subtotal"]) == (
        D("59.99"), D("49.99"), D("59.99"))
    # Adding the product again shows the line at today's price: nothing is left to tell.
    again = store.add(session_id, "PROD004", 1)["items"][0]
    assert (again["price"], again["previousPrice"], again["subtotal"]) == (D("59.99"), None, D("119.98"))


def test_changing_a_quantity_prices_the_line_as_adding_does(client, store):
    """The fault this rule ends: a line added at 10.00 kept that price when set to 100 units at 1000.00."""
    store.set_product("PROD002", price=D("10.00"), discount=D("0"))
    session_id = store.cart_with(("PROD002", 1))
    store.set_product("PROD002", price=D("1000.00"))
    item_id = client.get("/api/cart", headers=store.headers(session_id)).get_json()["items"][0]["id"]
    updated = client.put(f"{ITEMS}/{item_id}", headers=store.headers(session_id), json={"quantity": 100})
    assert updated.status_code == 200
    line = updated.get_json()["items"][0]
    assert (line["price"], line["previousPrice"], line["subtotal"]) == (D("1000.00"), None, D("100000.00"))
    placed = store.place_order(session_id)
    assert placed.status_code == 200 and placed.get_json()["total"] > D("100000.00")


def test_add_item_beyond_stock_is_409(client, store):
    store.set_stock("PROD003", 3)
    session_id = store.cart_with(("PROD003", 2))
    response = client.post(ITEMS, headers=store.headers(session_id),
                           json={"productId": store.product_id("PROD003"), "quantity": 2})
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Insufficient Stock"
    assert client.get("/api/cart", headers=store.headers(session_id)).get_json()["itemCount"] == 2


def test_add_item_of_unknown_or_inactive_product_is_404(client, store):
    store.set_product("PROD005", is_active=False)
    for product_id in (str(uuid.uuid4()), store.product_id("PROD005")):
        response = client.post(ITEMS, headers=store.headers(), json={"productId": product_id, "quantity": 1})
        assert response.status_code == 404, response.get_json()
        assert response.mimetype == "application/problem+json"
    assert store.carts() == {}


@pytest.mark.parametrize("body, field", [
    ({"productId": "PROD001", "quantity": 1}, "productId"),
    ({"productId": None, "quantity": 1}, "productId"),
    ({"quantity": 1}, "productId"),
    ({"productId": "{id}", "quantity": 0}, "quantity"),
    ({"productId": "{id}", "quantity": -1}, "quantity"),
    ({"productId": "{id}", "quantity": 1.5}, "quantity"),
    ({"productId": "{id}", "quantity": "2"}, "quantity"),
    ({"productId": "{id}", "quantity": True}, "quantity"),
    ({"productId": "{id}", "quantity": 2**31}, "quantity"),
    ({"productId": "{id}"}, "quantity"),
])
def test_add_item_with_invalid_product_id_or_quantity_is_400(client, store, body, field):
    body = {k: (store.product_id("PROD001") if v == "{id}" else v) for k, v in body.items()}
    response = client.post(ITEMS, headers=store.headers(), json=body)
    assert response.status_code == 400
    problem = response.get_json()
    assert problem["title"] == "Validation Error" and field in problem["errors"], problem
    assert store.carts() == {}


def test_add_item_beyond_max_cart_items_is_403(client, store):
    store.configure(limits={"maxCartItems": 5})
    session_id = store.cart_with(("PROD001", 2), ("PROD002", 3))
    response = client.post(ITEMS, headers=store.headers(session_id),
                           json={"productId": store.product_id("PROD004"), "quantity": 1})
    assert response.status_code == 403
    assert response.get_json()["title"] == "Plan Limit Exceeded"
    assert client.get("/api/cart", headers=store.headers(session_id)).get_json()["itemCount"] == 5


def test_get_cart_without_a_cart_is_404(client, store):
    response = client.get("/api/cart", headers=store.headers())
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert store.carts() == {}  # reading creates no cart


def test_get_cart_returns_the_session_cart_only(client, store):
    mine = store.cart_with(("PROD001", 1), ("PROD004", 2))
    store.cart_with(("PROD002", 5))
    body = client.get("/api/cart", headers=store.headers(mine)).get_json()
    assert body["sessionId"] == mine
    assert [i["productName"] for i in body["items"]] == ["Wireless Headphones", "Laptop Stand"]
    assert body["itemCount"] == 3 and body["subtotal"] == D("171.97")


@pytest.mark.parametrize("spelling", [str.upper, lambda text: text.replace("-", "")])
def test_a_session_id_names_the_same_cart_in_capitals_or_without_hyphens(client, store, spelling):
    session_id = store.cart_with(("PROD001", 1))
    response = client.get("/api/cart", headers=store.headers(spelling(session_id)))
    assert response.status_code == 200 and response.get_json()["sessionId"] == session_id


def test_carts_are_per_tenant(client, store, shop):
    other = shop()
    session_id = store.cart_with(("PROD001", 1))
    assert client.get("/api/cart", headers=other.headers(session_id)).status_code == 404
    assert other.add(session_id, "PROD002", 2)["itemCount"] == 2
    assert store.carts() == {session_id: {"PROD001": 1}}
    assert other.carts() == {session_id: {"PROD002": 2}}


def test_update_item_sets_the_quantity(client, store):
    session_id = store.cart_with(("PROD001", 1), ("PROD002", 1))
    item = client.get("/api/cart", headers=store.headers(session_id)).get_json()["items"][1]
    response = client.put(f"{ITEMS}/{item['id']}", headers=store.headers(session_id), json={"quantity": 3})
    assert response.status_code == 200
    body = response.get_json()
    assert [i["quantity"] for i in body["items"]] == [1, 3]
    assert body["itemCount"] == 4 and body["subtotal"] == D("161.96")
    assert store.carts() == {session_id: {"PROD001": 1, "PROD002": 3}}


def test_update_item_beyond_stock_is_409(client, store):
    session_id = store.cart_with(("PROD004", 1))
    item_id = client.get("/api/cart", headers=store.headers(session_id)).get_json()["items"][0]["id"]
    response = client.put(f"{ITEMS}/{item_id}", headers=store.headers(session_id), json={"quantity": 26})
    assert response.status_code == 409
    assert response.get_json()["title"] == "Insufficient Stock"
    assert store.carts() == {session_id: {"PROD004": 1}}
    assert store.stock("PROD004") == 25


def test_update_item_beyond_max_cart_items_is_403(client, store):
    store.configure(limits={"maxCartItems": 3})
    session_id = store.cart_with(("PROD001", 1), ("PROD002", 1))
    item_id = client.get("/api/cart", headers=store.headers(session_id)).get_json()["items"][0]["id"]
    assert client.put(f"{ITEMS}/{item_id}", headers=store.headers(session_id), json={"quantity": 2}).status_code == 200
    assert store.carts() == {session_id: {"PROD001": 2, "PROD002": 1}}
    refused = client.put(f"{ITEMS}/{item_id}", headers=store.headers(session_id), json={"quantity": 3})
    assert refused.status_code == 403 and refused.get_json()["title"] == "Plan Limit Exceeded"
    assert store.carts() == {session_id: {"PROD001": 2, "PROD002": 1}}


@pytest.mark.parametrize("quantity", [0, -2, 1.5, "3", None])
def test_update_item_with_invalid_quantity_is_400(client, store, quantity):
    session_id = store.cart_with(("PROD001", 1))
    item_id = client.get("/api/cart", headers=store.headers(session_id)).get_json()["items"][0]["id"]
    response = client.put(f"{ITEMS}/{item_id}", headers=store.headers(session_id), json={"quantity": quantity})
    assert response.status_code == 400
    assert "quantity" in response.get_json()["errors"]
    assert store.carts() == {session_id: {"PROD001": 1}}


def test_update_or_remove_an_item_of_another_session_is_404(client, store):
    owner = store.cart_with(("PROD001", 1))
    item_id = client.get("/api/cart", headers=store.headers(owner)).get_json()["items"][0]["id"]
    intruder = store.cart_with(("PROD002", 1))
    assert client.put(f"{ITEMS}/{item_id}", headers=store.headers(intruder), json={"quantity": 2}).status_code == 404
    assert client.delete(f"{ITEMS}/{item_id}", headers=store.headers(intruder)).status_code == 404
    assert client.delete(f"{ITEMS}/{item_id}", headers=store.headers()).status_code == 404
    assert client.get("/api/cart", headers=store.headers(owner)).get_json()["items"][0]["quantity"] == 1
    assert store.carts() == {owner: {"PROD001": 1}, intruder: {"PROD002": 1}}


@pytest.mark.parametrize("item_id", ["not-a-uuid", str(uuid.uuid4())])
def test_update_or_remove_an_unknown_item_is_404(client, store, item_id):
    session_id = store.cart_with(("PROD001", 1))
    assert client.put(f"{ITEMS}/{item_id}", headers=store.headers(session_id), json={"quantity": 2}).status_code == 404
    assert client.delete(f"{ITEMS}/{item_id}", headers=store.headers(session_id)).status_code == 404
    assert store.carts() == {session_id: {"PROD001": 1}}


def test_remove_item_is_204_and_the_last_one_empties_the_cart(client, store):
    session_id = store.cart_with(("PROD001", 1), ("PROD002", 2))
    items = client.get("/api/cart", headers=store.headers(session_id)).get_json()["items"]
    response = client.delete(f"{ITEMS}/{items[0]['id']}", headers=store.headers(session_id))
    assert response.status_code == 204 and response.data == b""
    assert client.get("/api/cart", headers=store.headers(session_id)).get_json()["itemCount"] == 2
    assert store.carts() == {session_id: {"PROD002": 2}}
    assert client.delete(f"{ITEMS}/{items[0]['id']}", headers=store.headers(session_id)).status_code == 404
    assert client.delete(f"{ITEMS}/{items[1]['id']}", headers=store.headers(session_id)).status_code == 204
    assert client.get("/api/cart", headers=store.headers(session_id)).status_code == 404


def test_clear_cart_is_204_and_idempotent(client, store):
    session_id = store.cart_with(("PROD001", 1), ("PROD002", 2))
    response = client.delete("/api/cart", headers=store.headers(session_id))
    assert response.status_code == 204 and response.data == b""
    assert client.get("/api/cart", headers=store.headers(session_id)).status_code == 404
    assert client.delete("/api/cart", headers=store.headers(session_id)).status_code == 204
    assert client.delete("/api/cart", headers=store.headers()).status_code == 204
    # The emptied cart takes new items again.
    assert store.add(session_id, "PROD003", 1)["itemCount"] == 1


def _request(client, store, method, path, body, headers):
    """Make a cart of one PROD001 for a new session, then send the request; returns (session id, answer)."""
    session_id = store.cart_with(("PROD001", 1))
    item_id = client.get("/api/cart", headers=store.headers(session_id)).get_json()["items"][0]["id"]
    if body == "add":
        body = {"productId": store.product_id("PROD002"), "quantity": 1}
    return session_id, call(client, method, path.format(item=item_id), headers, body)


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
@pytest.mark.parametrize("session_id", [None, "", "not-a-uuid", "550e8400-e29b-41d4-a716",
                                        "{550e8400-e29b-41d4-a716-446655440000}",
                                        "urn:uuid:550e8400-e29b-41d4-a716-446655440000"])
def test_every_cart_endpoint_requires_a_uuid_session_id(client, store, method, path, body, session_id):
    """Without a customer's token: no session at all names no cart (401), a session id that is
    not a UUID is a bad request (400 naming it)."""
    headers = {"X-Tenant-Slug": store.slug}
    if session_id is not None:
        headers["X-Session-Id"] = session_id
    cart_of, response = _request(client, store, method, path, body, headers)
    assert response.mimetype == "application/problem+json"
    if session_id is None:
        assert response.status_code == 401 and "X-Session-Id" in response.get_json()["detail"]
    else:
        assert response.status_code == 400 and "X-Session-Id" in response.get_json()["errors"]
    assert store.carts() == {cart_of: {"PROD001": 1}}


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_every_cart_endpoint_is_403_when_the_cart_feature_is_disabled(client, store, method, path, body):
    session_id = store.cart_with(("PROD001", 1))
    item_id = client.get("/api/cart", headers=store.headers(session_id)).get_json()["items"][0]["id"]
    store.configure(features={"cart": False})
    body = {"productId": store.product_id("PROD002"), "quantity": 1} if body == "add" else body
    response = call(client, method, path.format(item=item_id), store.headers(session_id), body)
    assert response.status_code == 403
    assert response.get_json()["title"] == "Feature Disabled"
    assert store.carts() == {session_id: {"PROD001": 1}}


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_every_cart_endpoint_needs_a_ready_tenant(client, store, superadmin_headers, method, path, body):
    session_id = store.cart_with(("PROD001", 1))
    item_id = client.get("/api/cart", headers=store.headers(session_id)).get_json()["items"][0]["id"]
    body = {"productId": store.product_id("PROD002"), "quantity": 1} if body == "add" else body
    path = path.format(item=item_id)
    for headers in ({"X-Session-Id": session_id}, {"X-Tenant-Slug": "no-such-store", "X-Session-Id": session_id}):
        response = call(client, method, path, headers, body)
        assert response.status_code == 409 and response.get_json()["title"] == "Tenant not resolved"
    suspended = client.patch(f"/superadmin/tenants/{store.slug}", headers=superadmin_headers,
                             json={"status": "Suspended"})
    assert suspended.status_code == 200
    assert call(client, method, path, store.headers(session_id), body).status_code == 423
    assert store.carts() == {session_id: {"PROD001": 1}}
