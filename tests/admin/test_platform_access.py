"""Who may use the super-admin portal: every route, listed once, sends a signed-out visitor to
sign in and refuses a store admin; every form refuses a POST without its CSRF token and changes
nothing."""
from __future__ import annotations

import pytest

from tests.admin.conftest import STORE_ADMIN_PASSWORD
from tests.support.html import csrf_token
from tests.support.platform_admin import portal  # noqa: F401

SLUG = "guarded-store"
CUSTOMER = "00000000-0000-4000-8000-000000000000"
CLIENT = "00000000-0000-4000-8000-000000000001"
# Every route of the platform_admin blueprint, once (a test below checks nothing is missing).
ROUTES = [
    ("GET", "/admin/tenants"),
    ("POST", "/admin/tenants"),
    ("GET", f"/admin/tenants/{SLUG}"),
    ("POST", f"/admin/tenants/{SLUG}/repair"),
    ("POST", f"/admin/tenants/{SLUG}/status"),
    ("POST", f"/admin/tenants/{SLUG}/plan"),
    ("POST", f"/admin/tenants/{SLUG}/overrides"),
    ("POST", f"/admin/tenants/{SLUG}/admins"),
    ("GET", "/admin/onboarding"),
    ("POST", "/admin/onboarding"),
    ("GET", f"/admin/onboarding/{SLUG}/{CUSTOMER}"),
    ("POST", f"/admin/onboarding/{SLUG}/{CUSTOMER}/credentials"),
    ("GET", f"/admin/onboarding/{SLUG}/{CUSTOMER}/credentials/{CLIENT}"),
    ("GET", "/admin/replenish"),
    ("POST", "/admin/replenish"),
]


def test_every_platform_route_is_listed_here(app):
    rules = {(method, rule.rule.replace("<slug>", SLUG).replace("<customer_id>", CUSTOMER)
              .replace("<client_pk>", CLIENT))
             for rule in app.url_map.iter_rules() if rule.endpoint.startswith("platform_admin.")
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert rules == set(ROUTES)


@pytest.mark.parametrize("method,path", ROUTES)
def test_signed_out_visitors_are_sent_to_sign_in(client, platform_host, method, path):
    base = f"http://{platform_host}"
    token = csrf_token(client.get("/admin/login", base_url=base).get_data(as_text=True))
    response = client.open(path, method=method, base_url=base, data={"csrf_token": token} if method == "POST" else None)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


@pytest.mark.parametrize("method,path", ROUTES)
def test_a_store_admins_session_cannot_use_the_platform_portal(client, sign_in, shop_with_admin, platform_host,
                                                              method, path):
    assert sign_in(shop_with_admin.host, shop_with_admin.admin_email, STORE_ADMIN_PASSWORD).status_code == 302
    page = client.get("/admin/dashboard", base_url=f"http://{shop_with_admin.host}").get_data(as_text=True)
    cookie = client.get_cookie("session", domain=shop_with_admin.host.split(":")[0])
    client.set_cookie("session", cookie.value, domain=platform_host.split(":")[0])
    response = client.open(path, method=method, base_url=f"http://{platform_host}",
                           data={"csrf_token": csrf_token(page)} if method == "POST" else None)
    assert response.status_code == 403
    assert "cannot manage this site" in response.get_data(as_text=True)


def test_the_platform_portal_is_not_on_a_stores_host(portal, shop_with_admin):
    response = portal.client.get("/admin/onboarding", base_url=f"http://{shop_with_admin.host}")
    assert response.status_code == 404


def _tenant(app, slug):
    from core.tenancy.admin import get_tenant

    with app.app_context():
        tenant = get_tenant(slug)
        return tenant.status, tenant.plan_code, dict(tenant.feature_overrides), len(tenant.steps)


@pytest.mark.parametrize("path,data", [
    ("/admin/tenants", {"slug": "csrf-less", "name": "No token", "plan": "BASIC"}),
    ("/admin/tenants/{slug}/status", {"status": "Suspended"}),
    ("/admin/tenants/{slug}/plan", {"plan_code": "BASIC"}),
    ("/admin/tenants/{slug}/overrides", {"feature_push": "on"}),
    ("/admin/tenants/{slug}/admins", {"admin_email": "sneaky@example.com", "admin_password": "long-enough-pw"}),
    ("/admin/tenants/{slug}/repair", {}),
    ("/admin/onboarding", {"store": "{slug}", "name": "Sneaky", "contact_email": "sneaky@example.com"}),
    ("/admin/replenish", {"store": "{slug}", "product": "PROD001", "quantity": "5"}),
])
def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(portal, app, create_tenant, tenant_db,
                                                                      redis_conn, path, data):
    from sqlalchemy import func, select

    from core.auth.models import User
    from core.catalog.models import Product
    from core.customers.models import Customer

    slug = create_tenant(plan_code="PREMIUM")

    def snapshot():
        with app.app_context():
            from core.extensions import db
            from core.tenancy.models import Tenant

            control = (db.session.scalar(select(func.count()).select_from(Tenant)),
                       db.session.scalar(select(func.count()).select_from(User)), _tenant(app, slug))
        with tenant_db(slug) as session:
            store = (session.scalar(select(func.count()).select_from(Customer)),
                     session.scalar(select(Product.stock).filter_by(sku="PROD001")))
        return control, store

    before = snapshot()
    body = {key: value.replace("{slug}", slug) for key, value in data.items()}
    response = portal.post(path.replace("{slug}", slug), body, csrf=False)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_csrf_token_of_another_session_is_refused(portal, app, create_tenant):
    slug = create_tenant()
    other = app.test_client()
    foreign = csrf_token(other.get("/admin/login", base_url=portal.base).get_data(as_text=True))
    response = portal.client.post(f"/admin/tenants/{slug}/status", base_url=portal.base,
                                  data={"csrf_token": foreign, "status": "Suspended"})
    assert response.status_code == 400
    assert _tenant(app, slug)[0] == "Ready"
