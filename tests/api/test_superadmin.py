"""Super-admin JSON API: direct create, repair, tenant administration, users and API clients."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.backends import on_both_backends

DONE = [("CreateDatabase", "Success"), ("ApplyMigrations", "Success"), ("SeedData", "Success")]


def ready_record(name: str = "Test Store", plan: str = "PREMIUM", **changes) -> dict:
    """tenant_record of a store made by create_tenant and left alone (see the root conftest)."""
    return {"name": name, "status": "Ready", "plan": plan, "features": {}, "limits": {}, "steps": DONE,
            "users": [], "api_clients": [], **changes}


def test_superadmin_routes_need_a_token(client):
    assert client.get("/superadmin/tenants").status_code == 401


# Every super-admin route with a body that would change the store {slug} if it were accepted.
ROUTES = [
    ("get", "/superadmin/tenants", None),
    ("post", "/superadmin/tenants", {"slug": "anon-store", "name": "Anon", "planCode": "BASIC"}),
    ("post", "/superadmin/tenants/repair", {"tenant": "{slug}"}),
    ("get", "/superadmin/tenants/{slug}", None),
    ("patch", "/superadmin/tenants/{slug}", {"status": "Suspended", "planCode": "BASIC"}),
    ("post", "/superadmin/tenants/{slug}/users", {"email": "anon@example.com", "password": "long-enough"}),
    ("post", "/superadmin/tenants/{slug}/api-clients", {"name": "Anon", "role": "partner"}),
]


@pytest.mark.parametrize("method,path,body", ROUTES)
def test_every_superadmin_route_refuses_anonymous(client, create_tenant, tenant_record, tenant_slugs, method, path,
                                                  body):
    slug = create_tenant()
    body = {k: v.format(slug=slug) for k, v in body.items()} if body else {}
    response = getattr(client, method)(path.format(slug=slug), json=body)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert tenant_record(slug) == ready_record()
    assert tenant_slugs() == {slug}


def test_create_tenant_directly_is_ready(client, superadmin_headers, tenant_record):
    response = client.post("/superadmin/tenants", headers=superadmin_headers,
                           json={"slug": "demo-store", "name": "Demo Store", "planCode": "PREMIUM"})
    assert response.status_code == 201
    assert response.get_json() == {"slug": "demo-store", "status": "Ready"}
    assert client.get("/public/tenant-config", headers={"X-Tenant-Slug": "demo-store"}).status_code == 200
    assert tenant_record("demo-store") == ready_record("Demo Store")


def test_create_tenant_unknown_plan_is_404(client, superadmin_headers, tenant_slugs):
    response = client.post("/superadmin/tenants", headers=superadmin_headers,
                           json={"slug": "x-store", "name": "X", "planCode": "GOLD"})
    assert response.status_code == 404
    assert tenant_slugs() == set()


def test_create_tenant_bad_slug_is_400(client, superadmin_headers, tenant_slugs):
    response = client.post("/superadmin/tenants", headers=superadmin_headers,
                           json={"slug": "Bad Slug", "name": "X", "planCode": "BASIC"})
    assert response.status_code == 400
    assert "slug" in response.get_json()["errors"]
    assert tenant_slugs() == set()


def test_create_tenant_duplicate_is_409(client, superadmin_headers, create_tenant, tenant_record):
    slug = create_tenant()
    response = client.post("/superadmin/tenants", headers=superadmin_headers,
                           json={"slug": slug, "name": "X", "planCode": "BASIC"})
    assert response.status_code == 409
    assert response.get_json()["title"] == "Conflict"
    assert tenant_record(slug) == ready_record()


def test_create_tenant_failing_step_is_500_and_recorded(client, superadmin_headers, monkeypatch):
    from core.tenancy import provisioning

    def broken_seed(tenant):
        raise RuntimeError("seed exploded")

    monkeypatch.setitem(provisioning.STEP_FUNCTIONS, provisioning.StepName.SEED_DATA, broken_seed)
    response = client.post("/superadmin/tenants", headers=superadmin_headers,
                           json={"slug": "will-fail", "name": "F", "planCode": "BASIC"})
    assert response.status_code == 500
    assert "seed exploded" in response.get_json()["detail"]
    tenant = client.get("/superadmin/tenants/will-fail", headers=superadmin_headers).get_json()
    assert tenant["status"] == "Failed"
    assert [(s["step"], s["status"]) for s in tenant["steps"]] == [
        ("CreateDatabase", "Success"), ("ApplyMigrations", "Success"), ("SeedData", "Failed")]
    assert tenant["steps"][2]["errorMessage"] == "RuntimeError: seed exploded"


def test_repair_brings_failed_tenant_to_ready(client, superadmin_headers, monkeypatch):
    from core.tenancy import provisioning

    original = provisioning.STEP_FUNCTIONS[provisioning.StepName.SEED_DATA]
    monkeypatch.setitem(provisioning.STEP_FUNCTIONS, provisioning.StepName.SEED_DATA,
                        lambda tenant: (_ for _ in ()).throw(RuntimeError("disk full")))
    client.post("/superadmin/tenants", headers=superadmin_headers,
                json={"slug": "fix-me", "name": "F", "planCode": "BASIC"})
    assert client.get("/public/tenant-config", headers={"X-Tenant-Slug": "fix-me"}).status_code == 409
    monkeypatch.setitem(provisioning.STEP_FUNCTIONS, provisioning.StepName.SEED_DATA, original)

    response = client.post("/superadmin/tenants/repair", headers=superadmin_headers, json={"tenant": "fix-me"})
    assert response.status_code == 200
    assert response.get_json() == {"tenant": "fix-me", "status": "Ready"}
    steps = client.get("/superadmin/tenants/fix-me", headers=superadmin_headers).get_json()["steps"]
    assert {s["status"] for s in steps} == {"Success"}
    assert client.get("/inventory", headers={"X-Tenant-Slug": "fix-me"}).status_code == 200
    assert len(client.get("/inventory", headers={"X-Tenant-Slug": "fix-me"}).get_json()) == 5


@on_both_backends
def test_repair_keeps_existing_data(app, client, superadmin_headers, create_tenant, tenant_record):
    slug = create_tenant(plan_code="BASIC")
    with app.app_context():
        from sqlalchemy import text

        from core.tenancy.admin import get_tenant
        from core.unit_of_work import own_transaction

        url = get_tenant(slug).db_url
        with own_transaction(url) as session:
            session.execute(text("UPDATE products SET stock = 3 WHERE sku = 'PROD002'"))
    repaired = client.post("/superadmin/tenants/repair", headers=superadmin_headers, json={"tenant": slug})
    assert repaired.status_code == 200
    assert repaired.get_json() == {"tenant": slug, "status": "Ready"}
    with app.app_context():
        with own_transaction(url) as session:
            assert session.execute(text("SELECT stock FROM products WHERE sku = 'PROD002'")).scalar() == 3
            assert session.execute(text("SELECT count(*) FROM products")).scalar() == 5
    assert tenant_record(slug) == ready_record(plan="BASIC")


def test_repair_unknown_tenant_is_404(client, superadmin_headers, tenant_slugs):
    assert client.post("/superadmin/tenants/repair", headers=superadmin_headers,
                       json={"tenant": "nope-nope"}).status_code == 404
    assert tenant_slugs() == set()


def test_repair_failing_is_500(client, superadmin_headers, create_tenant, tenant_record, monkeypatch):
    from core.tenancy import provisioning

    slug = create_tenant()
    monkeypatch.setitem(provisioning.STEP_FUNCTIONS, provisioning.StepName.APPLY_MIGRATIONS,
                        lambda tenant: (_ for _ in ()).throw(RuntimeError("migration broke")))
    response = client.post("/superadmin/tenants/repair", headers=superadmin_headers, json={"tenant": slug})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "migration broke" in response.get_json()["detail"]
    # The repair stopped at the failed step; the step after it did not run again, and says so.
    assert tenant_record(slug) == ready_record(status="Failed", steps=[
        ("CreateDatabase", "Success"), ("ApplyMigrations", "Failed"), ("SeedData", "Pending")])


def test_list_and_get_tenants(client, superadmin_headers, create_tenant):
    slug = create_tenant(plan_code="BASIC")
    listed = client.get("/superadmin/tenants", headers=superadmin_headers).get_json()
    assert slug in [t["slug"] for t in listed]
    tenant = client.get(f"/superadmin/tenants/{slug}", headers=superadmin_headers).get_json()
    assert tenant["planCode"] == "BASIC" and tenant["status"] == "Ready"
    assert tenant["dbName"] == "ecom_tenant_" + slug.replace("-", "_")
    assert tenant["features"]["productProvisioning"] is False
    assert tenant["limits"]["maxCartItems"] == 20


def test_get_unknown_tenant_is_404(client, superadmin_headers):
    assert client.get("/superadmin/tenants/unknown-x", headers=superadmin_headers).status_code == 404


def test_suspend_then_resume(client, superadmin_headers, create_tenant, tenant_record):
    slug = create_tenant()
    store = {"X-Tenant-Slug": slug}
    response = client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers, json={"status": "Suspended"})
    assert response.status_code == 200 and response.get_json()["status"] == "Suspended"
    assert tenant_record(slug) == ready_record(status="Suspended")
    locked = client.get("/public/tenant-config", headers=store)
    assert locked.status_code == 423 and locked.mimetype == "application/problem+json"
    resumed = client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers, json={"status": "Ready"})
    assert resumed.status_code == 200 and resumed.get_json()["status"] == "Ready"
    assert tenant_record(slug) == ready_record()
    assert client.get("/public/tenant-config", headers=store).status_code == 200


def test_status_change_of_failed_tenant_is_409(app, client, superadmin_headers, create_tenant, tenant_record):
    slug = create_tenant()
    with app.app_context():
        from core.extensions import db
        from core.tenancy.admin import get_tenant

        get_tenant(slug).status = "Failed"
        db.session.commit()
    response = client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers, json={"status": "Ready"})
    assert response.status_code == 409
    assert tenant_record(slug) == ready_record(status="Failed")


def test_invalid_status_is_400(client, superadmin_headers, create_tenant, tenant_record):
    slug = create_tenant()
    response = client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers, json={"status": "Deleted"})
    assert response.status_code == 400 and "status" in response.get_json()["errors"]
    assert tenant_record(slug) == ready_record()


def test_change_plan_and_overrides(client, superadmin_headers, create_tenant, tenant_record):
    slug = create_tenant(plan_code="BASIC")
    response = client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers, json={
        "planCode": "PREMIUM", "features": {"guestCheckout": False}, "limits": {"maxCartItems": 7}})
    assert response.status_code == 200
    assert tenant_record(slug) == ready_record(features={"guestCheckout": False}, limits={"maxCartItems": 7})
    flags = client.get("/api/features", headers={"X-Tenant-Slug": slug}).get_json()
    assert flags["features"]["guestCheckout"] is False
    assert flags["features"]["purchaseGateway"] is True  # from PREMIUM
    assert flags["limits"]["maxCartItems"] == 7
    config = client.get("/public/tenant-config", headers={"X-Tenant-Slug": slug}).get_json()
    assert "guest_checkout" not in config["features"] and "purchase_gateway" in config["features"]

    cleared = client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers,
                           json={"limits": {"maxCartItems": None}}).get_json()
    assert cleared["limits"]["maxCartItems"] == 100 and cleared["limitOverrides"] == {}
    assert tenant_record(slug) == ready_record(features={"guestCheckout": False})


@pytest.mark.parametrize("patch,field", [
    ({"features": {"teleport": True}}, "features.teleport"),
    ({"limits": {"maxCartItems": -1}}, "limits.maxCartItems"),
    ({"limits": {"bogus": 1}}, "limits.bogus"),
])
def test_invalid_overrides_are_400(client, superadmin_headers, create_tenant, tenant_record, patch, field):
    slug = create_tenant()
    # Sent with a valid change: a refused request applies none of its fields.
    response = client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers,
                            json={"status": "Suspended", **patch})
    assert response.status_code == 400
    assert field in response.get_json()["errors"]
    assert tenant_record(slug) == ready_record()


def test_unknown_plan_on_patch_is_404(client, superadmin_headers, create_tenant, tenant_record):
    slug = create_tenant()
    assert client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers,
                        json={"status": "Suspended", "planCode": "GOLD"}).status_code == 404
    assert tenant_record(slug) == ready_record()


def test_create_store_admin(client, superadmin_headers, create_tenant, tenant_record, get_token):
    slug = create_tenant()
    response = client.post(f"/superadmin/tenants/{slug}/users", headers=superadmin_headers,
                           json={"email": "Owner@Shop.example.com", "password": "long-enough"})
    assert response.status_code == 201
    assert response.get_json()["email"] == "owner@shop.example.com"
    assert tenant_record(slug)["users"] == [("owner@shop.example.com", "store_admin")]
    assert get_token("owner@shop.example.com", "long-enough")
    duplicate = client.post(f"/superadmin/tenants/{slug}/users", headers=superadmin_headers,
                            json={"email": "owner@shop.example.com", "password": "another-one"})
    assert duplicate.status_code == 409
    assert tenant_record(slug)["users"] == [("owner@shop.example.com", "store_admin")]
    assert get_token("owner@shop.example.com", "long-enough")  # the first password still holds


@pytest.mark.parametrize("body,field", [
    ({"email": "not-an-email", "password": "long-enough"}, "email"),
    ({"email": "a@example.com", "password": "short"}, "password"),
])
def test_create_store_admin_validation(client, superadmin_headers, create_tenant, tenant_record, body, field):
    slug = create_tenant()
    response = client.post(f"/superadmin/tenants/{slug}/users", headers=superadmin_headers, json=body)
    assert response.status_code == 400 and field in response.get_json()["errors"]
    assert tenant_record(slug) == ready_record()


def test_api_client_secret_shown_once(client, superadmin_headers, create_tenant, tenant_record):
    slug = create_tenant()
    response = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=superadmin_headers,
                           json={"name": "Partner", "role": "partner"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["clientId"].startswith("sf_") and len(body["clientSecret"]) >= 32
    assert tenant_record(slug)["api_clients"] == [("Partner", "partner", None, False)]
    listed = client.get(f"/superadmin/tenants/{slug}", headers=superadmin_headers).get_data(as_text=True)
    assert body["clientSecret"] not in listed


@pytest.mark.parametrize("body,field", [
    ({"name": "X", "role": "god"}, "role"),
    ({"name": "", "role": "partner"}, "name"),
    ({"name": "X", "role": "customer"}, "customerId"),
])
def test_api_client_validation(client, superadmin_headers, create_tenant, tenant_record, body, field):
    slug = create_tenant()
    response = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=superadmin_headers, json=body)
    assert response.status_code == 400 and field in response.get_json()["errors"]
    assert tenant_record(slug) == ready_record()


def test_only_a_customer_client_acts_for_a_customer(client, superadmin_headers, store):
    """A customerId sent with another role is dropped: a partner's token never carries one."""
    import jwt

    customer_id = client.post("/api/provisioning/customers", headers=store.partner,
                              json={"name": "Acme", "contactEmail": "a@acme.example.com"}).get_json()["id"]
    response = client.post(f"/superadmin/tenants/{store.slug}/api-clients", headers=superadmin_headers,
                           json={"name": "Partner", "role": "partner", "customerId": customer_id})
    assert response.status_code == 201 and response.get_json()["customerId"] is None
    body = response.get_json()
    token = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": body["clientId"],
                                             "client_secret": body["clientSecret"]}).get_json()["access_token"]
    assert "customerId" not in jwt.decode(token, options={"verify_signature": False})


@pytest.mark.parametrize("customer,status", [("unknown", 404), ("deleted", 404), ("inactive", 409)])
def test_a_customer_client_needs_an_active_customer_of_the_store(customer, status, client, superadmin_headers, store,
                                                                tenant_record):
    customer_id = "00000000-0000-4000-8000-000000000000"
    if customer != "unknown":
        customer_id = client.post("/api/provisioning/customers", headers=store.partner,
                                  json={"name": "Acme", "contactEmail": "a@acme.example.com"}).get_json()["id"]
    if customer == "deleted":
        assert client.delete(f"/api/provisioning/customers/{customer_id}", headers=store.partner).status_code == 204
    if customer == "inactive":
        assert client.patch(f"/api/provisioning/customers/{customer_id}", headers=store.partner,
                            json={"status": "inactive"}).status_code == 200
    response = client.post(f"/superadmin/tenants/{store.slug}/api-clients", headers=superadmin_headers,
                           json={"name": "Buyer", "role": "customer", "customerId": customer_id})
    assert response.status_code == status and "customerId" in response.get_json()["errors"]
    assert tenant_record(store.slug)["api_clients"] == [("partner client", "partner", None, False)]


def test_api_client_for_unknown_tenant_is_404(client, superadmin_headers, tenant_slugs):
    response = client.post("/superadmin/tenants/ghost-store/api-clients", headers=superadmin_headers,
                           json={"name": "X", "role": "partner"})
    assert response.status_code == 404
    assert tenant_slugs() == set()


def test_a_customer_client_needs_the_store_ready(app, client, superadmin_headers, tenant_record):
    """A store still provisioning has no customers to name: 409, and its database is not opened
    (nor, on SQLite, created empty ahead of its provisioning). Other roles are issued at once."""
    from sqlalchemy.engine import make_url

    from core.tenancy.admin import get_tenant

    assert client.post("/provision/tenants/init", json={"slug": "early-store", "name": "Early",
                                                        "plan": "Basic"}).status_code == 200
    with app.app_context():
        database = Path(make_url(get_tenant("early-store").db_url).database)
    response = client.post("/superadmin/tenants/early-store/api-clients", headers=superadmin_headers,
                           json={"name": "Buyer", "role": "customer",
                                 "customerId": "00000000-0000-4000-8000-000000000000"})
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert not database.exists()
    assert tenant_record("early-store")["api_clients"] == []
    response = client.post("/superadmin/tenants/early-store/api-clients", headers=superadmin_headers,
                           json={"name": "Partner", "role": "partner"})
    assert response.status_code == 201
    assert tenant_record("early-store")["api_clients"] == [("Partner", "partner", None, False)]


def test_a_customer_client_of_a_suspended_store_is_423(client, superadmin_headers, store, tenant_record):
    customer_id = client.post("/api/provisioning/customers", headers=store.partner,
                              json={"name": "Acme", "contactEmail": "a@acme.example.com"}).get_json()["id"]
    assert client.patch(f"/superadmin/tenants/{store.slug}", headers=superadmin_headers,
                        json={"status": "Suspended"}).status_code == 200
    response = client.post(f"/superadmin/tenants/{store.slug}/api-clients", headers=superadmin_headers,
                           json={"name": "Buyer", "role": "customer", "customerId": customer_id})
    assert response.status_code == 423
    assert tenant_record(store.slug)["api_clients"] == [("partner client", "partner", None, False)]


def test_the_repair_path_is_the_repair_operation_alone(client, superadmin_headers, tenant_slugs):
    """/superadmin/tenants/repair is not also /superadmin/tenants/{slug}: a GET or PATCH of it is
    a 405 whose Allow lists what the document declares, and no store may be named "repair"."""
    for method in ("get", "patch"):
        response = getattr(client, method)("/superadmin/tenants/repair", headers=superadmin_headers)
        assert response.status_code == 405 and response.mimetype == "application/problem+json"
        assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert client.get("/superadmin/tenants/repairs", headers=superadmin_headers).status_code == 404
    refused = client.post("/superadmin/tenants", headers=superadmin_headers,
                          json={"slug": "repair", "name": "Repair", "planCode": "BASIC"})
    assert refused.status_code == 400 and "slug" in refused.get_json()["errors"]
    assert tenant_slugs() == set()
