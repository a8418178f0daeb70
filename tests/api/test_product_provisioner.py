"""Product provisioner API: customized provisioning with quota and stock, availability, listing."""
from __future__ import annotations

import pytest

PROVISION = "/product-provisioner/products"
LISTING = "/product-provisioner/provisioned-products"


@pytest.fixture
def customer(client, store):
    """A customer of the store with its own credentials' headers."""

    def factory(email: str = "buyer@acme.example.com"):
        body = client.post("/api/provisioning/customers", headers=store.partner,
                           json={"name": "Acme", "contactEmail": email}).get_json()
        return body["id"], store.headers_for("customer", body["id"])

    return factory


def stock_of(client, store, sku: str) -> int:
    return client.get(f"/product-provisioner/products/{sku}/availability", headers=store.partner
                      ).get_json()["quantity"]


SEEDED_STOCK = {"PROD001": 50, "PROD002": 100, "PROD003": 30, "PROD004": 25, "PROD005": 40}


@pytest.fixture
def recorded(tenant_db):
    """Factory: a store's stock by SKU and its provisioned products as sorted
    [(customer id, sku, quantity, customization)]."""
    from sqlalchemy import select

    from core.catalog.models import Product
    from core.provisioner.models import ProvisionedProduct

    def factory(slug: str) -> dict:
        with tenant_db(slug) as session:
            stock = dict(session.execute(select(Product.sku, Product.stock)).all())
            provisioned = sorted((p.customer_id, p.product.sku, p.quantity, p.customization)
                                 for p in session.scalars(select(ProvisionedProduct)))
        return {"stock": stock, "provisioned": provisioned}

    return factory


NOTHING = {"stock": SEEDED_STOCK, "provisioned": []}


def test_provision_customized_product(client, store, customer, recorded):
    customer_id, headers = customer()
    response = client.post(PROVISION, headers=headers, json={
        "productId": "PROD001", "quantity": 2, "customization": {"color": "Silver", "engraving": "Ada"}})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["message"] == "Product provisioned successfully"
    [item] = body["provisionedProducts"]
    assert item["quantity"] == 2 and item["customization"] == {"color": "Silver", "engraving": "Ada"}
    assert item["id"] and item["productId"]
    assert stock_of(client, store, "PROD001") == 48
    assert recorded(store.slug) == {"stock": {**SEEDED_STOCK, "PROD001": 48}, "provisioned": [
        (customer_id, "PROD001", 2, {"color": "Silver", "engraving": "Ada"})]}
    assert [(p["id"], p["quantity"]) for p in client.get(LISTING, headers=headers).get_json()] == [(item["id"], 2)]


def test_provision_by_uuid(client, store, customer, recorded):
    customer_id, headers = customer()
    product_id = client.get("/product-provisioner/products/PROD002/availability", headers=headers
                            ).get_json()["productId"]
    response = client.post(PROVISION, headers=headers, json={"productId": product_id, "quantity": 1})
    assert response.status_code == 200
    assert response.get_json()["provisionedProducts"][0]["productId"] == product_id
    assert recorded(store.slug) == {"stock": {**SEEDED_STOCK, "PROD002": 99},
                                    "provisioned": [(customer_id, "PROD002", 1, {})]}


@pytest.mark.parametrize("customization,field", [
    ({}, "customization.color"),                                   # required option missing
    ({"color": "Gold"}, "customization.color"),                    # value not allowed
    ({"color": "Black", "size": "XL"}, "customization.size"),      # unknown option
    ({"color": ""}, "customization.color"),                        # empty value
])
def test_invalid_customization_is_400(client, store, customer, recorded, customization, field):
    _, headers = customer()
    response = client.post(PROVISION, headers=headers,
                           json={"productId": "PROD001", "quantity": 1, "customization": customization})
    assert response.status_code == 400
    assert field in response.get_json()["errors"]
    assert stock_of(client, store, "PROD001") == 50
    assert recorded(store.slug) == NOTHING


@pytest.mark.parametrize("body,field", [
    ({"productId": "PROD002", "quantity": 0}, "quantity"),
    ({"productId": "PROD002", "quantity": -3}, "quantity"),
    ({"productId": "PROD002", "quantity": 2_147_483_648}, "quantity"),
    ({"productId": "PROD002", "quantity": "2"}, "quantity"),
    ({"productId": "PROD002", "quantity": 1.5}, "quantity"),
    ({"quantity": 1}, "productId"),
])
def test_invalid_request_is_400(client, store, customer, recorded, body, field):
    _, headers = customer()
    response = client.post(PROVISION, headers=headers, json=body)
    assert response.status_code == 400 and field in response.get_json()["errors"]
    assert recorded(store.slug) == NOTHING


def test_unknown_product_is_404(client, store, customer, recorded):
    _, headers = customer()
    assert client.post(PROVISION, headers=headers, json={"productId": "NOPE", "quantity": 1}).status_code == 404
    assert recorded(store.slug) == NOTHING


def test_short_stock_is_409_and_changes_nothing(client, store, customer, recorded):
    _, headers = customer()
    response = client.post(PROVISION, headers=headers, json={"productId": "PROD004", "quantity": 26})
    assert response.status_code == 409
    assert stock_of(client, store, "PROD004") == 25
    assert client.get(LISTING, headers=headers).get_json() == []
    assert recorded(store.slug) == NOTHING


def test_quota_exceeded_is_409(client, store, customer, superadmin_headers, recorded):
    client.patch(f"/superadmin/tenants/{store.slug}", headers=superadmin_headers,
                 json={"limits": {"provisioningQuotaPerCustomer": 5}})
    customer_id, headers = customer()
    assert client.post(PROVISION, headers=headers, json={"productId": "PROD002", "quantity": 4}).status_code == 200
    response = client.post(PROVISION, headers=headers, json={"productId": "PROD002", "quantity": 2})
    assert response.status_code == 409 and "quota" in response.get_json()["detail"]
    assert stock_of(client, store, "PROD002") == 96
    assert recorded(store.slug)["provisioned"] == [(customer_id, "PROD002", 4, {})]
    other_id, other = customer("other@acme.example.com")
    assert client.post(PROVISION, headers=other, json={"productId": "PROD002", "quantity": 5}).status_code == 200
    assert recorded(store.slug) == {"stock": {**SEEDED_STOCK, "PROD002": 91}, "provisioned": sorted(
        [(customer_id, "PROD002", 4, {}), (other_id, "PROD002", 5, {})])}


def test_only_customers_provision(client, store, recorded):
    response = client.post(PROVISION, headers=store.partner, json={"productId": "PROD002", "quantity": 1})
    assert response.status_code == 403
    assert client.post(PROVISION, headers={"X-Tenant-Slug": store.slug},
                       json={"productId": "PROD002", "quantity": 1}).status_code == 401
    assert client.post(PROVISION, headers=store.headers_for("store_admin"),
                       json={"productId": "PROD002", "quantity": 1}).status_code == 403
    assert recorded(store.slug) == NOTHING


def test_availability(client, store, customer):
    _, headers = customer()
    body = client.get("/product-provisioner/products/PROD003/availability", headers=headers).get_json()
    assert body["available"] is True and body["quantity"] == 30
    assert client.get("/product-provisioner/products/NOPE/availability", headers=headers).status_code == 404
    assert client.get("/product-provisioner/products/PROD003/availability",
                      headers={"X-Tenant-Slug": store.slug}).status_code == 401


def test_availability_out_of_stock(client, store, customer):
    _, headers = customer()
    client.post(PROVISION, headers=headers, json={"productId": "PROD004", "quantity": 25})
    body = client.get("/product-provisioner/products/PROD004/availability", headers=headers).get_json()
    assert body == {"productId": body["productId"], "available": False, "quantity": 0}


def test_listing_is_own_for_customers_and_all_for_store_admins(client, store, customer):
    _, alice = customer("alice@acme.example.com")
    _, bob = customer("bob@acme.example.com")
    client.post(PROVISION, headers=alice, json={"productId": "PROD002", "quantity": 1})
    client.post(PROVISION, headers=bob, json={"productId": "PROD005", "quantity": 3})
    assert [p["quantity"] for p in client.get(LISTING, headers=alice).get_json()] == [1]
    assert [p["quantity"] for p in client.get(LISTING, headers=bob).get_json()] == [3]
    everything = client.get(LISTING, headers=store.headers_for("store_admin")).get_json()
    assert sorted(p["quantity"] for p in everything) == [1, 3]
    assert client.get(LISTING, headers=store.partner).status_code == 403


def test_feature_disabled_is_403(client, store, customer, superadmin_headers, recorded):
    _, headers = customer()
    client.patch(f"/superadmin/tenants/{store.slug}", headers=superadmin_headers,
                 json={"features": {"productProvisioning": False}})
    response = client.post(PROVISION, headers=headers, json={"productId": "PROD002", "quantity": 1})
    assert response.status_code == 403 and response.get_json()["title"] == "Feature Disabled"
    assert recorded(store.slug) == NOTHING


def test_customer_token_of_another_store_is_refused(client, store, customer, create_tenant, recorded):
    _, headers = customer()
    other = create_tenant()
    response = client.post(PROVISION, headers={**headers, "X-Tenant-Slug": other},
                           json={"productId": "PROD002", "quantity": 1})
    assert response.status_code == 401
    assert recorded(other) == NOTHING and recorded(store.slug) == NOTHING
