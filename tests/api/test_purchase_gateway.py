"""Purchase gateway: initiate (PENDING + job), orchestrate, status, cancel, idempotency, 503."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.support.backends import on_both_backends

PURCHASES = "/purchase-gateway/purchases"


@pytest.fixture
def buyer(client, store):
    """Factory: a customer of the store and its bearer headers."""

    def factory(email: str = "buyer@acme.example.com"):
        body = client.post("/api/provisioning/customers", headers=store.partner,
                           json={"name": "Acme", "contactEmail": email}).get_json()
        return store.headers_for("customer", body["id"])

    return factory


def availability(client, store, sku):
    return client.get(f"/product-provisioner/products/{sku}/availability", headers=store.partner).get_json()["quantity"]


SEEDED_STOCK = {"PROD001": 50, "PROD002": 100, "PROD003": 30, "PROD004": 25, "PROD005": 40}


@pytest.fixture
def recorded(tenant_db, redis_conn):
    """Factory: what a store holds about purchases: {purchase id: (status, [(product, quantity,
    item status)])}, the stock by SKU, the number of orders and of jobs waiting on `purchases`."""
    from rq import Queue
    from sqlalchemy import func, select

    from core.catalog.models import Product
    from core.orders.models import Order
    from core.purchases.models import Purchase

    def factory(slug: str) -> dict:
        with tenant_db(slug) as session:
            purchases = {p.id: (p.status, [(i.product_key, i.quantity, i.status) for i in p.items])
                         for p in session.scalars(select(Purchase))}
            stock = dict(session.execute(select(Product.sku, Product.stock)).all())
            orders = session.scalar(select(func.count()).select_from(Order))
        return {"purchases": purchases, "stock": stock, "orders": orders,
                "jobs": len(Queue("purchases", connection=redis_conn))}

    return factory


NOTHING = {"purchases": {}, "stock": SEEDED_STOCK, "orders": 0, "jobs": 0}


def purchase(client, headers, *lines, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(PURCHASES, headers={**headers, **extra},
                       json={"products": [{"id": sku, "quantity": qty} for sku, qty in lines]})


def test_purchase_is_pending_then_completed(client, store, buyer, run_jobs, redis_conn):
    headers = buyer()
    response = purchase(client, headers, ("PROD001", 2), ("PROD002", 3), ("PROD005", 1))
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "PENDING" and body["purchaseId"] and body["message"]
    pending = client.get(f"{PURCHASES}/{body['purchaseId']}", headers=headers).get_json()
    assert [p["status"] for p in pending["products"]] == ["PENDING"] * 3

    run_jobs()
    done = client.get(f"{PURCHASES}/{body['purchaseId']}", headers=headers).get_json()
    assert done["status"] == "COMPLETED"
    assert done["products"] == [{"id": "PROD001", "quantity": 2, "status": "RESERVED"},
                                {"id": "PROD002", "quantity": 3, "status": "RESERVED"},
                                {"id": "PROD005", "quantity": 1, "status": "RESERVED"}]
    assert availability(client, store, "PROD001") == 48 and availability(client, store, "PROD002") == 97


def test_partially_completed_and_failed(client, store, buyer, run_jobs):
    headers = buyer()
    partial = purchase(client, headers, ("PROD004", 26), ("PROD003", 1), ("NOPE", 1)).get_json()["purchaseId"]
    failed = purchase(client, headers, ("PROD004", 100)).get_json()["purchaseId"]
    run_jobs()
    body = client.get(f"{PURCHASES}/{partial}", headers=headers).get_json()
    assert body["status"] == "PARTIALLY_COMPLETED"
    assert [p["status"] for p in body["products"]] == ["OUT_OF_STOCK", "RESERVED", "NOT_FOUND"]
    assert client.get(f"{PURCHASES}/{failed}", headers=headers).get_json()["status"] == "FAILED"
    assert availability(client, store, "PROD004") == 25 and availability(client, store, "PROD003") == 29


def test_cancel_releases_stock_and_is_harmless_twice(client, store, buyer, run_jobs):
    headers = buyer()
    purchase_id = purchase(client, headers, ("PROD001", 5), ("PROD003", 2)).get_json()["purchaseId"]
    run_jobs()
    assert availability(client, store, "PROD001") == 45
    first = client.post(f"{PURCHASES}/{purchase_id}/cancel", headers=headers)
    assert first.status_code == 200 and first.get_json()["status"] == "CANCELLED"
    second = client.post(f"{PURCHASES}/{purchase_id}/cancel", headers=headers)
    assert second.status_code == 200 and second.get_json()["status"] == "CANCELLED"
    assert availability(client, store, "PROD001") == 50 and availability(client, store, "PROD003") == 30
    body = client.get(f"{PURCHASES}/{purchase_id}", headers=headers).get_json()
    assert {p["status"] for p in body["products"]} == {"RELEASED"}


def test_cancel_before_processing_reserves_nothing(client, store, buyer, run_jobs):
    headers = buyer()
    purchase_id = purchase(client, headers, ("PROD001", 5)).get_json()["purchaseId"]
    assert client.post(f"{PURCHASES}/{purchase_id}/cancel", headers=headers).get_json()["status"] == "CANCELLED"
    run_jobs()
    assert client.get(f"{PURCHASES}/{purchase_id}", headers=headers).get_json()["status"] == "CANCELLED"
    assert availability(client, store, "PROD001") == 50


def test_job_run_twice_reserves_once(app, client, store, buyer, run_jobs, recorded):
    headers = buyer()
    purchase_id = purchase(client, headers, ("PROD002", 10)).get_json()["purchaseId"]
    run_jobs()
    done = {"purchases": {purchase_id: ("COMPLETED", [("PROD002", 10, "RESERVED")])},
            "stock": {**SEEDED_STOCK, "PROD002": 90}, "orders": 1, "jobs": 0}
    assert recorded(store.slug) == done
    with app.app_context():
        from core.purchases.services import enqueue_processing

        enqueue_processing(store.slug)(purchase_id)
    assert recorded(store.slug)["jobs"] == 1
    run_jobs()
    assert availability(client, store, "PROD002") == 90
    assert recorded(store.slug) == done


def test_idempotency_key_returns_the_first_purchase(client, store, buyer, redis_conn, recorded):
    headers = buyer()
    first = purchase(client, headers, ("PROD002", 1), key="k-1")
    again = purchase(client, headers, ("PROD002", 1), key="k-1")
    assert again.status_code == 200
    assert again.get_json()["purchaseId"] == first.get_json()["purchaseId"]
    assert again.headers["Idempotent-Replayed"] == "true"
    from rq import Queue

    assert len(Queue("purchases", connection=redis_conn)) == 1
    different = purchase(client, headers, ("PROD002", 2), key="k-1")
    assert different.status_code == 409
    assert recorded(store.slug) == {**NOTHING, "jobs": 1, "purchases": {
        first.get_json()["purchaseId"]: ("PENDING", [("PROD002", 1, "PENDING")])}}


@pytest.mark.parametrize("body,field", [
    ({"products": []}, "products"),
    ({}, "products"),
    ({"products": [{"id": "PROD001", "quantity": 0}]}, "products.0.quantity"),
    ({"products": [{"id": "PROD001", "quantity": -1}]}, "products.0.quantity"),
    # Past the 32-bit stock column: refused at once, never a PENDING purchase whose job fails.
    ({"products": [{"id": "PROD001", "quantity": 2_147_483_648}]}, "products.0.quantity"),
    ({"products": [{"id": "PROD001", "quantity": 9_223_372_036_854_775_808}]}, "products.0.quantity"),
    ({"products": [{"id": "PROD001"}]}, "products.0.quantity"),
    ({"products": [{"quantity": 1}]}, "products.0.id"),
])
def test_invalid_purchase_is_400_and_records_nothing(client, store, buyer, redis_conn, recorded, body, field):
    headers = buyer()
    response = client.post(PURCHASES, headers=headers, json=body)
    assert response.status_code == 400
    assert field in response.get_json()["errors"]
    assert recorded(store.slug) == NOTHING


def test_too_many_lines_is_400(client, store, buyer, superadmin_headers, recorded):
    client.patch(f"/superadmin/tenants/{store.slug}", headers=superadmin_headers,
                 json={"limits": {"maxProductsPerOrder": 2}})
    response = purchase(client, buyer(), ("PROD001", 1), ("PROD002", 1), ("PROD003", 1))
    assert response.status_code == 400
    assert "maxProductsPerOrder" in response.get_json()["detail"]
    assert recorded(store.slug) == NOTHING


def test_other_customers_purchase_is_404(client, store, buyer, recorded):
    mine = purchase(client, buyer(), ("PROD001", 1)).get_json()["purchaseId"]
    other = buyer("other@acme.example.com")
    assert client.get(f"{PURCHASES}/{mine}", headers=other).status_code == 404
    assert client.post(f"{PURCHASES}/{mine}/cancel", headers=other).status_code == 404
    assert recorded(store.slug)["purchases"] == {mine: ("PENDING", [("PROD001", 1, "PENDING")])}


def test_other_stores_token_is_refused(client, store, buyer, create_tenant, recorded):
    headers = buyer()
    other = create_tenant()
    assert purchase(client, {**headers, "X-Tenant-Slug": other}, ("PROD001", 1)).status_code == 401
    assert recorded(other) == NOTHING and recorded(store.slug) == NOTHING


def test_only_customers_may_purchase(client, store, recorded):
    assert purchase(client, store.partner, ("PROD001", 1)).status_code == 403
    assert purchase(client, {"X-Tenant-Slug": store.slug}, ("PROD001", 1)).status_code == 401
    assert recorded(store.slug) == NOTHING


def test_unknown_purchase_is_404(client, store, buyer, recorded):
    headers = buyer()
    unknown = f"{PURCHASES}/00000000-0000-4000-8000-000000000000"
    assert client.get(unknown, headers=headers).status_code == 404
    assert client.post(f"{unknown}/cancel", headers=headers).status_code == 404
    assert recorded(store.slug) == NOTHING


def test_feature_disabled_is_403(client, store, buyer, superadmin_headers, recorded):
    headers = buyer()
    client.patch(f"/superadmin/tenants/{store.slug}", headers=superadmin_headers,
                 json={"features": {"purchaseGateway": False}})
    response = purchase(client, headers, ("PROD001", 1))
    assert response.status_code == 403 and response.get_json()["title"] == "Feature Disabled"
    assert recorded(store.slug) == NOTHING


def test_reserved_items_become_an_api_order_cancelled_with_the_purchase(app, client, store, buyer, run_jobs):
    headers = buyer()
    purchase_id = purchase(client, headers, ("PROD001", 2), ("NOPE", 1), ("PROD005", 1)).get_json()["purchaseId"]
    run_jobs()
    body = client.get(f"{PURCHASES}/{purchase_id}", headers=headers).get_json()
    assert body["status"] == "PARTIALLY_COMPLETED" and body["orderId"]
    with app.app_context():
        from core.orders.models import Order
        from core.tenancy.admin import get_tenant
        from core.unit_of_work import own_transaction

        url = get_tenant(store.slug).db_url
        with own_transaction(url, write=False) as session:
            order = session.get(Order, body["orderId"])
            assert order.channel == "api" and order.status == "PENDING"
            assert sorted((i.sku, i.quantity) for i in order.items) == [("PROD001", 2), ("PROD005", 1)]
    client.post(f"{PURCHASES}/{purchase_id}/cancel", headers=headers)
    with app.app_context():
        with own_transaction(url, write=False) as session:
            assert session.get(Order, body["orderId"]).status == "CANCELLED"
    assert availability(client, store, "PROD001") == 50 and availability(client, store, "PROD005") == 40


def test_products_by_id_or_sku_priced_now_and_inactive_ones_not_found(app, client, store, buyer, run_jobs,
                                                                      tenant_db):
    """The orchestrator finds each product by UUID or SKU in the same SELECT that locks the
    purchase; an inactive product is NOT_FOUND, and the order is priced at the final prices read
    there."""
    from sqlalchemy import text

    with tenant_db(store.slug) as session:
        prices = {sku: Decimal(str(price))  # SQLite's raw rows give floats
                  for sku, price in session.execute(text("SELECT sku, final_price FROM products"))}
        uuid_of_prod002 = session.execute(text("SELECT id FROM products WHERE sku = 'PROD002'")).scalar()
        session.execute(text("UPDATE products SET is_active = false WHERE sku = 'PROD004'"))
    headers = buyer()
    purchase_id = purchase(client, headers, ("PROD001", 1), (uuid_of_prod002, 2), ("PROD004", 1)).get_json()["purchaseId"]
    run_jobs()
    body = client.get(f"{PURCHASES}/{purchase_id}", headers=headers).get_json()
    assert [(p["id"], p["status"]) for p in body["products"]] == [
        ("PROD001", "RESERVED"), (uuid_of_prod002, "RESERVED"), ("PROD004", "NOT_FOUND")]
    with tenant_db(store.slug) as session:
        lines = session.execute(text("SELECT sku, name, unit_price, quantity FROM order_items WHERE order_id = :o "
                                     "ORDER BY position"), {"o": body["orderId"]}).all()
        subtotal = session.execute(text("SELECT subtotal FROM orders WHERE id = :o"), {"o": body["orderId"]}).scalar()
        inactive_stock = session.execute(text("SELECT stock FROM products WHERE sku = 'PROD004'")).scalar()
    assert [(sku, quantity) for sku, _name, _price, quantity in lines] == [("PROD001", 1), ("PROD002", 2)]
    assert all(name for _sku, name, _price, _quantity in lines)
    assert [Decimal(str(price)) for _sku, _name, price, _quantity in lines] == [prices["PROD001"], prices["PROD002"]]
    assert Decimal(str(subtotal)) == prices["PROD001"] + 2 * prices["PROD002"]
    assert inactive_stock == 25


def price_and_stock(tenant_db, slug: str, **products: tuple[str, int]) -> None:
    """Set each SKU's (price, stock), e.g. PROD001=("10.00", 2_000_000_000)."""
    from sqlalchemy import update

    from core.catalog.models import Product

    with tenant_db(slug) as session:
        for sku, (price, stock) in products.items():
            session.execute(update(Product).where(Product.sku == sku).values(price=Decimal(price), discount=0,
                                                                              stock=stock))


@on_both_backends
def test_a_line_worth_more_than_an_order_can_hold_is_rejected_and_the_rest_reserved(
        client, store, buyer, run_jobs, tenant_db, recorded):
    price_and_stock(tenant_db, store.slug, PROD001=("10.00", 2_000_000_000))
    headers = buyer()
    purchase_id = purchase(client, headers, ("PROD001", 1_000_000_000), ("PROD002", 1)).get_json()["purchaseId"]
    run_jobs()
    body = client.get(f"{PURCHASES}/{purchase_id}", headers=headers).get_json()
    assert body["status"] == "PARTIALLY_COMPLETED"
    assert [p["status"] for p in body["products"]] == ["REJECTED", "RESERVED"]
    after = recorded(store.slug)
    assert after["stock"]["PROD001"] == 2_000_000_000 and after["stock"]["PROD002"] == 99 and after["orders"] == 1


@on_both_backends
def test_a_purchase_that_cannot_be_processed_ends_failed_with_its_reason_never_pending(
        client, store, buyer, run_jobs, tenant_db, recorded, app):
    """Each line fits an order, their total does not: create_order refuses it (ValidationFailed)
    and would on every retry. The job ends the purchase FAILED, each product REJECTED, with
    the reason, and the recovery sweep has nothing to queue again."""
    from core.recovery import requeue_lost_jobs

    price_and_stock(tenant_db, store.slug, PROD001=("6000000000.00", 10), PROD002=("6000000000.00", 10))
    headers = buyer()
    purchase_id = purchase(client, headers, ("PROD001", 1), ("PROD002", 1)).get_json()["purchaseId"]
    run_jobs()
    body = client.get(f"{PURCHASES}/{purchase_id}", headers=headers).get_json()
    assert body["status"] == "FAILED"
    assert [p["status"] for p in body["products"]] == ["REJECTED", "REJECTED"]
    after = recorded(store.slug)
    assert after["purchases"][purchase_id][0] == "FAILED" and after["orders"] == 0 and after["jobs"] == 0
    assert after["stock"]["PROD001"] == 10 and after["stock"]["PROD002"] == 10
    with tenant_db(store.slug) as session:
        from core.purchases.models import Purchase

        assert "largest amount an order can hold" in session.get(Purchase, purchase_id).message
    with app.app_context():
        assert requeue_lost_jobs(timedelta(0)).purchases == {}
