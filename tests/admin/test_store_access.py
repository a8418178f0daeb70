"""Who may use the store-admin pages: every route listed once, then each guard over all of them
(signed out, another store's admin, the platform host, no CSRF token, another store's ids)."""
from __future__ import annotations

import uuid

import pytest

from tests.admin.conftest import STORE_ADMIN_PASSWORD
from tests.support.html import csrf_token
from tests.support.store_admin import other_store, store_admin  # noqa: F401  (fixtures)

ANY_ID = str(uuid.uuid4())
# Every store-admin route, once: (method, path).
ROUTES = [
    ("GET", "/admin/dashboard"),
    ("GET", "/admin/products"),
    ("GET", "/admin/products/new"),
    ("POST", "/admin/products/new"),
    ("GET", f"/admin/products/{ANY_ID}"),
    ("POST", f"/admin/products/{ANY_ID}"),
    ("POST", f"/admin/products/{ANY_ID}/replenish"),
    ("GET", "/admin/orders"),
    ("GET", f"/admin/orders/{ANY_ID}"),
    ("POST", f"/admin/orders/{ANY_ID}/cancel"),
    ("GET", "/admin/customers"),
    ("GET", "/admin/api-clients"),
    ("POST", "/admin/api-clients"),
    ("GET", f"/admin/api-clients/{ANY_ID}/credentials"),
    ("POST", f"/admin/api-clients/{ANY_ID}/revoke"),
]
POST_ROUTES = [path for method, path in ROUTES if method == "POST"]


def test_the_route_list_covers_every_store_admin_route(app):
    rules = {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("store_admin.")
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    listed = {(method, path.replace(ANY_ID, "<id>")) for method, path in ROUTES}
    normalised = {(method, rule.replace("<product_id>", "<id>").replace("<order_id>", "<id>")
                   .replace("<client_pk>", "<id>")) for method, rule in rules}
    assert normalised == listed


def _request(client, method: str, path: str, host: str, token: str | None = None):
    if method == "GET":
        return client.get(path, base_url=f"http://{host}")
    return client.post(path, base_url=f"http://{host}", data={"csrf_token": token} if token else {})


@pytest.mark.parametrize("method,path", ROUTES)
def test_signed_out_visitors_are_sent_to_sign_in(method, path, client, shop_with_admin):
    token = csrf_token(client.get("/admin/login", base_url=f"http://{shop_with_admin.host}").get_data(as_text=True))
    response = _request(client, method, path, shop_with_admin.host, token)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


@pytest.mark.parametrize("method,path", ROUTES)
def test_an_admin_of_another_store_is_refused(method, path, client, sign_in, shop_with_admin, other_store):
    assert sign_in(shop_with_admin.host, shop_with_admin.admin_email, STORE_ADMIN_PASSWORD).status_code == 302
    token = csrf_token(client.get("/admin/dashboard", base_url=f"http://{shop_with_admin.host}").get_data(as_text=True))
    # The browser's session cookie of store A, presented on store B's host.
    cookie = client.get_cookie("session", domain=shop_with_admin.host.split(":")[0])
    client.set_cookie("session", cookie.value, domain=other_store.admin.host.split(":")[0])
    response = _request(client, method, path.replace(ANY_ID, other_store.product_id), other_store.admin.host, token)
    assert response.status_code == 403
    assert "cannot manage this site" in response.get_data(as_text=True)


@pytest.mark.parametrize("method,path", ROUTES)
def test_the_store_pages_do_not_exist_on_the_platform_host(method, path, client, sign_in, platform_host):
    assert sign_in(platform_host).status_code == 302
    token = csrf_token(client.get("/admin/tenants", base_url=f"http://{platform_host}").get_data(as_text=True))
    assert _request(client, method, path, platform_host, token).status_code == 404


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(path, store_admin):
    product = store_admin.product("PROD001")
    order_id = store_admin.place_order(("PROD001", 2))
    created = store_admin.post("/admin/api-clients", {"name": "Keep me", "role": "partner"})
    assert created.status_code == 303
    client_pk = store_admin_client_pk(store_admin, "Keep me")
    target = (path.replace(f"/admin/products/{ANY_ID}", f"/admin/products/{product.id}")
              .replace(f"/admin/orders/{ANY_ID}", f"/admin/orders/{order_id}")
              .replace(f"/admin/api-clients/{ANY_ID}", f"/admin/api-clients/{client_pk}"))
    data = {"quantity": "5", "name": "Changed", "price": "1.00", "discount": "0", "low_stock_threshold": "1",
            "sku": "NEW-1", "role": "partner"}
    for token in (None, "not-the-token"):
        body = dict(data, csrf_token=token) if token else data
        response = store_admin.post(target, body, csrf=False)
        assert response.status_code == 400
        assert "CSRF" in response.get_data(as_text=True)
    after = store_admin.product("PROD001")
    assert (after.name, after.stock, after.price) == (product.name, 48, product.price)
    assert store_admin.product("NEW-1") is None
    assert store_admin.order(order_id).status == "PENDING"
    from core.auth.models import ApiClient
    from core.extensions import db

    with store_admin.app.app_context():
        clients = db.session.scalars(db.select(ApiClient).filter_by(name="Keep me")).all()
        assert [c.revoked_at for c in clients] == [None]
        assert db.session.scalar(db.select(ApiClient).filter_by(name="Changed")) is None


def store_admin_client_pk(store_admin, name: str) -> str:
    from core.auth.models import ApiClient
    from core.extensions import db

    with store_admin.app.app_context():
        return db.session.scalar(db.select(ApiClient.id).filter_by(name=name))


@pytest.mark.parametrize("method,path", [
    ("GET", "/admin/products/{product}"),
    ("POST", "/admin/products/{product}"),
    ("POST", "/admin/products/{product}/replenish"),
    ("GET", "/admin/orders/{order}"),
    ("POST", "/admin/orders/{order}/cancel"),
    ("GET", "/admin/api-clients/{client}/credentials"),
    ("POST", "/admin/api-clients/{client}/revoke"),
])
def test_ids_of_another_store_are_not_found_and_untouched(method, path, store_admin, other_store):
    target = path.format(product=other_store.product_id, order=other_store.order_id, client=other_store.client_pk)
    response = store_admin.get(target) if method == "GET" else store_admin.post(
        target, {"quantity": "5", "name": "Hijacked", "price": "1.00", "discount": "0", "low_stock_threshold": "1"})
    assert response.status_code == 404
    assert "text/html" in response.content_type
    other = other_store.admin.product("PROD002")
    assert (other.name, other.stock) == ("USB-C Charger", 99)
    assert other_store.admin.order(other_store.order_id).status == "PENDING"
    from core.auth.models import ApiClient
    from core.extensions import db

    with store_admin.app.app_context():
        assert db.session.get(ApiClient, other_store.client_pk).revoked_at is None


@pytest.mark.parametrize("path", ["/admin/products/not-a-uuid", "/admin/orders/not-a-uuid"])
def test_malformed_ids_are_not_found(path, store_admin):
    assert store_admin.get(path).status_code == 404


def test_the_portal_navigation_marks_the_current_page(store_admin):
    html = store_admin.get("/admin/orders").get_data(as_text=True)
    assert '<a href="/admin/orders" aria-current="page">Orders</a>' in html
    for label, path in [("Dashboard", "/admin/dashboard"), ("Products", "/admin/products"),
                        ("Customers", "/admin/customers"), ("API clients", "/admin/api-clients")]:
        assert f'<a href="{path}">{label}</a>' in html
