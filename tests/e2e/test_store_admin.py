"""The store admin in a real browser (Debian's Chromium) against gunicorn: sign in, edit a
product, replenish it inline, see a storefront order placed over the JSON API and cancel it,
which gives the stock back. Every page is photographed at 1280 and 375 px."""
from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.shop import place_order_body

pytestmark = pytest.mark.browser
PASSWORD = "browser-admin-password"
WIDTHS = (1280, 375)


@pytest.fixture
def browser_store(web_app):
    """A Ready store of web_app (PROD001–PROD005), its admin and one customer: (slug, admin's
    email, product ids by SKU)."""
    from sqlalchemy import select

    from core.auth.models import Role
    from core.auth.services import create_user
    from core.catalog.models import Product
    from core.customers.services import CustomerData, create_customer
    from core.extensions import db
    from core.tenancy.provisioning import create_tenant_directly
    from core.unit_of_work import own_transaction

    slug = f"b-{uuid.uuid4().hex[:8]}"
    email = f"owner@{slug}.example.com"
    with web_app.app_context():
        tenant = create_tenant_directly(slug, "Browser Store", "PREMIUM")
        create_user(email, PASSWORD, Role.STORE_ADMIN, tenant)
        db.session.commit()
        with own_transaction(tenant.db_url) as session:
            create_customer(session, tenant, CustomerData(name="Acme Corp", contact_email="buyer@acme.example.com",
                                                          phone="+442079460958"))
            ids = dict(session.execute(select(Product.sku, Product.id)).all())
    return slug, email, ids


def photograph(page, screenshot, name: str) -> None:
    """Full-page screenshots at each width; at 375 px the page must not scroll sideways (wide
    tables scroll inside their own box)."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"{name}-{width}")
        if width == 375:
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} scrolls sideways at 375 px by {overflow} px"
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def place_storefront_order(site, slug: str, product_id: str, quantity: int) -> dict:
    """A shopper's order over the JSON API: add to the cart, then place the order."""
    session_id, key = str(uuid.uuid4()), str(uuid.uuid4())
    headers = {"X-Tenant-Slug": slug, "X-Session-Id": session_id}
    with httpx.Client(base_url=site.url(path=""), timeout=15) as http:
        added = http.post("/api/cart/items", headers=headers, json={"productId": product_id, "quantity": quantity})
        assert added.status_code == 200, added.text
        placed = http.post("/api/checkout/place-order", headers={**headers, "Idempotency-Key": key},
                           json=place_order_body(key, email="shopper@example.com"))
        assert placed.status_code == 200, placed.text
        return placed.json()


def inventory(site, slug: str, sku: str) -> dict:
    response = httpx.get(site.url(path=f"/inventory/{sku}"), headers={"X-Tenant-Slug": slug}, timeout=15)
    assert response.status_code == 200, response.text
    return response.json()


def test_store_admin_edits_replenishes_and_cancels_an_order(page, site, browser_store, screenshot):
    slug, email, ids = browser_store
    admin = lambda path: site.url(slug, path)  # noqa: E731

    # Sign in.
    page.goto(admin("/admin/"))
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(admin("/admin/dashboard"))
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Revenue per day"))).to_be_visible()
    photograph(page, screenshot, "dashboard")

    # Edit a product.
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Products").click()
    expect(page.get_by_role("heading", name="Products", level=1)).to_be_visible()
    photograph(page, screenshot, "products")
    page.get_by_role("link", name="Bluetooth Speaker").click()
    expect(page.get_by_role("heading", name="Edit Bluetooth Speaker")).to_be_visible()
    photograph(page, screenshot, "product-form")
    page.get_by_label("Price", exact=True).fill("-1")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#price-error")).to_have_text(re.compile("price must be from 0"))
    page.get_by_label("Name", exact=True).fill("Bluetooth Speaker Pro")
    page.get_by_label("Price", exact=True).fill("200.00")
    page.get_by_label("Discount").fill("0.25")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").filter(has_text="was saved")).to_be_visible()
    assert inventory(site, slug, "PROD003")["price"] == 200.0

    # Replenish it inline from the products table: the cell shows the new quantity at once.
    page.goto(admin("/admin/products?q=speaker"))
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Bluetooth Speaker Pro"))
    expect(row.get_by_test_id("quantity")).to_have_text("30")
    row.get_by_label("Units to add to Bluetooth Speaker Pro").fill("0")
    row.get_by_role("button", name="Replenish Bluetooth Speaker Pro").click()
    expect(row.get_by_role("alert")).to_have_text("Quantity must be a positive integer.")
    row.get_by_label("Units to add to Bluetooth Speaker Pro").fill("12")
    row.get_by_role("button", name="Replenish Bluetooth Speaker Pro").click()
    expect(row.get_by_test_id("quantity")).to_have_text("42")
    expect(row.get_by_role("status")).to_have_text("Added 12 units: 30 → 42.")
    assert inventory(site, slug, "PROD003")["quantity"] == 42

    # A shopper orders 2 over the JSON API; the admin sees the storefront order and cancels it.
    order = place_storefront_order(site, slug, ids["PROD003"], 2)
    assert inventory(site, slug, "PROD003")["quantity"] == 40
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Orders").click()
    order_row = page.get_by_role("row").filter(has_text=order["orderNumber"])
    expect(order_row).to_contain_text("storefront")
    expect(order_row).to_contain_text("pending")
    photograph(page, screenshot, "orders")
    page.get_by_label("Channel").select_option("api")
    expect(page.get_by_text("No orders match these filters.")).to_be_visible()
    page.get_by_label("Channel").select_option("storefront")
    page.get_by_role("link", name=order["orderNumber"]).click()
    expect(page.get_by_role("heading", name=re.compile(order["orderNumber"]))).to_be_visible()
    expect(page.get_by_role("rowheader", name="Bluetooth Speaker Pro PROD003")).to_be_visible()
    photograph(page, screenshot, "order-detail")
    page.get_by_role("button", name="Cancel this order").click()
    expect(page.locator("#order-status")).to_have_text("cancelled")
    expect(page.get_by_role("status").filter(has_text="its stock was given back")).to_be_visible()
    assert inventory(site, slug, "PROD003")["quantity"] == 42

    # The Status filter works in place, and keeps its choice in the address and after a reload.
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Orders").click()
    page.get_by_label("Status").select_option("PENDING")
    expect(page.get_by_text("No orders match these filters.")).to_be_visible()
    page.get_by_label("Status").select_option("CANCELLED")
    expect(page.get_by_role("row").filter(has_text=order["orderNumber"])).to_contain_text("cancelled")
    expect(page).to_have_url(re.compile(r"[?&]status=CANCELLED"))
    page.reload()
    expect(page.get_by_label("Status")).to_have_value("CANCELLED")
    expect(page.get_by_role("row").filter(has_text=order["orderNumber"])).to_contain_text("cancelled")

    # Customers and API clients.
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Customers").click()
    expect(page.get_by_role("rowheader", name=re.compile("Acme Corp"))).to_be_visible()
    photograph(page, screenshot, "customers")
    page.get_by_role("link", name="Issue credentials for Acme Corp").click()
    expect(page.get_by_label("Role")).to_have_value("customer")
    page.get_by_label("Name", exact=True).fill("Acme buying bot")
    page.get_by_role("button", name="Issue credentials").click()
    expect(page).to_have_url(re.compile(r"/admin/api-clients/[0-9a-f-]{36}/credentials$"))
    expect(page.locator("#issued-client-secret")).to_be_visible()
    photograph(page, screenshot, "api-clients")
    # The POST was redirected: a refresh issues nothing and no longer shows the secret.
    page.reload()
    expect(page.locator("#secret-shown-once")).to_be_visible()
    expect(page.locator("#issued-client-secret")).to_have_count(0)
    expect(page.get_by_role("rowheader", name="Acme buying bot")).to_have_count(1)
    photograph(page, screenshot, "api-clients-shown-once")
    page.goto(admin("/admin/api-clients"))
    expect(page.get_by_role("rowheader", name="Acme buying bot")).to_be_visible()
    expect(page.locator("#issued-client-secret")).to_have_count(0)

    # Back on the dashboard after one more order: the cancelled one counts as an order, not as revenue.
    kept = place_storefront_order(site, slug, ids["PROD001"], 1)
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Dashboard").click()
    expect(page.locator("#orders-total")).to_have_text("2")
    expect(page.locator("#revenue-total")).to_have_text(f"${kept['total']:,.2f}")
    photograph(page, screenshot, "dashboard-after-orders")
