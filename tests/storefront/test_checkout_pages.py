"""Checkout pages: the quote, the form's field errors, the idempotent "Place order", the
confirmation page (for the placing session only), stock that ran out meanwhile, and a price that
changed since the shopper saw it."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from decimal import Decimal as D

import pytest

from core.idempotency.models import IdempotencyRecord, IdempotencyState
from core.orders.models import Order
from tests.storefront.conftest import text_of

VALID = {"email": "ada@example.com", "phone": "+44 20 7946 0958", "shipping_address": "1 Analytical Row, London",
         "payment_method": "PayPal"}


def _checkout_form(s) -> tuple[str, str]:
    page = s.get("/checkout")
    assert page.status_code == 200, text_of(page)
    html = text_of(page)
    key = re.search(r'id="idempotency_key" name="idempotency_key" type="hidden" value="([^"]+)"', html).group(1)
    return html, key


@pytest.fixture
def buyer(shop, shopper):
    """A store and a shopper with 2 × USB-C Charger (29.99) in the cart."""
    store = shop()
    s = shopper(store.slug)
    s.add(store.product_id("PROD002"), 2)
    return store, s


def test_checkout_page_shows_the_quote_and_the_form(buyer):
    _store, s = buyer
    html, key = _checkout_form(s)
    assert uuid.UUID(key)
    assert '<dd id="quote-subtotal">$59.98</dd>' in html
    assert '<dd id="quote-tax">$9.00</dd>' in html  # 59.98 × 0.15 = 8.997
    assert '<dd id="quote-shipping">$10.00</dd>' in html
    assert '<dd id="quote-total">$78.98</dd>' in html
    for label in ('<label for="email">Email</label>', '<label for="phone">Phone</label>',
                  '<label for="shipping_address">Shipping address</label>', "<legend>Payment method</legend>"):
        assert label in html
    assert 'name="csrf_token"' in html and ">Place order</button>" in html
    assert 'hx-disabled-elt="find button[type=submit]"' in html


def test_free_shipping_above_the_threshold(shop, shopper):
    store = shop()
    s = shopper(store.slug)
    s.add(store.product_id("PROD003"), 1)  # 127.49 > 100
    html, _ = _checkout_form(s)
    assert '<dd id="quote-shipping">Free</dd>' in html


def test_checkout_of_an_empty_cart_goes_to_the_cart(shop, shopper):
    s = shopper(shop().slug)
    response = s.get("/checkout")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"


NOT_INTERNATIONAL = ("Phone must be in international form: + and the country code, then the number, at most 15 "
                     "digits in all, with spaces, dots, dashes or brackets between them.")


@pytest.mark.parametrize("field, value, message", [
    ("email", "not-an-email", "Enter a valid email address, like name@example.com."),
    ("email", "", "Enter your email address."),
    ("phone", "020 7946 0958", NOT_INTERNATIONAL),
    ("phone", "+1 555", NOT_INTERNATIONAL),
    ("shipping_address", "   ", "Enter the address to ship to."),
    ("payment_method", "", "Choose a payment method."),
    ("payment_method", "Bitcoin", "Not a valid choice."),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_checkout_errors_are_shown_beside_their_fields_and_change_nothing(buyer, field, value, message, htmx):
    store, s = buyer
    _, key = _checkout_form(s)
    response = s.post("/checkout", {**VALID, field: value, "idempotency_key": key},
                      htmx_target="checkout-form" if htmx else None)
    assert response.status_code == 400
    html = text_of(response)
    assert f'<p id="{field}-error" class="field-error">{message}</p>' in html
    assert ("<html" in html) is not htmx
    assert f'value="{key}"' in html  # the same key: the corrected form is still the same order
    assert store.count(Order) == 0 and store.count(IdempotencyRecord) == 0
    assert store.stock("PROD002") == 100


def test_placing_the_order_shows_its_confirmation_and_takes_the_stock(buyer):
    store, s = buyer
    _, key = _checkout_form(s)
    response = s.post("/checkout", {**VALID, "idempotency_key": key})
    assert response.status_code == 303
    number = re.fullmatch(r"/orders/(ORD-\d{8}-\d{6})", response.headers["Location"]).group(1)
    page = s.get(response.headers["Location"])
    assert page.status_code == 200
    html = text_of(page)
    assert f'<strong id="order-number">{number}</strong>' in html
    assert '<dd id="order-total">$78.98</dd>' in html and "PayPal" in html and "+442079460958" in html
    assert store.stock("PROD002") == 98
    assert "Your cart is empty." in text_of(s.get("/cart"))
    with store.db() as session:
        order = session.query(Order).one()
        assert (order.number, order.email, order.channel) == (number, "ada@example.com", "storefront")


def test_htmx_place_order_redirects_with_hx_redirect(buyer):
    store, s = buyer
    _, key = _checkout_form(s)
    response = s.post("/checkout", {**VALID, "idempotency_key": key}, htmx_target="checkout-form")
    assert response.status_code == 200
    assert re.fullmatch(r"/orders/ORD-\d{8}-\d{6}", response.headers["HX-Redirect"])


def test_a_resubmitted_form_places_one_order(buyer):
    store, s = buyer
    _, key = _checkout_form(s)
    first = s.post("/checkout", {**VALID, "idempotency_key": key})
    again = s.post("/checkout", {**VALID, "idempotency_key": key})
    htmx_again = s.post("/checkout", {**VALID, "idempotency_key": key}, htmx_target="checkout-form")
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"] == htmx_again.headers["HX-Redirect"]
    assert store.count(Order) == 1
    assert store.stock("PROD002") == 98


def test_the_same_key_with_changed_details_leads_to_the_order_it_placed(buyer):
    store, s = buyer
    _, key = _checkout_form(s)
    first = s.post("/checkout", {**VALID, "idempotency_key": key})
    changed = s.post("/checkout", {**VALID, "email": "other@example.com", "idempotency_key": key})
    assert changed.status_code == 303 and changed.headers["Location"] == f"/checkout/placed/{key}"
    followed = s.get(changed.headers["Location"])
    assert followed.status_code == 303 and followed.headers["Location"] == first.headers["Location"]
    assert store.count(Order) == 1


def test_a_submission_while_the_first_still_runs_waits_on_a_page_that_follows_it(buyer):
    store, s = buyer
    _, key = _checkout_form(s)
    now = datetime.now(timezone.utc)
    # The first submission still running, as a release before one-transaction keys shows it.
    with store.db() as session:
        session.add(IdempotencyRecord(scope=f"{store.slug}:session:{s.cookie().value}", key=key, fingerprint="x" * 64,
                                      state=IdempotencyState.IN_PROGRESS, created_at=now, locked_at=now))
    response = s.post("/checkout", {**VALID, "idempotency_key": key})
    assert response.status_code == 303 and response.headers["Location"] == f"/checkout/placed/{key}"
    waiting = s.get(response.headers["Location"])
    assert waiting.status_code == 202
    assert "Your order is being placed" in text_of(waiting) and 'http-equiv="refresh"' in text_of(waiting)
    assert store.count(Order) == 0 and store.stock("PROD002") == 100


def test_placed_page_of_an_unknown_key_goes_back_to_the_cart(buyer):
    store, s = buyer
    response = s.get(f"/checkout/placed/{uuid.uuid4()}")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    assert store.count(Order) == 0 and store.stock("PROD002") == 100


def test_stock_gone_meanwhile_sends_the_shopper_to_the_cart_which_names_the_line(buyer):
    store, s = buyer
    _, key = _checkout_form(s)
    store.set_stock("PROD002", 1)
    response = s.post("/checkout", {**VALID, "idempotency_key": key})
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    html = text_of(s.get("/cart"))
    assert "Your order was not placed. Not enough stock for USB-C Charger to take 2." in html
    assert re.search(r'class="field-error line-error" role="alert">Product stock changed: only 1 of USB-C Charger left',
                     html)
    assert "Checkout</a>" not in html
    assert store.count(Order) == 0 and store.count(IdempotencyRecord) == 0 and store.stock("PROD002") == 1


def test_checkout_page_with_stock_gone_goes_to_the_cart(buyer):
    store, s = buyer
    store.set_stock("PROD002", 0)
    response = s.get("/checkout")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    assert store.count(Order) == 0 and list(store.carts().values()) == [{"PROD002": 2}]


def test_a_tampered_idempotency_key_is_refused_beside_the_form(buyer):
    store, s = buyer
    response = s.post("/checkout", {**VALID, "idempotency_key": "not-a-key"})
    assert response.status_code == 400
    assert "This form has expired; reload the checkout page." in text_of(response)
    assert store.count(Order) == 0
    assert store.count(IdempotencyRecord) == 0 and store.stock("PROD002") == 100
    assert list(store.carts().values()) == [{"PROD002": 2}]


def test_order_page_is_only_for_the_session_that_placed_it(buyer, shopper):
    store, s = buyer
    _, key = _checkout_form(s)
    location = s.post("/checkout", {**VALID, "idempotency_key": key}).headers["Location"]
    stranger = shopper(store.slug)
    assert stranger.get(location).status_code == 404
    stranger.add(store.product_id("PROD001"))  # a stranger with a cart of their own
    page = stranger.get(location)
    assert page.status_code == 404 and "Order not found." in text_of(page)
    assert s.get("/orders/ORD-20240101-000000").status_code == 404


def test_the_confirmation_outlives_the_purge_of_idempotency_records(buyer, shopper):
    """Who placed an order is kept on the order: purging the records (jobs.maintenance) keeps
    the confirmation for its session, and still from nobody else."""
    from datetime import timedelta

    from core.idempotency.services import purge_records

    store, s = buyer
    _, key = _checkout_form(s)
    location = s.post("/checkout", {**VALID, "idempotency_key": key}).headers["Location"]
    with store.db() as session:
        assert purge_records(session, datetime.now(timezone.utc) + timedelta(seconds=1)) == 1
    assert store.count(IdempotencyRecord) == 0
    assert s.get(location).status_code == 200
    assert shopper(store.slug).get(location).status_code == 404


def test_an_order_placed_through_the_api_by_another_session_is_not_shown(buyer, shopper):
    store, s = buyer
    api_session = store.cart_with(("PROD001", 1))
    number = store.place_order(api_session).get_json()["orderNumber"]
    page = s.get(f"/orders/{number}")
    assert page.status_code == 404
    assert number not in text_of(page)
    # Nor did the API's order touch this shopper's cart.
    assert len(store.carts()) == 2 and [lines for lines in store.carts().values() if lines] == [{"PROD002": 2}]


def _prices_seen(html: str) -> str:
    return re.search(r'id="prices_seen" name="prices_seen" type="hidden" value="([^"]+)"', html).group(1)


def test_a_price_changed_since_adding_is_shown_and_the_order_is_placed_at_it(buyer):
    store, s = buyer
    store.set_product("PROD002", price=D("39.99"), discount=D("0"))
    cart = text_of(s.get("/cart"))
    assert "Price changed: <del><span class=\"visually-hidden\">was </span>$29.99</del> when you added it" in cart
    assert '<strong id="cart-subtotal">$79.98</strong>' in cart
    html, key = _checkout_form(s)
    assert "Prices changed since you added this item: the total below is at today's prices." in html
    assert '<dd id="quote-subtotal">$79.98</dd>' in html
    response = s.post("/checkout", {**VALID, "idempotency_key": key, "prices_seen": _prices_seen(html)})
    assert response.status_code == 303
    with store.db() as session:
        order = session.query(Order).one()
        assert (order.subtotal, [item.unit_price for item in order.items]) == (D("79.98"), [D("39.99")])


@pytest.mark.parametrize("htmx", [False, True])
def test_a_price_changed_while_the_page_was_open_places_nothing_and_shows_the_new_total(buyer, htmx):
    store, s = buyer
    html, key = _checkout_form(s)
    store.set_product("PROD002", price=D("39.99"), discount=D("0"))
    refused = s.post("/checkout", {**VALID, "idempotency_key": key, "prices_seen": _prices_seen(html)},
                     htmx_target="checkout-form" if htmx else None)
    assert refused.status_code == 409
    page = text_of(refused)
    assert "Prices changed since you saw them: USB-C Charger now costs 39.99 (was 29.99)." in page
    assert '<dd id="quote-subtotal">$79.98</dd>' in page
    assert ('hx-swap-oob="true"' in page) is htmx               # the summary replaced beside the form
    assert 'value="ada@example.com"' in page                    # what the shopper typed is kept
    assert store.count(Order) == 0 and store.stock("PROD002") == 100
    placed = s.post("/checkout", {**VALID, "idempotency_key": key, "prices_seen": _prices_seen(page)})
    assert placed.status_code == 303 and store.count(Order) == 1
