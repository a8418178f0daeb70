"""Signing in to the portals: the host decides the portal, only its own users get in, a new
session starts at sign-in, wrong passwords slow the guessing address down, signing out ends every
copy of the session and an idle one ends by itself, CSRF is enforced."""
from __future__ import annotations

import pytest

from core.auth import throttle
from tests.admin.conftest import STORE_ADMIN_PASSWORD
from tests.conftest import SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD
from tests.support.html import csrf_token


def test_superadmin_signs_in_on_the_platform_host_and_sees_the_tenants(client, sign_in, platform_host,
                                                                       create_tenant):
    slug = create_tenant(name="Listed Store")
    response = sign_in(platform_host)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/tenants"
    page = client.get("/admin/tenants", base_url=f"http://{platform_host}").get_data(as_text=True)
    assert "Listed Store" in page and slug in page and "Sign out" in page


def test_store_admin_signs_in_on_its_store(client, sign_in, shop_with_admin):
    response = sign_in(shop_with_admin.host, shop_with_admin.admin_email, STORE_ADMIN_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/dashboard"
    assert client.get("/admin/dashboard", base_url=f"http://{shop_with_admin.host}").status_code == 200


@pytest.mark.parametrize("who", ["superadmin-on-store", "other-store-admin", "store-admin-on-platform"])
def test_accounts_of_another_portal_are_refused_like_a_wrong_password(who, client, sign_in, shop_with_admin,
                                                                      create_tenant, create_store_admin,
                                                                      platform_host):
    if who == "superadmin-on-store":
        host, email, password = shop_with_admin.host, SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD
    elif who == "other-store-admin":
        host, email, password = shop_with_admin.host, create_store_admin(create_tenant()), STORE_ADMIN_PASSWORD
    else:
        host, email, password = platform_host, shop_with_admin.admin_email, STORE_ADMIN_PASSWORD
    response = sign_in(host, email, password)
    assert response.status_code == 401
    assert "Invalid email or password." in response.get_data(as_text=True)
    landing = "/admin/tenants" if host == platform_host else "/admin/dashboard"
    assert client.get(landing, base_url=f"http://{host}").status_code == 302


def test_wrong_password_shows_the_error_beside_the_field(sign_in, platform_host):
    response = sign_in(platform_host, SUPERADMIN_EMAIL, "not-the-password")
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert 'id="password-error"' in html and 'aria-describedby="password-error"' in html


def test_repeated_wrong_passwords_make_that_address_wait_beside_the_field(client, sign_in, platform_host):
    for _ in range(throttle.PAIR.free + 1):
        assert sign_in(platform_host, SUPERADMIN_EMAIL, "wrong-password").status_code == 401
    waiting = sign_in(platform_host)  # the right password, while the wait runs
    html = waiting.get_data(as_text=True)
    assert waiting.status_code == 429 and int(waiting.headers["Retry-After"]) >= 1
    assert 'id="password-error"' in html and "Too many sign-in attempts; try again in" in html
    # The owner, from another address, signs in at once.
    base = f"http://{platform_host}"
    page = client.get("/admin/login", base_url=base, environ_base={"REMOTE_ADDR": "198.51.100.20"})
    signed_in = client.post("/admin/login", base_url=base, environ_base={"REMOTE_ADDR": "198.51.100.20"},
                            data={"csrf_token": csrf_token(page.get_data(as_text=True)), "email": SUPERADMIN_EMAIL,
                                  "password": SUPERADMIN_PASSWORD})
    assert signed_in.status_code == 302


def test_sign_in_without_its_csrf_token_is_refused(client, platform_host):
    response = client.post("/admin/login", base_url=f"http://{platform_host}",
                           data={"email": SUPERADMIN_EMAIL, "password": SUPERADMIN_PASSWORD})
    assert response.status_code == 400
    after = client.get("/admin/tenants", base_url=f"http://{platform_host}")
    assert after.status_code == 302 and after.headers["Location"].startswith("/admin/login?next=")


def test_sign_in_starts_a_new_session(client, sign_in, platform_host):
    base = f"http://{platform_host}"
    before = csrf_token(client.get("/admin/login", base_url=base).get_data(as_text=True))
    cookie_before = client.get_cookie("session", domain=platform_host.split(":")[0])
    assert sign_in(platform_host).status_code == 302
    after = csrf_token(client.get("/admin/tenants", base_url=base).get_data(as_text=True))
    assert after != before
    assert client.get_cookie("session", domain=platform_host.split(":")[0]).value != cookie_before.value


@pytest.mark.parametrize("portal,path", [("platform", "/admin/"), ("platform", "/admin/tenants"),
                                         ("store", "/admin/"), ("store", "/admin/dashboard")])
def test_signed_out_pages_redirect_to_sign_in(portal, path, client, platform_host, shop_with_admin):
    host = platform_host if portal == "platform" else shop_with_admin.host
    response = client.get(path, base_url=f"http://{host}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


def test_htmx_requests_of_a_signed_out_visitor_are_sent_to_sign_in(client, platform_host):
    response = client.get("/admin/tenants", base_url=f"http://{platform_host}", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/admin/login?next=")


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(sign_in, platform_host):
    assert sign_in(platform_host, next="/admin/tenants?page=2").headers["Location"] == "/admin/tenants?page=2"


@pytest.mark.parametrize("target", ["http://evil.example/admin", "//evil.example/admin", "/elsewhere",
                                    "/admin/tenants\r\nSet-Cookie: taken=1", "/admin/ tenants",
                                    "/admin\\evil.example"])
def test_sign_in_ignores_a_next_outside_the_portal(target, sign_in, platform_host):
    assert sign_in(platform_host, next=target).headers["Location"] == "/admin/tenants"


def test_a_store_admin_session_carried_to_another_store_is_refused(client, sign_in, shop_with_admin, create_tenant,
                                                                   store_host):
    assert sign_in(shop_with_admin.host, shop_with_admin.admin_email, STORE_ADMIN_PASSWORD).status_code == 302
    other = store_host(create_tenant())
    cookie = client.get_cookie("session", domain=shop_with_admin.host.split(":")[0])
    client.set_cookie("session", cookie.value, domain=other.split(":")[0])
    response = client.get("/admin/dashboard", base_url=f"http://{other}")
    assert response.status_code == 403
    assert "cannot manage this site" in response.get_data(as_text=True)


def test_each_portal_answers_only_on_its_own_host(client, sign_in, platform_host, shop_with_admin):
    sign_in(platform_host)
    assert client.get("/admin/dashboard", base_url=f"http://{platform_host}").status_code == 404
    sign_in(shop_with_admin.host, shop_with_admin.admin_email, STORE_ADMIN_PASSWORD)
    assert client.get("/admin/tenants", base_url=f"http://{shop_with_admin.host}").status_code == 404


def test_sign_out_ends_the_session(client, sign_in, platform_host):
    base = f"http://{platform_host}"
    sign_in(platform_host)
    page = client.get("/admin/tenants", base_url=base).get_data(as_text=True)
    response = client.post("/admin/logout", base_url=base, data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    after = client.get("/admin/tenants", base_url=base)
    assert after.status_code == 302 and after.headers["Location"].startswith("/admin/login?next=")


def _session_cookie(client, host: str) -> str:
    return client.get_cookie("session", domain=host.split(":")[0]).value


def test_sign_out_ends_every_copy_of_the_session(app, client, sign_in, platform_host):
    """A copied cookie (another browser, a thief's) stops working once its owner signs out."""
    base = f"http://{platform_host}"
    sign_in(platform_host)
    copy = app.test_client()
    copy.set_cookie("session", _session_cookie(client, platform_host), domain=platform_host.split(":")[0])
    assert copy.get("/admin/tenants", base_url=base).status_code == 200
    page = client.get("/admin/tenants", base_url=base).get_data(as_text=True)
    client.post("/admin/logout", base_url=base, data={"csrf_token": csrf_token(page)})
    after = copy.get("/admin/tenants", base_url=base)
    assert after.status_code == 302 and after.headers["Location"].startswith("/admin/login?next=")
    # Signing in again starts a session that works.
    assert sign_in(platform_host).status_code == 302
    assert client.get("/admin/tenants", base_url=base).status_code == 200


def test_a_session_idle_for_longer_than_the_setting_is_signed_out(app, client, sign_in, platform_host):
    base = f"http://{platform_host}"
    sign_in(platform_host)
    assert client.get("/admin/tenants", base_url=base).status_code == 200
    with client.session_transaction(base_url=base) as session:
        session["_seen"] -= app.config["SESSION_IDLE_MINUTES"] * 60 - 30   # used just within the limit
    assert client.get("/admin/tenants", base_url=base).status_code == 200
    with client.session_transaction(base_url=base) as session:
        session["_seen"] -= app.config["SESSION_IDLE_MINUTES"] * 60 + 1    # idle past it
    after = client.get("/admin/tenants", base_url=base)
    assert after.status_code == 302 and after.headers["Location"].startswith("/admin/login?next=")


def test_sign_in_page_of_an_unknown_store_is_a_friendly_404(client, store_host):
    response = client.get("/admin/login", base_url=f"http://{store_host('no-such-store')}")
    assert response.status_code == 404 and "text/html" in response.content_type


def test_no_admin_path_belongs_to_both_portals(app):
    """Both portals live under /admin/ and the first rule of a path wins: a path defined by both
    would make one portal's page unreachable."""
    owners: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.partition(".")[0]
        if rule.rule.startswith("/admin") and blueprint in ("store_admin", "platform_admin"):
            owners.setdefault(rule.rule, set()).add(blueprint)
    assert {path: names for path, names in owners.items() if len(names) > 1} == {}
    assert any(names == {"store_admin"} for names in owners.values())
    assert any(names == {"platform_admin"} for names in owners.values())
