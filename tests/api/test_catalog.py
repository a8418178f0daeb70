"""Section 3 of multi-tenant-platform-api.md: the public catalog, over HTTP on SQLite (and on
PostgreSQL for the SQL that differs: ILIKE search, Decimal price filters, grouped counts)."""
from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from tests.support.backends import on_both_backends

PRODUCTS = "/api/catalog/products"
CATEGORIES = "/api/catalog/categories"
PRODUCT_KEYS = {"id", "name", "description", "price", "discount", "finalPrice", "stock", "isActive", "images",
                "categories", "dynamicAttributes"}


def tenant(slug: str) -> dict:
    return {"X-Tenant-Slug": slug}


@pytest.fixture
def shop(create_tenant, tenant_db):
    """Factory: a Ready tenant whose seeded demo catalog has been removed (an empty shop)."""

    def factory(**kwargs) -> str:
        from sqlalchemy import delete

        from core.catalog.models import Category, Product, product_categories

        slug = create_tenant(**kwargs)
        with tenant_db(slug) as session:
            session.execute(delete(product_categories))
            session.execute(delete(Product))
            session.execute(delete(Category))
        return slug

    return factory


def set_tenant_status(app, slug: str, status: str) -> None:
    with app.app_context():
        from core.extensions import db
        from core.tenancy.admin import get_tenant

        get_tenant(slug).status = status
        db.session.commit()


# --- list ---------------------------------------------------------------------------------------

def test_list_products_returns_the_documented_shape_for_the_seeded_store(client, create_tenant):
    slug = create_tenant()
    response = client.get(PRODUCTS, headers=tenant(slug))
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["items", "totalCount", "page", "pageSize", "totalPages"]
    assert (body["totalCount"], body["page"], body["pageSize"], body["totalPages"]) == (5, 1, 20, 1)
    assert [item["name"] for item in body["items"]] == [
        "Bluetooth Speaker", "Laptop Stand", "USB-C Charger", "Webcam 1080p", "Wireless Headphones"]
    headphones = body["items"][-1]
    assert set(headphones) == PRODUCT_KEYS
    uuid.UUID(headphones["id"])
    assert headphones["stock"] == 50 and headphones["isActive"] is True
    assert headphones["images"] == ["/static/img/products/headphones.svg"]
    assert headphones["categories"][0]["name"] == "Audio" and set(headphones["categories"][0]) == {"id", "name"}
    assert headphones["dynamicAttributes"]["brand"] == "AudioTech"
    # Money as JSON numbers with two decimals: 79.99 × (1 − 0.10) = 71.991 → 71.99.
    text = response.get_data(as_text=True)
    assert '"price":79.99,"discount":0.10,"finalPrice":71.99' in text
    assert '"price":29.99,"discount":0.00,"finalPrice":29.99' in text


def test_list_products_paginates_with_count_and_pages(client, shop, create_product):
    slug = shop()
    for i in range(45):
        create_product(slug, f"Item {i:02d}")
    pages = [client.get(PRODUCTS, headers=tenant(slug), query_string={"page": p, "pageSize": 20}).get_json()
             for p in (1, 2, 3, 4)]
    assert [(b["totalCount"], b["totalPages"], b["page"], b["pageSize"]) for b in pages] == [
        (45, 3, 1, 20), (45, 3, 2, 20), (45, 3, 3, 20), (45, 3, 4, 20)]
    assert [len(b["items"]) for b in pages] == [20, 20, 5, 0]
    names = [item["name"] for b in pages for item in b["items"]]
    assert names == [f"Item {i:02d}" for i in range(45)]


def test_list_products_defaults_to_page_one_of_twenty(client, shop, create_product):
    slug = shop()
    for i in range(21):
        create_product(slug, f"Item {i:02d}")
    body = client.get(PRODUCTS, headers=tenant(slug)).get_json()
    assert (body["page"], body["pageSize"], len(body["items"]), body["totalPages"]) == (1, 20, 20, 2)


def test_list_products_page_size_of_one_hundred_is_allowed(client, shop, create_product):
    slug = shop()
    create_product(slug, "Only")
    body = client.get(PRODUCTS, headers=tenant(slug), query_string={"pageSize": 100}).get_json()
    assert (body["pageSize"], body["totalPages"], body["totalCount"]) == (100, 1, 1)


def test_list_products_of_an_empty_shop_has_no_pages(client, shop):
    body = client.get(PRODUCTS, headers=tenant(shop())).get_json()
    assert body == {"items": [], "totalCount": 0, "page": 1, "pageSize": 20, "totalPages": 0}


def test_list_products_orders_equal_names_by_id(client, shop, create_product):
    slug = shop()
    ids = sorted(create_product(slug, "Same name") for _ in range(4))
    body = client.get(PRODUCTS, headers=tenant(slug), query_string={"pageSize": 2, "page": 2}).get_json()
    assert [item["id"] for item in body["items"]] == ids[2:]


@on_both_backends
def test_list_products_search_is_a_case_insensitive_substring_of_the_name(client, create_tenant):
    slug = create_tenant()
    for term in ("headphones", "HEADPHONES", "hEaDpH", "less Head"):
        body = client.get(PRODUCTS, headers=tenant(slug), query_string={"search": term}).get_json()
        assert [item["name"] for item in body["items"]] == ["Wireless Headphones"], term
        assert body["totalCount"] == 1, term


def test_list_products_search_matches_names_only(client, create_tenant):
    slug = create_tenant()
    # "noise cancelling" is in the headphones' description, not in any name.
    body = client.get(PRODUCTS, headers=tenant(slug), query_string={"search": "noise"}).get_json()
    assert body["totalCount"] == 0


@on_both_backends
def test_list_products_search_treats_wildcards_literally(client, shop, create_product):
    slug = shop()
    create_product(slug, "100% Cotton Shirt")
    create_product(slug, "1000 Cotton Buds")
    create_product(slug, "snake_case Mug")
    create_product(slug, "snakeXcase Mug")
    percent = client.get(PRODUCTS, headers=tenant(slug), query_string={"search": "100%"}).get_json()
    underscore = client.get(PRODUCTS, headers=tenant(slug), query_string={"search": "e_c"}).get_json()
    assert [i["name"] for i in percent["items"]] == ["100% Cotton Shirt"]
    assert [i["name"] for i in underscore["items"]] == ["snake_case Mug"]


def test_list_products_blank_search_lists_everything(client, create_tenant):
    body = client.get(PRODUCTS, headers=tenant(create_tenant()), query_string={"search": "   "}).get_json()
    assert body["totalCount"] == 5


@on_both_backends
def test_list_products_filters_by_category(client, shop, create_category, create_product):
    slug = shop()
    audio, video = create_category(slug, "Audio"), create_category(slug, "Video")
    create_product(slug, "Speaker", category_ids=[audio])
    create_product(slug, "Camera", category_ids=[video])
    create_product(slug, "Headset", category_ids=[audio, video])
    create_product(slug, "Retired speaker", category_ids=[audio], is_active=False)
    create_product(slug, "Loose cable")
    body = client.get(PRODUCTS, headers=tenant(slug), query_string={"categoryId": audio}).get_json()
    assert [item["name"] for item in body["items"]] == ["Headset", "Speaker"]
    assert body["totalCount"] == 2
    narrowed = client.get(PRODUCTS, headers=tenant(slug), query_string={"categoryId": audio, "search": "speak"})
    assert [item["name"] for item in narrowed.get_json()["items"]] == ["Speaker"]
    assert narrowed.get_json()["totalCount"] == 1
    # The product still shows all its categories, not only the one filtered on.
    assert [c["name"] for c in body["items"][0]["categories"]] == ["Audio", "Video"]


def test_list_products_unknown_category_lists_nothing(client, create_tenant):
    body = client.get(PRODUCTS, headers=tenant(create_tenant()), query_string={"categoryId": str(uuid.uuid4())})
    assert body.status_code == 200
    assert body.get_json()["totalCount"] == 0 and body.get_json()["items"] == []


def test_list_products_accepts_an_uppercase_category_uuid(client, shop, create_category, create_product):
    slug = shop()
    audio = create_category(slug, "Audio")
    create_product(slug, "Speaker", category_ids=[audio])
    body = client.get(PRODUCTS, headers=tenant(slug), query_string={"categoryId": audio.upper()}).get_json()
    assert body["totalCount"] == 1


@on_both_backends
def test_list_products_price_filters_apply_to_the_final_price(client, shop, create_product):
    slug = shop()
    create_product(slug, "Half off", price="100.00", discount=Decimal("0.5"))  # final 50.00
    create_product(slug, "Full price", price="60.00")  # final 60.00
    create_product(slug, "Cheap", price="9.99")

    def names(**query):
        response = client.get(PRODUCTS, headers=tenant(slug), query_string=query)
        assert response.status_code == 200
        return [item["name"] for item in response.get_json()["items"]]

    assert names(minPrice="55") == ["Full price"]  # 100.00 before the discount does not count
    assert names(maxPrice="50") == ["Cheap", "Half off"]  # inclusive
    assert names(minPrice="50", maxPrice="60") == ["Full price", "Half off"]  # both ends inclusive
    assert names(minPrice="50.01", maxPrice="59.99") == []
    assert names(minPrice="9.99", maxPrice="9.99") == ["Cheap"]
    assert names(minPrice="60", maxPrice="50") == []  # a range the wrong way round finds nothing


def test_list_products_combines_every_filter(client, shop, create_category, create_product):
    slug = shop()
    audio = create_category(slug, "Audio")
    create_product(slug, "Blue Speaker", price="40.00", category_ids=[audio])
    create_product(slug, "Blue Speaker XL", price="90.00", category_ids=[audio])
    create_product(slug, "Blue Camera", price="40.00")
    create_product(slug, "Red Speaker", price="40.00", category_ids=[audio])
    body = client.get(PRODUCTS, headers=tenant(slug), query_string={
        "search": "blue", "categoryId": audio, "minPrice": "10", "maxPrice": "50"}).get_json()
    assert [item["name"] for item in body["items"]] == ["Blue Speaker"]


def test_list_products_hides_inactive_products(client, shop, create_product):
    slug = shop()
    create_product(slug, "Visible")
    create_product(slug, "Hidden", is_active=False)
    body = client.get(PRODUCTS, headers=tenant(slug), query_string={"search": "i"}).get_json()
    assert [item["name"] for item in body["items"]] == ["Visible"]
    assert body["totalCount"] == 1


def test_list_products_hides_inactive_categories_of_a_product(client, shop, create_category, create_product):
    slug = shop()
    live, retired = create_category(slug, "Live"), create_category(slug, "Retired", is_active=False)
    create_product(slug, "Thing", category_ids=[live, retired])
    item = client.get(PRODUCTS, headers=tenant(slug)).get_json()["items"][0]
    assert item["categories"] == [{"id": live, "name": "Live"}]


@pytest.mark.parametrize(("query", "field"), [
    ({"page": "0"}, "page"),
    ({"page": "-1"}, "page"),
    ({"page": "two"}, "page"),
    ({"page": "1.5"}, "page"),
    ({"pageSize": "0"}, "pageSize"),
    ({"pageSize": "101"}, "pageSize"),
    ({"pageSize": "many"}, "pageSize"),
    ({"minPrice": "-0.01"}, "minPrice"),
    ({"minPrice": "cheap"}, "minPrice"),
    ({"minPrice": "NaN"}, "minPrice"),
    ({"maxPrice": "-5"}, "maxPrice"),
    ({"maxPrice": "Infinity"}, "maxPrice"),
    ({"categoryId": "electronics"}, "categoryId"),
    ({"categoryId": "1234"}, "categoryId"),
    ({"search": "x" * 201}, "search"),
])
def test_list_products_refuses_invalid_query_with_field_errors(client, create_tenant, query, field):
    response = client.get(PRODUCTS, headers=tenant(create_tenant()), query_string=query)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["title"] == "Validation Error" and body["status"] == 400
    assert list(body["errors"]) == [field]
    assert body["errors"][field] and all(isinstance(m, str) for m in body["errors"][field])


def test_list_products_lists_every_invalid_field_at_once(client, create_tenant):
    response = client.get(PRODUCTS, headers=tenant(create_tenant()),
                          query_string={"page": "0", "pageSize": "500", "categoryId": "x"})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"page", "pageSize", "categoryId"}


def test_list_products_query_count_does_not_grow_with_page_size(client, shop, create_category, create_product,
                                                                count_queries):
    """A page, its products' categories and the catalog's revision are one statement; the count a
    second one, run only while this process does not yet know the count of that revision."""
    slug = shop()
    categories = [create_category(slug, f"Category {i}") for i in range(3)]
    for i in range(60):
        create_product(slug, f"Item {i:02d}", category_ids=[categories[i % 3], categories[(i + 1) % 3]])

    def queries_for(page_size: int) -> list[str]:
        with count_queries(slug) as statements:
            response = client.get(PRODUCTS, headers=tenant(slug), query_string={"pageSize": page_size})
        assert response.status_code == 200
        assert len(response.get_json()["items"]) == page_size
        assert response.get_json()["totalCount"] == 60
        assert all(len(item["categories"]) == 2 for item in response.get_json()["items"]
                   if item["name"].startswith("Item"))
        return [s for s in statements if s.lstrip().upper().startswith("SELECT")]

    first, other_size, again = queries_for(5), queries_for(50), queries_for(5)
    assert len(first) == 2 and "count(*)" in first[1]   # the page, then its count
    assert len(other_size) == 1                          # the count is known: the page alone
    assert again == []                                   # that very page is kept (core.catalog.pages)


@on_both_backends
# --- details ------------------------------------------------------------------------------------

def test_get_product_returns_the_product_dto(client, shop, create_category, create_product):
    slug = shop()
    audio = create_category(slug, "Audio")
    product_id = create_product(
        slug, "Headphones", price="299.99", discount=Decimal("0.15"), quantity=50, description="Premium",
        images=["https://img.example/1.jpg"], category_ids=[audio], dynamic_attributes={"color": "Black"})
    response = client.get(f"{PRODUCTS}/{product_id}", headers=tenant(slug))
    assert response.status_code == 200
    assert response.get_json() == {
        "id": product_id, "name": "Headphones", "description": "Premium", "price": Decimal("299.99"),
        "discount": Decimal("0.15"), "finalPrice": Decimal("254.99"), "stock": 50, "isActive": True,
        "images": ["https://img.example/1.jpg"], "categories": [{"id": audio, "name": "Audio"}],
        "dynamicAttributes": {"color": "Black"},
    }
    assert '"discount":0.15,"finalPrice":254.99' in response.get_data(as_text=True)


@on_both_backends
def test_get_product_keeps_a_discount_finer_than_cents(client, shop, create_product):
    slug = shop()
    product_id = create_product(slug, "Odd", price="80.00", discount=Decimal("0.125"))
    body = client.get(f"{PRODUCTS}/{product_id}", headers=tenant(slug)).get_json()
    assert (body["discount"], body["finalPrice"]) == (Decimal("0.125"), Decimal("70.00"))


def test_get_product_accepts_the_uuid_in_uppercase(client, shop, create_product):
    slug = shop()
    product_id = create_product(slug, "Thing")
    assert client.get(f"{PRODUCTS}/{product_id.upper()}", headers=tenant(slug)).get_json()["id"] == product_id


@on_both_backends
def test_get_product_not_found_is_404(client, shop, create_product):
    slug = shop()
    inactive = create_product(slug, "Hidden", sku="HIDDEN1", is_active=False)
    for which, key in {"unknown": str(uuid.uuid4()), "inactive": inactive, "not-a-uuid": "nope",
                       "sku": "HIDDEN1"}.items():
        response = client.get(f"{PRODUCTS}/{key}", headers=tenant(slug))
        assert response.status_code == 404, which
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["title"] == "Not Found"


@on_both_backends
# --- categories ---------------------------------------------------------------------------------

def test_list_categories_counts_active_products_only(client, shop, create_category, create_product):
    slug = shop()
    audio = create_category(slug, "Audio", description="Things you listen with")
    video = create_category(slug, "Video")
    empty = create_category(slug, "Empty")
    create_category(slug, "Retired", is_active=False)
    create_product(slug, "Speaker", category_ids=[audio])
    create_product(slug, "Headset", category_ids=[audio, video])
    create_product(slug, "Old speaker", category_ids=[audio], is_active=False)
    create_product(slug, "Old camera", category_ids=[video], is_active=False)
    response = client.get(CATEGORIES, headers=tenant(slug))
    assert response.status_code == 200
    assert response.get_json() == [
        {"id": audio, "name": "Audio", "description": "Things you listen with", "productCount": 2},
        {"id": empty, "name": "Empty", "description": "", "productCount": 0},
        {"id": video, "name": "Video", "description": "", "productCount": 1},
    ]


@on_both_backends
def test_list_categories_of_the_seeded_store(client, create_tenant):
    body = client.get(CATEGORIES, headers=tenant(create_tenant())).get_json()
    assert {c["name"]: c["productCount"] for c in body} == {
        "Accessories": 2, "Audio": 2, "Computers": 2, "Video": 1}


def test_list_categories_is_one_query(client, create_tenant, count_queries):
    slug = create_tenant()
    with count_queries(slug) as statements:
        assert client.get(CATEGORIES, headers=tenant(slug)).status_code == 200
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


# --- tenant and features ------------------------------------------------------------------------

ENDPOINTS = [PRODUCTS, f"{PRODUCTS}/{uuid.uuid4()}", CATEGORIES]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_catalog_unknown_tenant_is_409(client, path):
    response = client.get(path, headers=tenant("no-such-store"))
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Tenant not resolved"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_catalog_without_tenant_header_is_409(client, path):
    response = client.get(path)
    assert response.status_code == 409
    assert response.get_json()["title"] == "Tenant not resolved"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_catalog_suspended_tenant_is_423(client, create_tenant, superadmin_headers, path):
    slug = create_tenant()
    suspended = client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers, json={"status": "Suspended"})
    assert suspended.status_code == 200
    response = client.get(path, headers=tenant(slug))
    assert response.status_code == 423
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("status", ["Pending", "Queued", "Provisioning", "Seeding", "Failed"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_catalog_tenant_not_ready_is_409(app, client, create_tenant, path, status):
    slug = create_tenant()
    set_tenant_status(app, slug, status)
    response = client.get(path, headers=tenant(slug))
    assert response.status_code == 409
    assert status in response.get_json()["detail"]


@pytest.mark.parametrize("path", [PRODUCTS, "product"])
def test_catalog_feature_disabled_is_403(client, create_tenant, superadmin_headers, path):
    slug = create_tenant()
    product_id = client.get(PRODUCTS, headers=tenant(slug)).get_json()["items"][0]["id"]
    path = f"{PRODUCTS}/{product_id}" if path == "product" else path
    patched = client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers,
                           json={"features": {"catalog": False}})
    assert patched.status_code == 200
    response = client.get(path, headers=tenant(slug))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Feature Disabled"
    # Categories are governed by their own flag.
    assert client.get(CATEGORIES, headers=tenant(slug)).status_code == 200


def test_categories_feature_disabled_is_403(client, create_tenant, superadmin_headers):
    slug = create_tenant()
    patched = client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers,
                           json={"features": {"categories": False}})
    assert patched.status_code == 200
    response = client.get(CATEGORIES, headers=tenant(slug))
    assert response.status_code == 403
    assert response.get_json()["title"] == "Feature Disabled"
    assert client.get(PRODUCTS, headers=tenant(slug)).status_code == 200
    # Removing the override gives the plan's value back.
    client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers, json={"features": {"categories": None}})
    assert client.get(CATEGORIES, headers=tenant(slug)).status_code == 200


@pytest.mark.parametrize("path", [PRODUCTS, CATEGORIES])
def test_catalog_is_public_and_never_reads_a_token(client, create_tenant, path):
    slug = create_tenant()
    response = client.get(path, headers={**tenant(slug), "Authorization": "Bearer not-a-token"})
    assert response.status_code == 200
    assert response.get_json() == client.get(path, headers=tenant(slug)).get_json()


def test_catalog_tenants_are_isolated(client, shop, create_product):
    first, second = shop(), shop()
    product_id = create_product(first, "Mine")
    assert client.get(PRODUCTS, headers=tenant(second)).get_json()["totalCount"] == 0
    assert client.get(f"{PRODUCTS}/{product_id}", headers=tenant(second)).status_code == 404
    assert client.get(f"{PRODUCTS}/{product_id}", headers=tenant(first)).status_code == 200


def test_catalog_is_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/catalog/products", "/api/catalog/products/{product_id}", "/api/catalog/categories"} <= set(paths)
