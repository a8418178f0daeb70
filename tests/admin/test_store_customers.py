"""Customers and API clients in the store admin: the customer list, issuing credentials (the
secret shown once, on the page the POST redirects to, and stored hashed) and revoking them (no
token, and old tokens refused)."""
from __future__ import annotations

import re

import jwt
import pytest

from admin.auth import SECRET_TO_SHOW_SECONDS
from core.auth.models import ApiClient
from core.extensions import db
from tests.support.store_admin import store_admin  # noqa: F401  (fixture)

SECRET = re.compile(r'<code id="issued-client-secret">([^<]+)</code>')
CLIENT_ID = re.compile(r'<code id="issued-client-id">([^<]+)</code>')


def issue(store_admin, **data):
    """POST the issue form: its answer, and that answer's HTML (the form again when refused)."""
    response = store_admin.post("/admin/api-clients", {"name": "Partner One", "role": "partner", **data})
    html = response.get_data(as_text=True)
    return response, html


def issued(store_admin, **data) -> str:
    """Issue credentials and follow the redirect: the HTML of the page that shows them."""
    response, _ = issue(store_admin, **data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return store_admin.get(response.headers["Location"]).get_data(as_text=True)


def session_of(store_admin) -> dict:
    """What the browser's session cookie of the store's host holds (it is signed, not encrypted)."""
    cookie = store_admin.client.get_cookie("session", domain=store_admin.host.split(":")[0])
    return store_admin.app.session_interface.get_signing_serializer(store_admin.app).loads(cookie.value)


def redis_of(store_admin):
    with store_admin.app.app_context():
        from core.queues import redis_client

        return redis_client()


def waiting_secrets(store_admin) -> list[bytes]:
    """The Redis keys of new secrets waiting for the page that shows them."""
    return list(redis_of(store_admin).scan_iter("storefleet:secret-to-show:*"))


def token_for(client, client_id: str, secret: str):
    return client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": client_id,
                                            "client_secret": secret})


def clients_of(store_admin) -> list[ApiClient]:
    with store_admin.app.app_context():
        return list(db.session.scalars(db.select(ApiClient).order_by(ApiClient.created_at)))


def test_customers_are_listed_newest_first_with_their_status(store_admin):
    store_admin.add_customer("Old Co")
    store_admin.add_customer("Gone Co", active=False)
    html = store_admin.get("/admin/customers").get_data(as_text=True)
    assert html.index("Gone Co") < html.index("Old Co")
    assert ">inactive<" in html and ">active<" in html and "2 customers" in html
    assert html.count("Issue credentials<span") == 1  # only an active customer may get credentials


def test_customers_without_any_say_how_they_arrive(store_admin):
    assert "partners provision them through the API" in store_admin.get("/admin/customers").get_data(as_text=True)


def test_issued_credentials_redirect_to_the_secret_shown_once_and_work(store_admin, client):
    before = set(waiting_secrets(store_admin))
    response, _ = issue(store_admin)
    cookie_after_post = session_of(store_admin)
    [waiting] = set(waiting_secrets(store_admin)) - before
    assert 0 < redis_of(store_admin).ttl(waiting) <= SECRET_TO_SHOW_SECONDS
    [stored] = clients_of(store_admin)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/api-clients/{stored.id}/credentials"
    shown = store_admin.get(response.headers["Location"])
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    html = shown.get_data(as_text=True)
    secret, client_id = SECRET.search(html).group(1), CLIENT_ID.search(html).group(1)
    assert "shown this once" in html
    assert (stored.client_id, stored.role, stored.name, stored.customer_id) == (client_id, "partner", "Partner One", None)
    assert secret not in stored.secret_hash and stored.secret_hash.startswith(("scrypt:", "pbkdf2:"))
    assert secret not in str(cookie_after_post)  # it waited server-side, never in the cookie
    assert waiting not in waiting_secrets(store_admin)  # and is gone from the server once shown

    # Refreshing the page issues nothing and no longer shows the secret.
    refreshed = store_admin.get(response.headers["Location"])
    assert refreshed.status_code == 200 and refreshed.headers["Cache-Control"] == "no-store"
    again = refreshed.get_data(as_text=True)
    assert secret not in again and not SECRET.search(again) and client_id in again
    assert 'id="secret-shown-once">The secret was shown once' in again
    assert [c.id for c in clients_of(store_admin)] == [stored.id]
    listing = store_admin.get("/admin/api-clients").get_data(as_text=True)
    assert secret not in listing and client_id in listing and not SECRET.search(listing)
    token = token_for(client, client_id, secret)
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}", "X-Tenant-Slug": store_admin.slug}
    assert client.get("/api/provisioning/customers", headers=headers).status_code == 200


def test_with_redis_unreachable_the_secret_is_shown_in_the_posts_answer(store_admin, tmp_path):
    """The secret waits for its page in Redis; without Redis it can only be shown at once."""
    from redis import Redis

    store_admin.app.extensions["storefleet.redis"] = Redis.from_url(f"unix://{tmp_path / 'no-redis.sock'}")
    response, html = issue(store_admin)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    [stored] = clients_of(store_admin)
    assert CLIENT_ID.search(html).group(1) == stored.client_id and SECRET.search(html)
    assert "secret_to_show" not in session_of(store_admin)


def test_a_customer_client_is_for_one_active_customer(store_admin, client):
    customer_id = store_admin.add_customer("Buyer Co")
    form = store_admin.get("/admin/api-clients", query_string={"customer": customer_id}).get_data(as_text=True)
    assert f'<option selected value="{customer_id}">Buyer Co' in form
    html = issued(store_admin, name="Buyer", role="customer", customer_id=customer_id)
    assert clients_of(store_admin)[0].customer_id == customer_id
    token = token_for(client, CLIENT_ID.search(html).group(1), SECRET.search(html).group(1)).get_json()
    assert jwt.decode(token["access_token"], options={"verify_signature": False})["customerId"] == customer_id


@pytest.mark.parametrize("case,status,message", [
    ("no-customer", 400, "A customer client needs the id of a customer of the store."),
    ("inactive-customer", 409, "This customer is inactive: activate it before issuing its credentials."),
    ("unknown-customer", 404, "No customer of this store has this id."),
])
def test_a_customer_client_without_an_active_customer_is_refused_beside_the_field(case, status, message, store_admin):
    customer = {"no-customer": "", "inactive-customer": store_admin.add_customer("Gone", active=False),
                "unknown-customer": "00000000-0000-0000-0000-000000000000"}[case]
    response, html = issue(store_admin, role="customer", customer_id=customer)
    assert response.status_code == status
    assert f'id="customer_id-error">{message}' in html
    assert clients_of(store_admin) == [] and not SECRET.search(html)


@pytest.mark.parametrize("data,field", [({"name": "  "}, "name"), ({"role": "superadmin"}, "role"),
                                        ({"name": "x" * 201}, "name")])
def test_invalid_credentials_requests_show_the_error_beside_the_field(data, field, store_admin):
    response, html = issue(store_admin, **data)
    assert response.status_code == 400 and f'aria-describedby="{field}-error"' in html
    assert clients_of(store_admin) == []


def test_a_partner_client_never_carries_a_customer(store_admin):
    customer_id = store_admin.add_customer()
    assert issue(store_admin, customer_id=customer_id)[0].status_code == 303
    assert clients_of(store_admin)[0].customer_id is None


def test_a_kept_secret_is_shown_only_on_its_own_clients_page(store_admin):
    issued(store_admin, name="Older")
    [older] = clients_of(store_admin)
    response, _ = issue(store_admin, name="Newer")
    assert not SECRET.search(store_admin.get(f"/admin/api-clients/{older.id}/credentials").get_data(as_text=True))
    assert SECRET.search(store_admin.get(response.headers["Location"]).get_data(as_text=True))


def test_revoked_credentials_get_no_token_and_their_tokens_stop_working(store_admin, client):
    html = issued(store_admin)
    client_id, secret = CLIENT_ID.search(html).group(1), SECRET.search(html).group(1)
    old_token = token_for(client, client_id, secret).get_json()["access_token"]
    [stored] = clients_of(store_admin)
    response = store_admin.post(f"/admin/api-clients/{stored.id}/revoke")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/api-clients"
    page = store_admin.get("/admin/api-clients").get_data(as_text=True)
    assert "was revoked; its tokens no longer work." in page and "revoked " in page
    assert f"/admin/api-clients/{stored.id}/revoke" not in page
    assert clients_of(store_admin)[0].revoked_at is not None

    refused = token_for(client, client_id, secret)
    assert refused.status_code == 401 and refused.get_json()["title"] == "Unauthorized"
    headers = {"Authorization": f"Bearer {old_token}", "X-Tenant-Slug": store_admin.slug}
    assert client.get("/api/provisioning/customers", headers=headers).status_code == 401


def test_revoking_twice_keeps_the_first_revocation(store_admin):
    issue(store_admin)
    [stored] = clients_of(store_admin)
    store_admin.post(f"/admin/api-clients/{stored.id}/revoke")
    first = clients_of(store_admin)[0].revoked_at
    assert store_admin.post(f"/admin/api-clients/{stored.id}/revoke").status_code == 303
    assert clients_of(store_admin)[0].revoked_at == first


def test_the_store_lists_only_its_own_clients(store_admin, create_tenant, app):
    from core.auth.services import create_api_client
    from core.tenancy.admin import get_tenant

    other = create_tenant()
    with app.app_context():
        create_api_client(get_tenant(other), "Not mine", "partner")
        db.session.commit()
    issue(store_admin, name="Mine")
    html = store_admin.get("/admin/api-clients").get_data(as_text=True)
    assert "Mine" in html and "Not mine" not in html
