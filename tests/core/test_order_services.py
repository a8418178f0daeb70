"""core.orders (pricing, placement, lifecycle): quote arithmetic, orders and their stock, cancellation."""
from __future__ import annotations

import re
import uuid
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core.cart import services as carts
from core.errors import Conflict, InsufficientStock, NotFound, PriceChanged, ValidationFailed
from core.orders import lifecycle, placement, pricing, queries
from core.orders.models import Order, OrderChannel, OrderStatus
from core.validation import normalize_phone

CONTACT = placement.OrderContact(email="buyer@example.com", phone="+14155550100", shipping_address="1 Main St",
                              payment_method="PayPal")


def settings(tax_rate="0.15", flat_shipping="10.00", threshold="100.00"):
    return SimpleNamespace(tax_rate=D(tax_rate), flat_shipping=D(flat_shipping), free_shipping_threshold=D(threshold))


@pytest.mark.parametrize("subtotal, tenant, expected", [
    # tax rounds half-up: 0.045 → 0.05 and 0.105 → 0.11 (half-even would give 0.04 and 0.10)
    ("0.30", settings(), ("0.05", "10.00", "10.35")),
    ("0.70", settings(), ("0.11", "10.00", "10.81")),
    ("509.98", settings(), ("76.50", "0.00", "586.48")),
    # shipping is free only strictly above the threshold
    ("100.00", settings(), ("15.00", "10.00", "125.00")),
    ("100.01", settings(), ("15.00", "0.00", "115.01")),
    ("99.99", settings(), ("15.00", "10.00", "124.99")),
    # the tenant's own settings
    ("49.99", settings("0.0825", "4.99", "50.00"), ("4.12", "4.99", "59.10")),
    ("50.01", settings("0.0825", "4.99", "50.00"), ("4.13", "0.00", "54.14")),
    ("12.34", settings("0", "0", "0"), ("0.00", "0.00", "12.34")),
])
def test_order_totals(subtotal, tenant, expected):
    totals = pricing.order_totals(tenant, D(subtotal))
    assert (totals.subtotal, totals.tax, totals.shipping, totals.total) == (D(subtotal), *map(D, expected))
    assert all(v.as_tuple().exponent == -2 for v in (totals.subtotal, totals.tax, totals.shipping, totals.total))


@pytest.mark.parametrize("phone, expected", [
    ("+1234567890", "+1234567890"),  # the contract's example
    ("+1 (415) 555-0100", "+14155550100"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+683 4002", "+6834002"),  # Niue: short, but possible there
])
def test_normalize_order_phone_accepts_international_numbers(phone, expected):
    assert normalize_phone(phone) == expected


@pytest.mark.parametrize("phone", ["1234567890", "00441234567890", "+1 23", "+12", "+999 12345678", "+1 phone",
                                   "+1234567890123456", "", "   "])
def test_normalize_order_phone_refuses_the_rest(phone):
    with pytest.raises(ValueError):
        normalize_phone(phone)


# --- with a store's database ------------------------------------------------------------------

@pytest.fixture
def store(shop):
    return shop()


@pytest.fixture
def tenant(app, store):
    """The store's tenant row, loaded and detached (no app context stays pushed)."""
    from core.tenancy.admin import get_tenant

    with app.app_context():
        row = get_tenant(store.slug)
        assert row.plan is not None
    return row


def fill_cart(store, tenant, *lines) -> str:
    session_id = str(uuid.uuid4())
    with store.db() as session:
        for sku, quantity in lines:
            carts.add_item(session, tenant, session_id, store.product_id(sku), quantity)
    return session_id


def test_quote_prices_the_cart_at_todays_prices_and_tells_which_changed(store, tenant):
    session_id = fill_cart(store, tenant, ("PROD001", 1), ("PROD003", 2))
    store.set_product("PROD001", price=D("1.00"), discount=D("0"))
    with store.db() as session:
        quote = pricing.quote(tenant, carts.find_cart(session, session_id))
        assert [(i.product.sku, i.current_price, i.quantity) for i in quote.items] == [
            ("PROD001", D("1.00"), 1), ("PROD003", D("127.49"), 2)]
        assert {quote.items[0].product.sku: quote.previous_price(quote.items[0])} == {"PROD001": D("71.99")}
        assert quote.previous_price(quote.items[1]) is None
        assert quote.totals == pricing.Totals(D("255.98"), D("38.40"), D("0.00"), D("294.38"))
        with pytest.raises(PriceChanged, match="now costs 1.00"):
            pricing.require_prices_shown(quote.items)
        assert pricing.reprice(quote.items) == {quote.items[0].id: D("71.99")}
        pricing.require_prices_shown(quote.items)


def test_quote_refuses_an_empty_cart_and_a_short_stock(store, tenant):
    with store.db() as session:
        with pytest.raises(ValidationFailed):
            pricing.quote(tenant, None)
    session_id = fill_cart(store, tenant, ("PROD004", 5))
    store.set_stock("PROD004", 4)
    with store.db() as session, pytest.raises(InsufficientStock):
        pricing.quote(tenant, carts.find_cart(session, session_id))


def test_create_order_for_the_api_channel_takes_stock_at_final_prices(store, tenant):
    with store.db() as session:
        order = placement.create_order(
            session, tenant, [placement.OrderLine(store.product_id("PROD002"), 3), placement.OrderLine(store.product_id("PROD005"), 1)],
            channel=OrderChannel.API, contact=placement.OrderContact(email="b2b@example.com"), customer_id="c-1")
    assert re.fullmatch(r"ORD-\d{8}-\d{6}", order.number)
    assert (order.channel, order.status, order.customer_id, order.phone, order.payment_method) == (
        "api", "PENDING", "c-1", None, None)
    assert [(i.sku, i.unit_price, i.quantity, i.line_total) for i in order.items] == [
        ("PROD002", D("29.99"), 3, D("89.97")), ("PROD005", D("85.49"), 1, D("85.49"))]
    assert (order.subtotal, order.tax, order.shipping, order.total) == (D("175.46"), D("26.32"), D("0.00"),
                                                                        D("201.78"))
    assert (store.stock("PROD002"), store.stock("PROD005")) == (97, 39)


def test_create_order_can_record_stock_the_caller_already_took(store, tenant):
    with store.db() as session:
        placement.create_order(session, tenant, [placement.OrderLine(store.product_id("PROD002"), 3)],
                            channel=OrderChannel.API, contact=CONTACT, take_stock=False)
    assert store.stock("PROD002") == 100 and store.count(Order) == 1


def test_create_order_is_all_or_nothing(store, tenant):
    with pytest.raises(InsufficientStock), store.db() as session:
        placement.create_order(session, tenant, [placement.OrderLine(store.product_id("PROD001"), 1),
                                              placement.OrderLine(store.product_id("PROD004"), 26)],
                            channel=OrderChannel.API, contact=CONTACT)
    assert (store.stock("PROD001"), store.stock("PROD004")) == (50, 25)
    assert store.count(Order) == 0


def test_create_order_sums_the_lines_of_one_product(store, tenant):
    pid = store.product_id("PROD004")
    with pytest.raises(InsufficientStock), store.db() as session:
        placement.create_order(session, tenant, [placement.OrderLine(pid, 12), placement.OrderLine(pid, 14)],
                            channel=OrderChannel.API, contact=CONTACT)
    with store.db() as session:
        order = placement.create_order(session, tenant, [placement.OrderLine(pid, 12), placement.OrderLine(pid, 13)],
                                    channel=OrderChannel.API, contact=CONTACT)
    assert [i.quantity for i in order.items] == [12, 13] and store.stock("PROD004") == 0


def test_create_order_refuses_unknown_and_inactive_products_and_bad_input(store, tenant):
    store.set_product("PROD003", is_active=False)
    cases = [
        ([placement.OrderLine(str(uuid.uuid4()), 1)], {}, NotFound),
        ([placement.OrderLine(store.product_id("PROD003"), 1)], {}, InsufficientStock),
        ([], {}, ValidationFailed),
        ([placement.OrderLine(store.product_id("PROD001"), 0)], {}, ValidationFailed),
        ([placement.OrderLine(store.product_id("PROD001"), 1)], {"channel": "fax"}, ValidationFailed),
        ([placement.OrderLine(store.product_id("PROD001"), 1)],
         {"contact": placement.OrderContact(email="x@example.com", payment_method="Cash")}, ValidationFailed),
    ]
    for lines, overrides, error in cases:
        with pytest.raises(error), store.db() as session:
            placement.create_order(session, tenant, lines, **{"channel": OrderChannel.API, "contact": CONTACT, **overrides})
    assert store.count(Order) == 0 and store.stock("PROD001") == 50


def test_create_order_draws_another_number_when_one_is_taken(store, tenant, monkeypatch):
    drawn = iter([7, 7, 8])
    monkeypatch.setattr(placement.secrets, "randbelow", lambda _n: next(drawn))
    numbers = []
    for _ in range(2):
        with store.db() as session:
            numbers.append(placement.create_order(session, tenant, [placement.OrderLine(store.product_id("PROD002"), 1)],
                                               channel=OrderChannel.API, contact=CONTACT).number)
    assert [n[-6:] for n in numbers] == ["000007", "000008"]


def test_place_order_turns_the_cart_into_an_order_and_empties_it(store, tenant):
    session_id = fill_cart(store, tenant, ("PROD001", 2), ("PROD002", 1))
    with store.db() as session:
        order = placement.place_order(session, tenant, session_id, CONTACT, customer_id="c-9", idempotency_key="k-1")
    assert (order.channel, order.customer_id, order.idempotency_key) == ("storefront", "c-9", "k-1")
    assert [(i.sku, i.quantity, i.unit_price) for i in order.items] == [("PROD001", 2, D("71.99")),
                                                                       ("PROD002", 1, D("29.99"))]
    assert (store.stock("PROD001"), store.stock("PROD002")) == (48, 99)
    with store.db() as session:
        assert carts.find_cart(session, session_id).items == []
        # The same cart cannot be checked out twice.
        with pytest.raises(ValidationFailed, match="empty"):
            placement.place_order(session, tenant, session_id, CONTACT)


def test_place_order_respects_max_products_per_order(store, tenant):
    tenant.limit_overrides = {"maxProductsPerOrder": 1}
    session_id = fill_cart(store, tenant, ("PROD001", 1), ("PROD002", 1))
    with pytest.raises(ValidationFailed, match="maxProductsPerOrder"), store.db() as session:
        placement.place_order(session, tenant, session_id, CONTACT)
    assert store.count(Order) == 0


def test_cancel_order_gives_back_exactly_what_was_taken_once(store, tenant):
    pid1, pid4 = store.product_id("PROD001"), store.product_id("PROD004")
    with store.db() as session:
        order = placement.create_order(session, tenant, [placement.OrderLine(pid4, 2), placement.OrderLine(pid1, 3),
                                                      placement.OrderLine(pid4, 1)],
                                    channel=OrderChannel.STOREFRONT, contact=CONTACT)
    assert (store.stock("PROD001"), store.stock("PROD004")) == (47, 22)
    store.set_stock("PROD001", 40)  # sold elsewhere meanwhile: the release adds, it does not reset
    for _ in range(2):
        with store.db() as session:
            cancelled = lifecycle.cancel_order(session, queries.get_order(session, order.id))
        assert cancelled.status == OrderStatus.CANCELLED
        assert (store.stock("PROD001"), store.stock("PROD004")) == (43, 25)


def test_get_order_of_unknown_id_is_404(store):
    with store.db() as session, pytest.raises(NotFound):
        queries.get_order(session, str(uuid.uuid4()))


def test_cancel_order_refuses_an_order_in_another_state(store, tenant):
    with store.db() as session:
        order = placement.create_order(session, tenant, [placement.OrderLine(store.product_id("PROD002"), 1)],
                                    channel=OrderChannel.API, contact=CONTACT)
    with store.db() as session:
        session.get(Order, order.id).status = "SHIPPED"
    with pytest.raises(Conflict), store.db() as session:
        lifecycle.cancel_order(session, queries.get_order(session, order.id))
    assert store.stock("PROD002") == 99
    with store.db() as session:
        assert session.scalar(select(Order.status).where(Order.id == order.id)) == "SHIPPED"
