"""The super-admin portal in Chromium against a real gunicorn and a real rq worker process:
sign in, provision a store and watch it reach Ready, onboard a customer, issue credentials that
obtain a token, replenish a product that the inventory API then shows. Screenshots of each page
at 1280 and 375 px go to test-artifacts/screenshots/."""
from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD

pytestmark = pytest.mark.browser

SLUG = "e2e-shop"
WIDTHS = (1280, 375)


@pytest.fixture
def shots(screenshot):
    """shots(page, name): a screenshot at each width; at 375 px the page must not scroll sideways."""

    def take(page: Page, name: str) -> None:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            screenshot(page, f"{name}-{width}")
            if width < 800:
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})

    return take


def sign_in(page: Page, site) -> None:
    # gunicorn's workers load the app on their first request; under load that outlasts the
    # default navigation timeout, so the first page may take longer.
    page.goto(site.url(path="/admin/"), timeout=90_000)
    page.get_by_label("Email").fill(SUPERADMIN_EMAIL)
    page.get_by_label("Password").fill(SUPERADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Tenants")).to_be_visible()


def test_superadmin_provisions_onboards_issues_credentials_and_replenishes(site, web_app, rq_worker, redis_conn,
                                                                          page, browser, shots):
    rq_worker(web_app, "provisioning")
    sign_in(page, site)
    shots(page, "tenants")

    # Provision: the API's job runs in the worker; the page follows its steps until Ready.
    page.get_by_label("Slug").fill(SLUG)
    page.get_by_label("Store name").fill("E2E Shop")
    page.get_by_label("Plan").select_option("PREMIUM")
    page.get_by_role("button", name="Provision tenant").click()
    expect(page).to_have_url(re.compile(rf"/admin/tenants/{SLUG}$"))
    progress = page.locator("#tenant-progress")
    expect(progress).to_be_visible()
    shots(page, "provisioning-progress")
    expect(progress).to_have_attribute("data-status", "Ready", timeout=60_000)
    expect(progress.locator(".step .badge.Success")).to_have_count(3)
    expect(progress.get_by_role("button", name="Suspend store")).to_be_visible()
    shots(page, "tenant-detail")

    # The new store gets its admin here, who then signs in at the store's own /admin/.
    admins = page.locator("#admins")
    admins.get_by_label("Email").fill("owner@e2e-shop.example")
    admins.get_by_label("Password").fill("e2e-owner-password")
    admins.get_by_role("button", name="Add store admin").click()
    expect(page.locator("#admins")).to_contain_text("owner@e2e-shop.example")
    owner = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        store_page = owner.new_page()
        store_page.goto(site.url(SLUG, "/admin/"))
        store_page.get_by_label("Email").fill("owner@e2e-shop.example")
        store_page.get_by_label("Password").fill("e2e-owner-password")
        store_page.get_by_role("button", name="Sign in").click()
        expect(store_page).to_have_url(re.compile(r"/admin/dashboard$"))
        expect(store_page.get_by_role("link", name=re.compile("E2E Shop"))).to_be_visible()
    finally:
        owner.close()

    # Onboard a customer into the new store, then issue its credentials.
    page.get_by_role("link", name="Customer onboarding").click()
    page.get_by_label("Store", exact=True).select_option(SLUG)
    page.get_by_label("Company name").fill("Acme Industrial")
    page.get_by_label("Contact email").fill("not-an-email")
    page.get_by_label("Phone").fill("+44 20 7946 0958")
    page.get_by_role("button", name="Create customer").click()
    expect(page.locator("#contact_email-error")).to_contain_text("not a valid email address")
    shots(page, "onboarding-error")
    page.get_by_label("Contact email").fill("buyer@acme.example")
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", level=1, name="Acme Industrial")).to_be_visible()
    shots(page, "onboarding-customer")
    page.get_by_role("button", name="Issue API credentials").click()
    expect(page.get_by_role("heading", level=1, name="API credentials for Acme Industrial")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/credentials/[0-9a-f-]{36}$"))
    client_id = page.locator("#client-id").inner_text().strip()
    secret = page.locator("#client-secret").inner_text().strip()
    page.get_by_role("button", name="Copy client secret").click()
    expect(page.locator("#copy-status")).to_contain_text("client secret")
    shots(page, "credentials")
    # The POST was redirected: a refresh issues nothing and no longer shows the secret.
    page.reload()
    expect(page.locator("#secret-shown-once")).to_be_visible()
    expect(page.locator("#client-secret")).to_have_count(0)
    expect(page.locator("#client-id")).to_have_text(client_id)
    shots(page, "credentials-shown-once")

    token = httpx.post(site.url(path="/auth/token"), data={"grant_type": "client_credentials",
                                                           "client_id": client_id, "client_secret": secret})
    assert token.status_code == 200, token.text
    provisioned = httpx.get(site.url(path="/product-provisioner/provisioned-products"),
                            headers={"Authorization": f"Bearer {token.json()['access_token']}",
                                     "X-Tenant-Slug": SLUG})
    assert provisioned.status_code == 200, provisioned.text

    # Replenish: the search follows the typing (htmx), the page shows the new level at once.
    page.get_by_role("link", name="Replenishment").click()
    page.get_by_label("Store", exact=True).select_option(SLUG)
    expect(page.locator("#product-results tbody tr")).to_have_count(5)
    page.get_by_label("Name or SKU").press_sequentially("headph")
    rows = page.locator("#product-results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("PROD001")
    before = int(rows.locator(".quantity").inner_text())
    shots(page, "replenishment")
    rows.get_by_label(re.compile("Units to add")).fill("0")
    rows.get_by_role("button", name=re.compile("Add units")).click()
    expect(page.locator(".field-error")).to_have_text("Add at least 1 unit.")
    page.locator("#product-results tbody tr").get_by_label(re.compile("Units to add")).fill("7")
    page.locator("#product-results tbody tr").get_by_role("button", name=re.compile("Add units")).click()
    expect(page.locator(".flash")).to_contain_text(f"now {before + 7} (in stock)")
    expect(page.locator("tr.just-changed .quantity")).to_have_text(str(before + 7))
    shots(page, "replenished")
    level = httpx.get(site.url(path="/inventory/PROD001"), headers={"X-Tenant-Slug": SLUG})
    assert level.status_code == 200 and level.json()["quantity"] == before + 7

    # Without JavaScript the search is a plain GET form.
    plain = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        no_js = plain.new_page()
        sign_in(no_js, site)
        no_js.goto(site.url(path="/admin/replenish"))
        no_js.get_by_label("Store", exact=True).select_option(SLUG)
        no_js.get_by_label("Name or SKU").fill("prod002")
        no_js.get_by_role("button", name="Search").click()
        expect(no_js).to_have_url(re.compile(r"/admin/replenish\?store=e2e-shop&q=prod002"))
        expect(no_js.locator("#product-results tbody tr")).to_have_count(1)
        expect(no_js.locator("#product-results tbody tr")).to_contain_text("USB-C Charger")
    finally:
        plain.close()
