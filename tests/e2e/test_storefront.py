"""The storefront in Debian's Chromium against a real gunicorn: browse, search, filter, add to
cart, change the quantity, check out (a field error, then a valid form), the confirmation; the
inventory API sees the stock that was bought; a double click places one order; and the same
purchase with JavaScript disabled. Screenshots of each page at 1280 and 375 px wide."""
from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from core.orders.models import Order

pytestmark = pytest.mark.browser

WIDTHS = (1280, 375)
ORDER_URL = re.compile(r"/orders/ORD-\d{8}-\d{6}$")


@pytest.fixture
def store(web_app, site):
    """A Ready PREMIUM store on the real server; its slug and a way to count its orders."""
    from core.tenancy.provisioning import create_tenant_directly

    with web_app.app_context():
        tenant = create_tenant_directly("e2e-shop", "Harbour Goods", "PREMIUM")
        db_url = tenant.db_url

    class Store:
        slug = tenant.slug

        @staticmethod
        def url(path: str = "/") -> str:
            return site.url(tenant.slug, path)

        @staticmethod
        def orders() -> int:
            engine = create_engine(db_url, poolclass=NullPool)
            try:
                with Session(engine) as session:
                    return session.scalar(select(func.count()).select_from(Order))
            finally:
                engine.dispose()

        @staticmethod
        def inventory(sku: str) -> int:
            response = httpx.get(f"{site.server.url}/inventory/{sku}", headers={"X-Tenant-Slug": tenant.slug},
                                 timeout=30)
            assert response.status_code == 200, response.text
            return response.json()["quantity"]

    return Store


@pytest.fixture
def shots(screenshot):
    """shots(page, name): a screenshot at each width, back at the first width afterwards."""

    def take(page, name: str) -> None:
        height = page.viewport_size["height"]
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": height})
            screenshot(page, f"{name}-{width}")
        page.set_viewport_size({"width": WIDTHS[0], "height": height})

    return take


def cards(page):
    return page.locator("#results .card")


def fill_checkout(page, email: str = "ada@example.com") -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Phone").fill("+44 20 7946 0958")
    page.get_by_label("Shipping address").fill("1 Analytical Row\nLondon")
    page.get_by_label("Credit card").check()


def test_shopper_browses_searches_filters_buys_and_the_stock_follows(page, store, shots):
    speaker_stock = store.inventory("PROD003")
    page.goto(store.url("/"))
    expect(page.get_by_role("link", name="Harbour Goods")).to_be_visible()
    expect(cards(page)).to_have_count(5)
    shots(page, "catalog")

    # search as you type: debounced, the URL follows, back and forward work
    page.get_by_role("searchbox", name="Search products").press_sequentially("head")
    expect(cards(page)).to_have_count(1)
    expect(cards(page).get_by_role("heading", name="Wireless Headphones")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]search=head"))
    shots(page, "catalog-search")
    page.go_back()
    expect(cards(page)).to_have_count(5)
    page.go_forward()
    expect(cards(page)).to_have_count(1)

    # filters: category, then a minimum price
    page.get_by_role("searchbox", name="Search products").fill("")
    expect(cards(page)).to_have_count(5)
    page.get_by_label("Category").select_option(label="Audio")
    expect(cards(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"[?&]category=[0-9a-f-]{36}"))
    page.get_by_label("Min price").fill("100")
    page.get_by_label("Min price").press("Tab")
    expect(cards(page)).to_have_count(1)
    expect(page).to_have_url(re.compile(r"[?&]min_price=100"))
    shots(page, "catalog-filtered")

    # product page: add to cart without a page load; too many is explained inline
    cards(page).get_by_role("link", name="Bluetooth Speaker").click()
    expect(page.get_by_role("heading", level=1, name="Bluetooth Speaker")).to_be_visible()
    expect(page.locator(".attributes")).to_contain_text("IP67")
    shots(page, "product")
    page.evaluate("window.samePage = true")
    page.get_by_label("Quantity").fill("3")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status")).to_contain_text("Added 3 × Bluetooth Speaker to your cart.")
    expect(page.locator("#cart-count")).to_have_text("3 items")
    page.get_by_label("Quantity").fill("100")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#quantity-error")).to_have_text("Only 30 of Bluetooth Speaker in stock; 103 requested.")
    assert page.evaluate("window.samePage") is True  # both answers were swapped in, no page load
    shots(page, "product-stock-error")

    # cart: a quantity typed and left (Tab), or stepped with the arrow keys, is saved in place
    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    page.evaluate("window.samePage = true")
    page.get_by_label("Quantity of Bluetooth Speaker").fill("1")
    page.get_by_label("Quantity of Bluetooth Speaker").press("Tab")
    expect(page.locator("#cart-subtotal")).to_have_text("$127.49")
    expect(page.locator("#cart-count")).to_have_text("1 item")
    # htmx gives focus back to the element Tab reached (Update) once it has swapped the cart in:
    # wait for that, so it does not take the focus back from the quantity while it is stepped.
    expect(page.get_by_role("button", name="Update")).to_be_focused()
    page.get_by_label("Quantity of Bluetooth Speaker").press("ArrowUp")
    expect(page.locator("#cart-subtotal")).to_have_text("$254.98")
    expect(page.locator("#cart-count")).to_have_text("2 items")
    assert page.evaluate("window.samePage") is True  # swapped in place, no page load
    shots(page, "cart")

    # checkout: a field error beside its field, then a valid form
    page.get_by_role("link", name="Checkout").click()
    expect(page.locator("#quote-total")).to_have_text("$293.23")  # 254.98 + 38.25 tax, free shipping
    fill_checkout(page, email="ada-at-example")
    shots(page, "checkout")
    page.get_by_role("button", name="Place order").click()
    expect(page.locator("#email-error")).to_have_text("Enter a valid email address, like name@example.com.")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    shots(page, "checkout-errors")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Place order").click()
    expect(page).to_have_url(ORDER_URL)
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    expect(page.locator("#order-total")).to_have_text("$293.23")
    expect(page.locator("#cart-count")).to_have_text("0 items")
    shots(page, "confirmation")

    assert store.inventory("PROD003") == speaker_stock - 2
    assert store.orders() == 1


def _cart_of_two_chargers(page, store) -> None:
    page.goto(store.url("/"))
    page.get_by_role("link", name="USB-C Charger").click()
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()


def test_double_click_on_place_order_makes_one_order(page, store):
    stock = store.inventory("PROD002")
    _cart_of_two_chargers(page, store)
    expect(page.locator("#cart-count")).to_have_text("2 items")
    page.goto(store.url("/checkout"))
    fill_checkout(page)
    page.get_by_role("button", name="Place order").dblclick()
    expect(page).to_have_url(ORDER_URL)
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    assert store.orders() == 1
    assert store.inventory("PROD002") == stock - 2


def test_a_purchase_with_javascript_disabled(browser, store, screenshot):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        stock = store.inventory("PROD002")
        page.goto(store.url("/"))
        page.get_by_role("searchbox", name="Search products").fill("charger")
        page.get_by_role("button", name="Apply filters").click()
        expect(page).to_have_url(re.compile(r"[?&]search=charger"))
        expect(cards(page)).to_have_count(1)
        screenshot(page, "nojs-catalog-375")
        page.get_by_role("link", name="USB-C Charger").click()
        page.get_by_label("Quantity").fill("0")
        page.get_by_role("button", name="Add to cart").click()
        expect(page.locator("#quantity-error")).to_have_text("Quantity must be a whole number of at least 1.")
        page.get_by_label("Quantity").fill("1")
        page.get_by_role("button", name="Add to cart").click()
        expect(page.get_by_role("status")).to_contain_text("Added 1 × USB-C Charger to your cart.")
        expect(page.locator("#cart-count")).to_have_text("1 item")
        screenshot(page, "nojs-product-375")
        page.get_by_role("link", name=re.compile(r"^Cart")).click()
        page.get_by_label("Quantity of USB-C Charger").fill("3")
        page.get_by_role("button", name="Update").click()
        expect(page.locator("#cart-subtotal")).to_have_text("$89.97")
        screenshot(page, "nojs-cart-375")
        page.get_by_role("link", name="Checkout").click()
        fill_checkout(page, email="")
        page.get_by_role("button", name="Place order").click()
        expect(page.locator("#email-error")).to_have_text("Enter your email address.")
        page.get_by_label("Email").fill("grace@example.com")
        # Without JavaScript nothing disables the button: both submissions reach the server.
        page.get_by_role("button", name="Place order").dblclick()
        expect(page).to_have_url(ORDER_URL)
        expect(page.locator("#order-total")).to_have_text("$113.47")  # 89.97 + 13.50 + 10.00
        screenshot(page, "nojs-confirmation-375")
        assert store.orders() == 1
        assert store.inventory("PROD002") == stock - 3
    finally:
        context.close()


def test_unknown_store_and_platform_landing_page(page, site, store, shots):
    page.goto(site.url("no-such-store", "/"))
    expect(page.get_by_role("heading", name="Not Found")).to_be_visible()
    shots(page, "unknown-store")
    page.goto(site.url(None, "/"))
    expect(page.get_by_role("link", name="Harbour Goods")).to_have_attribute("href", store.url("/"))
    expect(page.get_by_role("link", name="API documentation")).to_be_visible()
    shots(page, "landing")
