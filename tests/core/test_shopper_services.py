"""The core verbs the storefront pages added and share with the API: the cart's unit count, the
lines whose stock ran short, the subtotal, an order looked up for the session that placed it,
and what became of an idempotency key."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from core.cart import services as carts
from core.errors import NotFound
from core.idempotency.services import caller_scope, key_state
from core.orders import pricing, queries


@pytest.fixture
def store(shop):
    return shop()


def test_item_count_sums_the_quantities_of_the_sessions_cart(store):
    session_id = store.cart_with(("PROD001", 2), ("PROD002", 3))
    with store.db() as session:
        assert carts.item_count(session, session_id) == 5
        assert carts.item_count(session, str(uuid.uuid4())) == 0
        assert carts.item_count(session, session_id) == carts.find_cart(session, session_id).item_count


def test_stock_shortfalls_names_every_short_line_and_subtotal_sums_the_lines(store):
    session_id = store.cart_with(("PROD001", 2), ("PROD002", 3), ("PROD004", 1))
    store.set_stock("PROD002", 1)
    store.set_product("PROD004", is_active=False)
    with store.db() as session:
        cart = carts.find_cart(session, session_id)
        by_name = {item.product.name: item.id for item in cart.items}
        assert pricing.stock_shortfalls(cart.items) == {
            by_name["USB-C Charger"]: "Product stock changed: only 1 of USB-C Charger left, 3 in the cart.",
            by_name["Laptop Stand"]: "Laptop Stand is no longer available.",
        }
        assert pricing.items_subtotal(cart.items) == Decimal("71.99") * 2 + Decimal("29.99") * 3 + Decimal("49.99")


def test_get_session_order_only_answers_the_session_that_placed_it(store):
    session_id = store.cart_with(("PROD001", 1))
    key = str(uuid.uuid4())
    number = store.place_order(session_id, key).get_json()["orderNumber"]
    with store.db() as session:
        assert queries.get_session_order(session, session_id, number).number == number
        for sid, wanted in ((str(uuid.uuid4()), number), (session_id, "ORD-20240101-000000")):
            with pytest.raises(NotFound):
                queries.get_session_order(session, sid, wanted)


def test_key_state_tells_unknown_completed_and_replays_the_answer(store):
    session_id = store.cart_with(("PROD001", 1))
    key = str(uuid.uuid4())
    scope = caller_scope(store.slug, session_id=session_id)
    with store.db() as session:
        assert key_state(session, scope, key) == (None, None)
    body = store.place_order(session_id, key).get_json()
    with store.db() as session:
        state, answer = key_state(session, scope, key)
    assert state == "completed" and answer.replayed and body["orderNumber"] in answer.body


def test_active_categories_lists_the_active_ones_by_name(store):
    from core.catalog.models import Category
    from core.catalog.listing import active_categories

    with store.db() as session:
        session.add(Category(name="Zzz Hidden", description="", is_active=False))
    with store.db() as session:
        assert [c.name for c in active_categories(session)] == ["Accessories", "Audio", "Computers", "Video"]
