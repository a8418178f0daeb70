"""Partner customer provisioning: /api/provisioning/customers."""
from __future__ import annotations

import pytest

BASE = "/api/provisioning/customers"
VALID = {"name": "Acme Corp", "address": "1 Road, Town", "contactEmail": "Buyer@Acme.example.com",
         "phone": "+44 20 7946 0958", "externalRef": "CRM-1"}


def create(client, store, **overrides):
    return client.post(BASE, headers=store.partner, json={**VALID, **overrides})


def test_create_customer_returns_201_with_normalized_fields(client, store):
    response = create(client, store)
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "Acme Corp" and body["contactEmail"] == "buyer@acme.example.com"
    assert body["phone"] == "+442079460958" and body["externalRef"] == "CRM-1" and body["status"] == "active"
    assert body["createdAt"].endswith("Z") and body["id"]


def test_phone_follows_the_rule_orders_keep(client, store):
    """One phone rule (core.validation.normalize_phone) for customers and orders: the contract's
    own example, one digit short of a North American number, is accepted in E.164."""
    response = create(client, store, phone="+1234567890")
    assert response.status_code == 201 and response.get_json()["phone"] == "+1234567890"


def test_create_minimal_customer(client, store):
    response = create(client, store, address=None, phone=None, externalRef=None)
    assert response.status_code == 201 and response.get_json()["phone"] is None


@pytest.mark.parametrize("overrides,fields", [
    ({"name": ""}, {"name"}),
    ({"contactEmail": "nope"}, {"contactEmail"}),
    ({"phone": "020 7946 0958"}, {"phone"}),
    ({"phone": "+1 23"}, {"phone"}),
    ({"name": "", "contactEmail": "x"}, {"name", "contactEmail"}),
])
def test_create_validation_names_each_bad_field(client, store, overrides, fields):
    response = create(client, store, **overrides)
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == fields


def test_create_missing_required_fields(client, store):
    response = client.post(BASE, headers=store.partner, json={})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"name", "contactEmail"}


def test_duplicate_contact_email_is_409(client, store):
    assert create(client, store).status_code == 201
    assert create(client, store, contactEmail="buyer@ACME.example.com").status_code == 409


def test_get_put_patch_delete(client, store):
    customer = create(client, store).get_json()
    url = f"{BASE}/{customer['id']}"
    assert client.get(url, headers=store.partner).get_json() == customer

    replaced = client.put(url, headers=store.partner, json={"name": "Acme Ltd", "contactEmail": "ops@acme.example.com"})
    assert replaced.status_code == 200
    body = replaced.get_json()
    assert body["name"] == "Acme Ltd" and body["phone"] is None and body["address"] is None

    patched = client.patch(url, headers=store.partner, json={"phone": "+1 415 555 0100"}).get_json()
    assert patched["phone"] == "+14155550100" and patched["name"] == "Acme Ltd"

    assert client.delete(url, headers=store.partner).status_code == 204
    assert client.get(url, headers=store.partner).get_json()["status"] == "inactive"


def test_put_validates_like_create(client, store):
    customer = create(client, store).get_json()
    response = client.put(f"{BASE}/{customer['id']}", headers=store.partner, json={"name": "X"})
    assert response.status_code == 400 and "contactEmail" in response.get_json()["errors"]


def test_patch_cannot_null_required_field(client, store):
    customer = create(client, store).get_json()
    response = client.patch(f"{BASE}/{customer['id']}", headers=store.partner, json={"name": None})
    assert response.status_code == 400 and "name" in response.get_json()["errors"]


def test_patch_to_taken_email_is_409(client, store):
    create(client, store)
    other = create(client, store, contactEmail="other@acme.example.com").get_json()
    response = client.patch(f"{BASE}/{other['id']}", headers=store.partner,
                            json={"contactEmail": "buyer@acme.example.com"})
    assert response.status_code == 409


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_unknown_customer_is_404(client, store, method):
    response = getattr(client, method)(f"{BASE}/00000000-0000-4000-8000-000000000000", headers=store.partner,
                                       json=VALID if method in ("put", "patch") else None)
    assert response.status_code == 404


def test_list_is_paginated(client, store):
    for i in range(3):
        create(client, store, contactEmail=f"c{i}@acme.example.com")
    page = client.get(f"{BASE}?page=2&pageSize=2", headers=store.partner).get_json()
    assert page["totalCount"] == 3 and page["totalPages"] == 2 and len(page["items"]) == 1
    assert client.get(f"{BASE}?pageSize=101", headers=store.partner).status_code == 400


def test_delete_revokes_customer_credentials(client, store):
    customer = create(client, store).get_json()
    creds = store.credentials("customer", customer["id"])
    token = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                              "client_secret": creds["clientSecret"]})
    assert token.status_code == 200
    assert client.delete(f"{BASE}/{customer['id']}", headers=store.partner).status_code == 204
    again = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                              "client_secret": creds["clientSecret"]})
    assert again.status_code == 401


def test_credentials_only_for_active_customer(client, store, superadmin_headers):
    response = client.post(f"/superadmin/tenants/{store.slug}/api-clients", headers=superadmin_headers,
                           json={"name": "c", "role": "customer", "customerId": "00000000-0000-4000-8000-000000000000"})
    assert response.status_code == 400 and "customerId" in response.get_json()["errors"]


def test_roles(client, store, superadmin_headers):
    assert client.get(BASE, headers={"X-Tenant-Slug": store.slug}).status_code == 401
    assert client.get(BASE, headers=store.headers_for("service")).status_code == 403
    assert client.get(BASE, headers=store.headers_for("store_admin")).status_code == 200
    assert client.get(BASE, headers={**superadmin_headers, "X-Tenant-Slug": store.slug}).status_code == 200


def test_partner_of_another_store_is_refused(client, store, create_tenant):
    other = create_tenant()
    headers = {**store.partner, "X-Tenant-Slug": other}
    assert client.get(BASE, headers=headers).status_code == 401


def test_customer_of_another_store_is_404(client, store, create_tenant, superadmin_headers):
    customer = create(client, store).get_json()
    other = create_tenant()
    response = client.get(f"{BASE}/{customer['id']}", headers={**superadmin_headers, "X-Tenant-Slug": other})
    assert response.status_code == 404


def test_max_customers_limit_is_403(client, store, superadmin_headers):
    client.patch(f"/superadmin/tenants/{store.slug}", headers=superadmin_headers, json={"limits": {"maxCustomers": 1}})
    assert create(client, store).status_code == 201
    response = create(client, store, contactEmail="second@acme.example.com")
    assert response.status_code == 403
    assert client.get(BASE, headers=store.partner).get_json()["totalCount"] == 1


def test_feature_disabled_is_403(client, store, superadmin_headers):
    client.patch(f"/superadmin/tenants/{store.slug}", headers=superadmin_headers,
                 json={"features": {"customerProvisioning": False}})
    assert create(client, store).status_code == 403
