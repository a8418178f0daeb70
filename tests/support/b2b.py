"""B2B set-up over HTTP for tests that bring their own app (PostgreSQL, real processes)."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

from tests.conftest import SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD


def b2b_store(client, plan_code: str = "PREMIUM") -> SimpleNamespace:
    """A new store with a partner, one customer and that customer's bearer headers."""
    admin = {"Authorization": "Bearer " + client.post("/auth/token", json={
        "grant_type": "password", "username": SUPERADMIN_EMAIL, "password": SUPERADMIN_PASSWORD}
    ).get_json()["access_token"]}
    slug = f"b2b-{uuid.uuid4().hex[:8]}"
    created = client.post("/superadmin/tenants", headers=admin, json={"slug": slug, "name": slug, "planCode": plan_code})
    assert created.status_code == 201, created.get_json()

    def headers_for(role: str, customer_id: str | None = None) -> dict:
        body = {"name": role, "role": role, **({"customerId": customer_id} if customer_id else {})}
        creds = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=admin, json=body).get_json()
        token = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                                  "client_secret": creds["clientSecret"]}).get_json()["access_token"]
        return {"Authorization": f"Bearer {token}", "X-Tenant-Slug": slug}

    partner = headers_for("partner")

    def new_customer() -> dict:
        body = client.post("/api/provisioning/customers", headers=partner,
                           json={"name": "Acme", "contactEmail": f"{uuid.uuid4().hex[:8]}@acme.example.com"})
        return headers_for("customer", body.get_json()["id"])

    return SimpleNamespace(slug=slug, admin=admin, partner=partner, headers_for=headers_for,
                           new_customer=new_customer, customer=new_customer())
