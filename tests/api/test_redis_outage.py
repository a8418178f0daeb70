"""Redis stopped: purchases answer 503 and record nothing; everything that does not need the
queue keeps answering (rate limits lapse rather than fail)."""
from __future__ import annotations

from sqlalchemy import text

from storefleet.cli import start_embedded_redis, stop_embedded_redis
from tests.conftest import SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD


def test_purchase_with_redis_down_is_503_and_nothing_recorded(make_app, tmp_path):
    server = start_embedded_redis(tmp_path / "own-redis" / "redis.sock")
    app = make_app(REDIS_URL=f"unix://{server.socket_file}")
    client = app.test_client()
    admin = {"Authorization": "Bearer " + client.post("/auth/token", json={
        "grant_type": "password", "username": SUPERADMIN_EMAIL, "password": SUPERADMIN_PASSWORD}).get_json()["access_token"]}
    slug = client.post("/superadmin/tenants", headers=admin,
                       json={"slug": "outage", "name": "Outage", "planCode": "PREMIUM"}).get_json()["slug"]

    def client_headers(role, customer_id=None):
        body = {"name": role, "role": role, **({"customerId": customer_id} if customer_id else {})}
        creds = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=admin, json=body).get_json()
        token = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                                  "client_secret": creds["clientSecret"]}).get_json()["access_token"]
        return {"Authorization": f"Bearer {token}", "X-Tenant-Slug": slug}

    partner = client_headers("partner")
    customer_id = client.post("/api/provisioning/customers", headers=partner,
                              json={"name": "Acme", "contactEmail": "a@acme.example.com"}).get_json()["id"]
    customer = client_headers("customer", customer_id)
    # Rate limits are being counted in Redis now.
    assert client.get("/api/provisioning/customers", headers=partner).status_code == 200
    assert server.keys("*storefleet-rl*")

    stop_embedded_redis(server, save=False)

    response = client.post("/purchase-gateway/purchases", headers=customer,
                           json={"products": [{"id": "PROD001", "quantity": 1}]})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    with app.app_context():
        from core.tenancy.admin import get_tenant
        from core.unit_of_work import own_transaction

        with own_transaction(get_tenant(slug).db_url) as session:
            assert session.execute(text("SELECT count(*) FROM purchases")).scalar() == 0
            assert session.execute(text("SELECT count(*) FROM purchase_items")).scalar() == 0
            assert session.execute(text("SELECT stock FROM products WHERE sku = 'PROD001'")).scalar() == 50

    # What does not need the queue keeps answering, with and without a token.
    assert client.get("/public/tenant-config", headers={"X-Tenant-Slug": slug}).status_code == 200
    assert client.get("/api/features", headers={"X-Tenant-Slug": slug}).status_code == 200
    assert client.get("/api/provisioning/customers", headers=partner).status_code == 200
    assert client.get("/product-provisioner/products/PROD001/availability", headers=customer).status_code == 200
    shopper = {"X-Tenant-Slug": slug, "X-Session-Id": "550e8400-e29b-41d4-a716-446655440000"}
    products = client.get("/api/catalog/products", headers=shopper)
    assert products.status_code == 200
    product_id = next(p["id"] for p in products.get_json()["items"] if p["name"] == "USB-C Charger")
    assert client.post("/api/cart/items", headers=shopper, json={"productId": product_id, "quantity": 1}).status_code == 200
    assert client.post("/api/checkout/quote", headers=shopper, json={}).status_code == 200
    key = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
    placed = client.post("/api/checkout/place-order", headers={**shopper, "Idempotency-Key": key}, json={
        "idempotencyKey": key, "email": "customer@example.com", "phone": "+1234567890",
        "shippingAddress": "123 Main St, City, State 12345, Country", "paymentMethod": "CreditCard"})
    assert placed.status_code == 200, placed.get_json()
    assert client.get("/health").status_code == 503
