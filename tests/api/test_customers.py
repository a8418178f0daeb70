"""Partner customer provisioning: /api/provisioning/customers."""
from __future__ import annotations

import pytest

BASE = "/api/provisioning/customers"
VALID = {"name": "Acme Corp", "address": "1 Road, Town", "contactEmail": "Buyer@Acme.example.com",
         "phone": "+44 20 7946 0958", "externalRef": "CRM-1"}


def create(client, store, **overrides):
    return client.post(BASE, headers=store.partner, json={**VALID, **overrides})


@pytest.fixture
def customers_of(tenant_db):
    """Factory: a store's customer rows as {contactEmail: (name, phone, status)}."""

    def factory(slug: str) -> dict[str, tuple]:
        from sqlalchemy import select

        from core.customers.models import Customer

        with tenant_db(slug) as session:
            return {c.contact_email: (c.name, c.phone, c.status) for c in session.scalars(select(Customer))}

    return factory


@pytest.fixture
def api_clients_of(app):
    """Factory: a store's API clients as [(role, customer id, revoked)], oldest first."""

    def factory(slug: str) -> list[tuple]:
        from core.auth.models import ApiClient
        from core.extensions import db
        from core.tenancy.admin import get_tenant

        with app.app_context():
            query = db.select(ApiClient).filter_by(tenant_id=get_tenant(slug).id).order_by(ApiClient.created_at)
            return [(c.role, c.customer_id, c.revoked_at is not None) for c in db.session.scalars(query)]

    return factory


ACME = {"buyer@acme.example.com": ("Acme Corp", "+442079460958", "active")}


def test_create_customer_returns_201_with_normalized_fields(client, store, customers_of):
    response = create(client, store)
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "Acme Corp" and body["contactEmail"] == "buyer@acme.example.com"
    assert body["phone"] == "+442079460958" and body["externalRef"] == "CRM-1" and body["status"] == "active"
    assert body["createdAt"].endswith("Z") and body["id"]
    assert customers_of(store.slug) == ACME
    assert client.get(f"{BASE}/{body['id']}", headers=store.partner).get_json() == body


def test_phone_follows_the_rule_orders_keep(client, store):
    """One phone rule (core.validation.normalize_phone) for customers and orders: the contract's
    own example, one digit short of a North American number, is accepted in E.164."""
    response = create(client, store, phone="+1234567890")
    assert response.status_code == 201 and response.get_json()["phone"] == "+1234567890"


def test_create_minimal_customer(client, store, customers_of):
    response = create(client, store, address=None, phone=None, externalRef=None)
    assert response.status_code == 201 and response.get_json()["phone"] is None
    assert (response.get_json()["address"], response.get_json()["externalRef"]) == (None, None)
    assert customers_of(store.slug) == {"buyer@acme.example.com": ("Acme Corp", None, "active")}


@pytest.mark.parametrize("overrides,fields", [
    ({"name": ""}, {"name"}),
    ({"contactEmail": "nope"}, {"contactEmail"}),
    ({"phone": "020 7946 0958"}, {"phone"}),
    ({"phone": "+1 23"}, {"phone"}),
    ({"name": "", "contactEmail": "x"}, {"name", "contactEmail"}),
])
def test_create_validation_names_each_bad_field(client, store, customers_of, overrides, fields):
    response = create(client, store, **overrides)
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == fields
    assert customers_of(store.slug) == {}


def test_create_missing_required_fields(client, store, customers_of):
    response = client.post(BASE, headers=store.partner, json={})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"name", "contactEmail"}
    assert customers_of(store.slug) == {}


def test_duplicate_contact_email_is_409(client, store, customers_of):
    assert create(client, store).status_code == 201
    duplicate = create(client, store, name="Impostor", contactEmail="buyer@ACME.example.com")
    assert duplicate.status_code == 409
    assert duplicate.mimetype == "application/problem+json"
    assert customers_of(store.slug) == ACME


def test_get_put_patch_delete(client, store, customers_of):
    customer = create(client, store).get_json()
    url = f"{BASE}/{customer['id']}"
    assert client.get(url, headers=store.partner).get_json() == customer

    replaced = client.put(url, headers=store.partner, json={"name": "Acme Ltd", "contactEmail": "ops@acme.example.com"})
    assert replaced.status_code == 200
    body = replaced.get_json()
    assert body["name"] == "Acme Ltd" and body["phone"] is None and body["address"] is None
    assert customers_of(store.slug) == {"ops@acme.example.com": ("Acme Ltd", None, "active")}

    patched = client.patch(url, headers=store.partner, json={"phone": "+1 415 555 0100"}).get_json()
    assert patched["phone"] == "+14155550100" and patched["name"] == "Acme Ltd"
    assert customers_of(store.slug) == {"ops@acme.example.com": ("Acme Ltd", "+14155550100", "active")}

    deactivated = client.patch(url, headers=store.partner, json={"status": "inactive"}).get_json()
    assert deactivated["status"] == "inactive"
    assert customers_of(store.slug) == {"ops@acme.example.com": ("Acme Ltd", "+14155550100", "inactive")}

    assert client.delete(url, headers=store.partner).status_code == 204
    for method in ("get", "put", "patch", "delete"):
        response = getattr(client, method)(url, headers=store.partner, json=VALID if method in ("put", "patch") else None)
        assert response.status_code == 404, method
    assert client.get(BASE, headers=store.partner).get_json()["totalCount"] == 0


def test_delete_erases_the_personal_data_keeps_the_orders_and_frees_the_email(
        client, store, customers_of, tenant_db, run_jobs):
    """The seed's "Delete a customer": gone to the API, its contact email free again, its
    personal data gone from the store's database — its orders' copies too — while its orders
    and purchases stay."""
    from sqlalchemy import select, text

    from core.orders.models import Order
    from core.purchases.models import Purchase

    customer = create(client, store, address="1 Main St, Springfield", externalRef="ERP-7").get_json()
    headers = store.headers_for("customer", customer["id"])
    bought = client.post("/purchase-gateway/purchases", headers=headers,
                         json={"products": [{"id": "PROD001", "quantity": 2}]})
    assert bought.status_code == 200
    run_jobs()
    assert client.delete(f"{BASE}/{customer['id']}", headers=store.partner).status_code == 204

    with tenant_db(store.slug) as session:
        [order] = session.scalars(select(Order)).all()
        [purchase] = session.scalars(select(Purchase)).all()
        assert order.customer_id == customer["id"] and purchase.customer_id == customer["id"]
        assert order.total > 0 and [item.quantity for item in order.items] == [2]
        assert (order.phone, order.shipping_address) == (None, None) and "acme" not in order.email
        dump = " ".join(str(value) for table in ("customers", "orders") for row in
                        session.execute(text(f"SELECT * FROM {table}")).all() for value in row)
    for personal in ("Acme", "buyer@acme.example.com", "+442079460958", "Main St", "ERP-7"):
        assert personal not in dump, personal
    again = create(client, store)
    assert again.status_code == 201 and again.get_json()["id"] != customer["id"]
    rows = customers_of(store.slug)
    assert {email: row for email, row in rows.items() if row[2] != "deleted"} == ACME
    assert [row for row in rows.values() if row[2] == "deleted"] == [("Deleted customer", None, "deleted")]


def test_put_validates_like_create(client, store, customers_of):
    customer = create(client, store).get_json()
    response = client.put(f"{BASE}/{customer['id']}", headers=store.partner, json={"name": "X"})
    assert response.status_code == 400 and "contactEmail" in response.get_json()["errors"]
    assert customers_of(store.slug) == ACME


def test_patch_cannot_null_required_field(client, store, customers_of):
    customer = create(client, store).get_json()
    response = client.patch(f"{BASE}/{customer['id']}", headers=store.partner, json={"name": None})
    assert response.status_code == 400 and "name" in response.get_json()["errors"]
    assert customers_of(store.slug) == ACME


def test_patch_to_taken_email_is_409(client, store, customers_of):
    assert create(client, store).status_code == 201
    other = create(client, store, contactEmail="other@acme.example.com").get_json()
    response = client.patch(f"{BASE}/{other['id']}", headers=store.partner,
                            json={"contactEmail": "buyer@acme.example.com", "name": "Renamed"})
    assert response.status_code == 409
    assert customers_of(store.slug) == {**ACME, "other@acme.example.com": ("Acme Corp", "+442079460958", "active")}
    assert client.get(f"{BASE}/{other['id']}", headers=store.partner).get_json() == other


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_unknown_customer_is_404(client, store, customers_of, method):
    response = getattr(client, method)(f"{BASE}/00000000-0000-4000-8000-000000000000", headers=store.partner,
                                       json=VALID if method in ("put", "patch") else None)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert customers_of(store.slug) == {}  # a PUT to an unknown id creates nothing


def test_list_is_paginated(client, store):
    for i in range(3):
        create(client, store, contactEmail=f"c{i}@acme.example.com")
    page = client.get(f"{BASE}?page=2&pageSize=2", headers=store.partner).get_json()
    assert page["totalCount"] == 3 and page["totalPages"] == 2 and len(page["items"]) == 1
    assert client.get(f"{BASE}?pageSize=101", headers=store.partner).status_code == 400


def test_delete_revokes_customer_credentials(client, store, api_clients_of):
    customer = create(client, store).get_json()
    creds = store.credentials("customer", customer["id"])
    token = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                              "client_secret": creds["clientSecret"]})
    assert token.status_code == 200
    assert api_clients_of(store.slug) == [("partner", None, False), ("customer", customer["id"], False)]
    assert client.delete(f"{BASE}/{customer['id']}", headers=store.partner).status_code == 204
    assert api_clients_of(store.slug) == [("partner", None, False), ("customer", customer["id"], True)]
    again = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                              "client_secret": creds["clientSecret"]})
    assert again.status_code == 401
    # The token issued before the delete stops working too.
    bearer = {"Authorization": f"Bearer {token.get_json()['access_token']}", "X-Tenant-Slug": store.slug}
    assert client.get("/product-provisioner/provisioned-products", headers=bearer).status_code == 401


def test_a_deactivated_customer_buys_nothing_and_its_tokens_stop_at_once(client, store, superadmin_headers,
                                                                          api_clients_of, tenant_db):
    """PATCH status inactive revokes the customer's clients: the token it holds is refused at once
    (401), its credentials get no new token, and the domain refuses it any purchase (403) whatever
    token it might hold. Reactivated, it buys again with new credentials."""
    from core.customers.services import require_customer_may_buy
    from core.errors import Forbidden

    customer = create(client, store).get_json()
    creds = store.credentials("customer", customer["id"])
    token = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                              "client_secret": creds["clientSecret"]}).get_json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}", "X-Tenant-Slug": store.slug}
    assert client.get("/product-provisioner/provisioned-products", headers=bearer).status_code == 200
    assert client.patch(f"{BASE}/{customer['id']}", headers=store.partner,
                        json={"status": "inactive"}).status_code == 200
    assert api_clients_of(store.slug)[-1] == ("customer", customer["id"], True)
    purchase = client.post("/purchase-gateway/purchases", headers=bearer,
                           json={"products": [{"id": "PROD001", "quantity": 1}]})
    assert purchase.status_code == 401
    again = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                              "client_secret": creds["clientSecret"]})
    assert again.status_code == 401
    with tenant_db(store.slug) as session, pytest.raises(Forbidden):
        require_customer_may_buy(session, customer["id"])
    # Reactivated, it buys again with new credentials; the old ones stay revoked.
    assert client.patch(f"{BASE}/{customer['id']}", headers=store.partner,
                        json={"status": "active"}).status_code == 200
    fresh = store.credentials("customer", customer["id"])
    token = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": fresh["clientId"],
                                              "client_secret": fresh["clientSecret"]}).get_json()["access_token"]
    bought = client.post("/purchase-gateway/purchases", headers={"Authorization": f"Bearer {token}",
                                                                  "X-Tenant-Slug": store.slug},
                         json={"products": [{"id": "PROD001", "quantity": 1}]})
    assert bought.status_code == 200, bought.get_json()


def test_credentials_only_for_active_customer(client, store, superadmin_headers, api_clients_of):
    response = client.post(f"/superadmin/tenants/{store.slug}/api-clients", headers=superadmin_headers,
                           json={"name": "c", "role": "customer", "customerId": "00000000-0000-4000-8000-000000000000"})
    assert response.status_code == 404 and "customerId" in response.get_json()["errors"]
    assert api_clients_of(store.slug) == [("partner", None, False)]


def test_roles(client, store, superadmin_headers):
    assert client.get(BASE, headers={"X-Tenant-Slug": store.slug}).status_code == 401
    assert client.get(BASE, headers=store.headers_for("service")).status_code == 403
    assert client.get(BASE, headers=store.headers_for("store_admin")).status_code == 200
    assert client.get(BASE, headers={**superadmin_headers, "X-Tenant-Slug": store.slug}).status_code == 200


def test_partner_of_another_store_is_refused(client, store, create_tenant, customers_of):
    other = create_tenant()
    headers = {**store.partner, "X-Tenant-Slug": other}
    assert client.get(BASE, headers=headers).status_code == 401
    assert client.post(BASE, headers=headers, json=VALID).status_code == 401
    assert customers_of(other) == {} and customers_of(store.slug) == {}


def test_customer_of_another_store_is_404(client, store, create_tenant, superadmin_headers, customers_of):
    customer = create(client, store).get_json()
    other = create_tenant()
    url, headers = f"{BASE}/{customer['id']}", {**superadmin_headers, "X-Tenant-Slug": other}
    assert client.get(url, headers=headers).status_code == 404
    assert client.patch(url, headers=headers, json={"name": "Hijacked"}).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    assert customers_of(store.slug) == ACME and customers_of(other) == {}


def test_max_customers_limit_is_403(client, store, superadmin_headers, customers_of):
    client.patch(f"/superadmin/tenants/{store.slug}", headers=superadmin_headers, json={"limits": {"maxCustomers": 1}})
    assert create(client, store).status_code == 201
    response = create(client, store, contactEmail="second@acme.example.com")
    assert response.status_code == 403
    assert client.get(BASE, headers=store.partner).get_json()["totalCount"] == 1
    assert customers_of(store.slug) == ACME


def test_feature_disabled_is_403(client, store, superadmin_headers, customers_of):
    patched = client.patch(f"/superadmin/tenants/{store.slug}", headers=superadmin_headers,
                           json={"features": {"customerProvisioning": False}})
    assert patched.status_code == 200
    response = create(client, store)
    assert response.status_code == 403 and response.get_json()["title"] == "Feature Disabled"
    assert customers_of(store.slug) == {}
