"""One rule of who may check out (core.orders.checkout) for the JSON API and the shop's pages:
the same store settings open or close both channels alike."""
from __future__ import annotations

import uuid

import pytest

from core.orders.models import Order
from tests.storefront.conftest import text_of

QUOTE = "/api/checkout/quote"


def _api_quote(store, session_id):
    return store.client.post(QUOTE, headers=store.headers(session_id), json={})


def _shop_checkout_page(shopper):
    return shopper.get("/checkout")


@pytest.fixture
def carts(shop, shopper):
    """A store, and a cart of one PROD002 in it on each channel: (store, API session, shopper)."""
    store = shop()
    api_session = store.cart_with(("PROD002", 1))
    browser = shopper(store.slug)
    browser.add(store.product_id("PROD002"))
    return store, api_session, browser


def test_both_channels_check_out_when_the_store_sells_to_guests(carts):
    store, api_session, browser = carts
    assert _api_quote(store, api_session).status_code == 200
    assert _shop_checkout_page(browser).status_code == 200
    assert store.place_order(api_session).status_code == 200
    assert store.count(Order) == 1


@pytest.mark.parametrize("feature", ["cart", "checkout"])
def test_a_store_without_carts_or_checkout_closes_both_channels(carts, feature):
    store, api_session, browser = carts
    store.configure(features={feature: False})
    quote = _api_quote(store, api_session)
    assert quote.status_code == 403 and quote.get_json()["type"].endswith("/feature-disabled")
    assert store.place_order(api_session).status_code == 403
    page = _shop_checkout_page(browser)
    assert page.status_code == 403 and "not enabled for this store" in text_of(page)
    assert store.count(Order) == 0


def test_without_guest_checkout_a_guest_places_no_order_on_either_channel(carts):
    store, api_session, browser = carts
    store.configure(features={"guestCheckout": False})
    refused = store.place_order(api_session)
    assert refused.status_code == 401 and refused.get_json()["type"].endswith("/guest-checkout-disabled")
    page = _shop_checkout_page(browser)
    assert page.status_code == 403 and "Guest checkout is disabled for this store." in text_of(page)
    placed_by_form = browser.post("/checkout", {"idempotency_key": str(uuid.uuid4()), "email": "a@example.com",
                                                "phone": "+14155550100", "shipping_address": "1 Main St",
                                                "payment_method": "CreditCard"})
    assert placed_by_form.status_code == 403
    assert store.count(Order) == 0
    # The quote stays open to anyone; a token of the store may still place the order.
    assert _api_quote(store, api_session).status_code == 200
    assert store.place_order(api_session, headers=store.token_headers("partner")).status_code == 200
    assert store.count(Order) == 1


def test_a_token_of_another_store_is_refused_before_anything_is_placed(carts, shop):
    store, api_session, _ = carts
    refused = store.place_order(api_session, headers=shop().token_headers("partner"))
    assert refused.status_code == 401 and refused.get_json()["detail"] == "The token was not issued for this store."
    assert store.count(Order) == 0
