"""core.cart.services: session ids, cart creation, the guards every change keeps."""
from __future__ import annotations

import uuid

import pytest

from core.cart import services as carts
from core.cart.models import Cart, CartItem
from core.errors import InsufficientStock, LimitExceeded, NotFound, ValidationFailed


@pytest.fixture
def store(shop):
    return shop()


@pytest.fixture
def tenant(app, store):
    from core.tenancy.admin import get_tenant

    with app.app_context():
        row = get_tenant(store.slug)
        assert row.plan is not None
    return row


def test_normalize_session_id_gives_the_canonical_uuid():
    value = "550E8400-E29B-41D4-A716-446655440000"
    assert carts.normalize_session_id(value) == value.lower()
    assert carts.normalize_session_id(uuid.UUID(value)) == value.lower()
    for bad in (None, "", "abc", "550e8400-e29b-41d4-a716"):
        with pytest.raises(ValidationFailed) as info:
            carts.normalize_session_id(bad)
        assert "X-Session-Id" in info.value.errors


def test_the_first_add_makes_the_cart_in_one_insert_and_later_adds_change_it(store, tenant):
    session_id = str(uuid.uuid4())
    with store.db() as session:
        assert carts.lock_cart(session, session_id) is None
        cart = carts.add_item(session, tenant, session_id, store.product_id("PROD001"), 1)
        assert carts.lock_cart(session, session_id) is cart        # persistent: the same object
        assert carts.add_item(session, tenant, session_id, store.product_id("PROD001"), 2) is cart
        assert [item.quantity for item in cart.items] == [3]
    assert store.count(Cart) == 1
    assert store.carts() == {session_id: {"PROD001": 3}}


def test_a_cart_made_meanwhile_by_another_request_is_used(store, tenant, monkeypatch):
    """The first add of a session found no cart, and a concurrent first add made it before this
    one's INSERT: the INSERT does nothing, and the other request's cart is locked and used."""
    session_id = str(uuid.uuid4())
    with store.db() as other:
        carts.add_item(other, tenant, session_id, store.product_id("PROD002"), 1)
    lock, looks = carts.lock_cart, []

    def first_look_finds_nothing(session, sid):
        looks.append(sid)
        return None if len(looks) == 1 else lock(session, sid)

    monkeypatch.setattr(carts, "lock_cart", first_look_finds_nothing)
    with store.db() as session:
        cart = carts.add_item(session, tenant, session_id, store.product_id("PROD001"), 1)
        assert sorted(item.quantity for item in cart.items) == [1, 1]
    assert looks == [session_id, session_id]
    assert store.count(Cart) == 1
    assert store.carts() == {session_id: {"PROD001": 1, "PROD002": 1}}


@pytest.mark.parametrize("quantity", [0, -1, True, 1.0, "1"])
def test_add_and_update_refuse_a_quantity_that_is_not_a_positive_integer(store, tenant, quantity):
    session_id = str(uuid.uuid4())
    with store.db() as session:
        with pytest.raises(ValidationFailed):
            carts.add_item(session, tenant, session_id, store.product_id("PROD001"), quantity)
        cart = carts.add_item(session, tenant, session_id, store.product_id("PROD001"), 1)
        with pytest.raises(ValidationFailed):
            carts.update_item(session, tenant, session_id, cart.items[0].id, quantity)


def test_add_item_checks_the_merged_quantity_against_stock_and_the_plan(store, tenant):
    tenant.limit_overrides = {"maxCartItems": 30}
    session_id = str(uuid.uuid4())
    with store.db() as session:
        carts.add_item(session, tenant, session_id, store.product_id("PROD004"), 20)
        with pytest.raises(InsufficientStock):
            carts.add_item(session, tenant, session_id, store.product_id("PROD004"), 6)
        carts.add_item(session, tenant, session_id, store.product_id("PROD004"), 5)
        with pytest.raises(LimitExceeded):
            carts.add_item(session, tenant, session_id, store.product_id("PROD001"), 6)
        cart = carts.add_item(session, tenant, session_id, store.product_id("PROD001"), 5)
        assert cart.item_count == 30 and len(cart.items) == 2


def test_get_cart_of_an_empty_cart_is_404(store, tenant):
    session_id = str(uuid.uuid4())
    with store.db() as session:
        cart = carts.add_item(session, tenant, session_id, store.product_id("PROD001"), 1)
        carts.remove_item(session, session_id, cart.items[0].id)
        with pytest.raises(NotFound):
            carts.get_cart(session, session_id)
    assert store.count(Cart) == 1 and store.count(CartItem) == 0
