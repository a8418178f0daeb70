"""The catalog's SQL on PostgreSQL: ILIKE search, Decimal price filters, the grouped category
count, and product creation through the inventory API."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_app, superadmin_headers_pg):
    client = pg_app.test_client()
    slug = f"pg-cat-{uuid.uuid4().hex[:8]}"
    created = client.post("/superadmin/tenants", headers=superadmin_headers_pg,
                          json={"slug": slug, "name": "Catalog", "planCode": "PREMIUM"})
    assert created.status_code == 201, created.get_json()
    return client, slug


def test_catalog_listing_filters_and_counts_on_postgres(pg_store):
    client, slug = pg_store
    headers = {"X-Tenant-Slug": slug}
    search = client.get("/api/catalog/products", headers=headers, query_string={"search": "hEaDpHoNeS"}).get_json()
    assert [p["name"] for p in search["items"]] == ["Wireless Headphones"]
    assert search["items"][0]["finalPrice"] == Decimal("71.99")

    priced = client.get("/api/catalog/products", headers=headers,
                        query_string={"minPrice": "71.99", "maxPrice": "127.49"}).get_json()
    # final prices: headphones 71.99, webcam 85.49, speaker 127.49 (149.99 × 0.85 = 127.4915)
    assert [p["name"] for p in priced["items"]] == ["Bluetooth Speaker", "Webcam 1080p", "Wireless Headphones"]

    categories = client.get("/api/catalog/categories", headers=headers).get_json()
    assert {c["name"]: c["productCount"] for c in categories} == {
        "Accessories": 2, "Audio": 2, "Computers": 2, "Video": 1}
    audio = next(c["id"] for c in categories if c["name"] == "Audio")
    in_audio = client.get("/api/catalog/products", headers=headers, query_string={"categoryId": audio}).get_json()
    assert [p["name"] for p in in_audio["items"]] == ["Bluetooth Speaker", "Wireless Headphones"]

    detail = client.get(f"/api/catalog/products/{in_audio['items'][0]['id']}", headers=headers)
    assert detail.status_code == 200 and detail.get_json()["discount"] == Decimal("0.15")
    assert client.get("/api/catalog/products/not-a-uuid", headers=headers).status_code == 404


def test_inventory_add_and_duplicate_on_postgres(pg_store, superadmin_headers_pg):
    client, slug = pg_store
    headers = {"X-Tenant-Slug": slug, **superadmin_headers_pg}
    body = {"product_id": "PROD006", "name": "Mechanical Keyboard", "quantity": 30, "price": Decimal("129.99")}
    assert client.post("/inventory", headers=headers, json=body).status_code == 201
    assert client.post("/inventory", headers=headers, json=body).status_code == 409
    listed = client.get("/inventory", headers={"X-Tenant-Slug": slug}).get_json()
    assert [item["product_id"] for item in listed] == ["PROD001", "PROD002", "PROD003", "PROD004", "PROD005",
                                                       "PROD006"]
