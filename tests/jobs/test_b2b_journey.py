"""Issue 4's "done when", all over HTTP against a real gunicorn and a real RQ worker process: a
partner creates a customer, a super admin issues that customer API credentials, the customer
provisions a customized product and makes a purchase that reaches COMPLETED and can be
cancelled with its stock back."""
from __future__ import annotations

import uuid

import httpx

from tests.conftest import SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD
from tests.support.backends import on_both_backends
from tests.support.processes import wait_until


def bearer(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def client_credentials(http: httpx.Client, credentials: dict) -> dict:
    return bearer(http.post("/auth/token", json={"grant_type": "client_credentials",
                                                 "client_id": credentials["clientId"],
                                                 "client_secret": credentials["clientSecret"]}))


def journey(app, live_server, rq_worker) -> None:
    server = live_server(app, workers=2)
    rq_worker(app, "purchases")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        admin = bearer(http.post("/auth/token", json={"grant_type": "password", "username": SUPERADMIN_EMAIL,
                                                      "password": SUPERADMIN_PASSWORD}))
        slug = f"journey-{uuid.uuid4().hex[:8]}"
        created = http.post("/superadmin/tenants", headers=admin,
                            json={"slug": slug, "name": "Journey Store", "planCode": "PREMIUM"})
        assert created.status_code == 201, created.text
        store = {"X-Tenant-Slug": slug}

        def stock(sku: str) -> int:
            response = http.get(f"/inventory/{sku}", headers=store)
            assert response.status_code == 200, response.text
            return response.json()["quantity"]

        def issue(role: str, **extra) -> dict:
            response = http.post(f"/superadmin/tenants/{slug}/api-clients", headers=admin,
                                 json={"name": f"{role} of {slug}", "role": role, **extra})
            assert response.status_code == 201, response.text
            return response.json()

        # A partner creates a customer.
        partner = {**client_credentials(http, issue("partner")), **store}
        customer = http.post("/api/provisioning/customers", headers=partner,
                             json={"name": "Acme Corp", "contactEmail": "buyer@acme.example.com",
                                   "phone": "+14155550100", "address": "1 Market St, San Francisco"})
        assert customer.status_code == 201, customer.text
        customer_id = customer.json()["id"]

        # A super admin issues that customer API credentials.
        credentials = issue("customer", customerId=customer_id)
        assert credentials["customerId"] == customer_id and credentials["role"] == "customer"
        buyer = {**client_credentials(http, credentials), **store}

        # The customer provisions a customized product: its stock goes down.
        initial = {"PROD001": stock("PROD001"), "PROD002": stock("PROD002")}
        provisioned = http.post("/product-provisioner/products", headers=buyer, json={
            "productId": "PROD001", "quantity": 2, "customization": {"color": "Silver", "engraving": "Acme"}})
        assert provisioned.status_code == 200, provisioned.text
        [item] = provisioned.json()["provisionedProducts"]
        assert item["quantity"] == 2 and item["customization"] == {"color": "Silver", "engraving": "Acme"}
        listing = http.get("/product-provisioner/provisioned-products", headers=buyer)
        assert [p["id"] for p in listing.json()] == [item["id"]]
        after_provision = {"PROD001": initial["PROD001"] - 2, "PROD002": initial["PROD002"]}
        assert {sku: stock(sku) for sku in initial} == after_provision

        # ... makes a purchase, which the worker takes to COMPLETED ...
        started = http.post("/purchase-gateway/purchases", headers=buyer, json={"products": [
            {"id": "PROD001", "quantity": 3}, {"id": "PROD002", "quantity": 4}]})
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "PENDING"
        purchase_id = started.json()["purchaseId"]

        def processed():
            body = http.get(f"/purchase-gateway/purchases/{purchase_id}", headers=buyer).json()
            return body if body["status"] != "PENDING" else None

        done = wait_until(processed, timeout=60, interval=0.1, message="the worker to process the purchase")
        assert done["status"] == "COMPLETED"
        assert done["products"] == [{"id": "PROD001", "quantity": 3, "status": "RESERVED"},
                                    {"id": "PROD002", "quantity": 4, "status": "RESERVED"}]
        assert {sku: stock(sku) for sku in initial} == {"PROD001": after_provision["PROD001"] - 3,
                                                        "PROD002": after_provision["PROD002"] - 4}

        # ... and cancels it: the reserved stock comes back, the provisioned units stay taken.
        cancelled = http.post(f"/purchase-gateway/purchases/{purchase_id}/cancel", headers=buyer)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "CANCELLED"
        body = http.get(f"/purchase-gateway/purchases/{purchase_id}", headers=buyer).json()
        assert body["status"] == "CANCELLED" and {p["status"] for p in body["products"]} == {"RELEASED"}
        assert {sku: stock(sku) for sku in initial} == after_provision


@on_both_backends
def test_b2b_journey_over_http(app, redis_conn, live_server, rq_worker):
    journey(app, live_server, rq_worker)
