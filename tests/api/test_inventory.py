"""inventory-service.md over HTTP on SQLite: stock levels by SKU or UUID, in snake_case."""
from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from tests.support.backends import on_both_backends, on_postgres

INVENTORY = "/inventory"
SEEDED = [
    {"product_id": "PROD001", "name": "Wireless Headphones", "quantity": 50, "price": Decimal("79.99"), "status": "in_stock"},
    {"product_id": "PROD002", "name": "USB-C Charger", "quantity": 100, "price": Decimal("29.99"), "status": "in_stock"},
    {"product_id": "PROD003", "name": "Bluetooth Speaker", "quantity": 30, "price": Decimal("149.99"), "status": "in_stock"},
    {"product_id": "PROD004", "name": "Laptop Stand", "quantity": 25, "price": Decimal("49.99"), "status": "in_stock"},
    {"product_id": "PROD005", "name": "Webcam 1080p", "quantity": 40, "price": Decimal("89.99"), "status": "in_stock"},
]
NEW_PRODUCT = '{"product_id": "PROD006", "name": "Mechanical Keyboard", "quantity": 30, "price": 129.99}'
# Every write of the inventory API, listed once: (method, path, JSON body).
WRITES = [
    ("post", INVENTORY, NEW_PRODUCT),
    ("put", f"{INVENTORY}/PROD001/reserve", '{"quantity": 5}'),
    ("put", f"{INVENTORY}/PROD001/replenish", '{"quantity": 5}'),
]
SEEDED_LEVELS = {item["product_id"]: item["quantity"] for item in SEEDED}
# What each of WRITES leaves in the seeded store (stock by SKU) and the fields of its answer.
WRITTEN = {
    INVENTORY: ({**SEEDED_LEVELS, "PROD006": 30},
                {"product_id": "PROD006", "quantity": 30, "price": Decimal("129.99"), "status": "in_stock"}),
    f"{INVENTORY}/PROD001/reserve": ({**SEEDED_LEVELS, "PROD001": 45},
                                     {"product_id": "PROD001", "previous_quantity": 50, "remaining_quantity": 45}),
    f"{INVENTORY}/PROD001/replenish": ({**SEEDED_LEVELS, "PROD001": 55},
                                       {"product_id": "PROD001", "previous_quantity": 50, "new_quantity": 55}),
}


def tenant(slug: str) -> dict:
    return {"X-Tenant-Slug": slug}


@pytest.fixture
def admin_store(create_tenant, api_client_headers):
    """Factory: a new seeded tenant and the headers of one of its store admins (API client)."""

    def factory(**kwargs) -> tuple[str, dict]:
        slug = create_tenant(**kwargs)
        return slug, {**tenant(slug), **api_client_headers(slug, "store_admin")}

    return factory


def send(client, method: str, path: str, headers: dict, body: str | None = None):
    return getattr(client, method)(path, headers=headers, data=body, content_type="application/json")


def stock_of(client, slug: str, key: str) -> int:
    response = client.get(f"{INVENTORY}/{key}", headers=tenant(slug))
    assert response.status_code == 200
    return response.get_json()["quantity"]


def levels(client, slug: str) -> dict[str, int]:
    """Every product's stock by SKU, as GET /inventory lists them (a product added shows here)."""
    response = client.get(INVENTORY, headers=tenant(slug))
    assert response.status_code == 200
    return {item["product_id"]: item["quantity"] for item in response.get_json()}


@on_both_backends
# --- reads --------------------------------------------------------------------------------------

def test_list_inventory_lists_every_product_by_sku(client, create_tenant):
    slug = create_tenant()
    response = client.get(INVENTORY, headers=tenant(slug))
    assert response.status_code == 200
    assert response.get_json() == SEEDED
    assert '"price":29.99' in response.get_data(as_text=True)


def test_list_inventory_includes_inactive_products(client, create_tenant, create_product):
    slug = create_tenant()
    create_product(slug, "Retired Mouse", sku="PROD000", quantity=3, price="5.00", is_active=False)
    body = client.get(INVENTORY, headers=tenant(slug)).get_json()
    assert body[0] == {"product_id": "PROD000", "name": "Retired Mouse", "quantity": 3, "price": Decimal("5.00"),
                       "status": "low_stock"}
    assert len(body) == 6


def test_get_inventory_item_by_sku(client, create_tenant):
    slug = create_tenant()
    response = client.get(f"{INVENTORY}/PROD003", headers=tenant(slug))
    assert response.status_code == 200
    assert response.get_json() == SEEDED[2]


def test_get_inventory_item_by_uuid_answers_with_the_sku(client, create_tenant, create_product):
    slug = create_tenant()
    product_id = create_product(slug, "Desk Lamp", sku="LAMP-1", quantity=12, price="24.50")
    response = client.get(f"{INVENTORY}/{product_id}", headers=tenant(slug))
    assert response.get_json() == {"product_id": "LAMP-1", "name": "Desk Lamp", "quantity": 12,
                                   "price": Decimal("24.50"), "status": "in_stock"}


@pytest.mark.parametrize(("stock", "threshold", "status"), [
    (0, 10, "out_of_stock"), (1, 10, "low_stock"), (9, 10, "low_stock"), (10, 10, "in_stock"),
    (2, 3, "low_stock"), (3, 3, "in_stock"), (0, 0, "out_of_stock"),
])
def test_stock_status_follows_the_product_threshold(client, create_tenant, create_product, stock, threshold, status):
    slug = create_tenant()
    create_product(slug, "Gadget", sku="GADGET", quantity=stock, low_stock_threshold=threshold)
    response = client.get(f"{INVENTORY}/GADGET/status", headers=tenant(slug))
    assert response.status_code == 200
    assert response.get_json() == {"product_id": "GADGET", "quantity": stock, "status": status,
                                   "low_stock_threshold": threshold}
    assert client.get(f"{INVENTORY}/GADGET", headers=tenant(slug)).get_json()["status"] == status


def test_stock_status_by_uuid(client, create_tenant, create_product):
    slug = create_tenant()
    product_id = create_product(slug, "Gadget", sku="GADGET", quantity=4)
    assert client.get(f"{INVENTORY}/{product_id}/status", headers=tenant(slug)).get_json()["product_id"] == "GADGET"


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("get", "/status"), ("put", "/reserve"),
                                                ("put", "/replenish")])
def test_inventory_unknown_product_is_404(client, admin_store, method, suffix):
    slug, headers = admin_store()
    for key in ("PROD999", str(uuid.uuid4())):
        response = send(client, method, f"{INVENTORY}/{key}{suffix}", headers,
                        '{"quantity": 1}' if method == "put" else None)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
    assert client.get(INVENTORY, headers=tenant(slug)).get_json() == SEEDED


def test_inventory_reads_need_no_token(client, create_tenant):
    slug = create_tenant()
    answers = {path: client.get(path, headers=tenant(slug))
               for path in (INVENTORY, f"{INVENTORY}/PROD001", f"{INVENTORY}/PROD001/status")}
    assert {path: answer.status_code for path, answer in answers.items()} == dict.fromkeys(answers, 200)
    assert answers[INVENTORY].get_json() == SEEDED
    assert answers[f"{INVENTORY}/PROD001"].get_json() == SEEDED[0]
    assert answers[f"{INVENTORY}/PROD001/status"].get_json()["quantity"] == 50


def test_inventory_tenants_are_isolated(client, create_tenant, create_product):
    first, second = create_tenant(), create_tenant()
    product_id = create_product(first, "Mine", sku="MINE")
    assert client.get(f"{INVENTORY}/MINE", headers=tenant(second)).status_code == 404
    assert client.get(f"{INVENTORY}/{product_id}", headers=tenant(second)).status_code == 404
    assert len(client.get(INVENTORY, headers=tenant(second)).get_json()) == 5


@on_both_backends
# --- add ----------------------------------------------------------------------------------------

def test_add_product_answers_201_with_the_new_item(client, admin_store):
    slug, headers = admin_store()
    response = send(client, "post", INVENTORY, headers, NEW_PRODUCT)
    assert response.status_code == 201
    assert response.headers["Location"] == "/inventory/PROD006"
    created = {"product_id": "PROD006", "name": "Mechanical Keyboard", "quantity": 30, "price": Decimal("129.99"),
               "status": "in_stock"}
    assert response.get_json() == created
    assert client.get(f"{INVENTORY}/PROD006", headers=tenant(slug)).get_json() == created
    assert list(levels(client, slug)) == ["PROD001", "PROD002", "PROD003", "PROD004", "PROD005", "PROD006"]
    # The new product is an active catalog product with final price = price.
    listed = client.get("/api/catalog/products", headers=tenant(slug), query_string={"search": "keyboard"}).get_json()
    assert [(p["name"], p["finalPrice"], p["stock"]) for p in listed["items"]] == [
        ("Mechanical Keyboard", Decimal("129.99"), 30)]


def test_add_product_with_zero_quantity_is_out_of_stock(client, admin_store):
    slug, headers = admin_store()
    response = send(client, "post", INVENTORY, headers,
                    '{"product_id": "PROD007", "name": "Preorder", "quantity": 0, "price": 0}')
    assert response.status_code == 201
    assert (response.get_json()["status"], response.get_json()["price"]) == ("out_of_stock", Decimal("0.00"))
    assert client.get(f"{INVENTORY}/PROD007", headers=tenant(slug)).get_json() == {
        "product_id": "PROD007", "name": "Preorder", "quantity": 0, "price": Decimal("0.00"), "status": "out_of_stock"}


def test_add_product_rounds_the_price_half_up_to_cents(client, admin_store):
    slug, headers = admin_store()
    response = send(client, "post", INVENTORY, headers,
                    '{"product_id": "PROD008", "name": "Half cent", "quantity": 1, "price": 10.005}')
    assert response.status_code == 201
    assert '"price":10.01' in response.get_data(as_text=True)
    assert client.get(f"{INVENTORY}/PROD008", headers=tenant(slug)).get_json()["price"] == Decimal("10.01")


@on_both_backends
def test_add_product_with_a_taken_sku_is_409(client, admin_store):
    slug, headers = admin_store()
    body = '{"product_id": "PROD001", "name": "Another", "quantity": 1, "price": 1}'
    response = send(client, "post", INVENTORY, headers, body)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "PROD001" in response.get_json()["detail"]
    assert client.get(INVENTORY, headers=tenant(slug)).get_json() == SEEDED


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "X", "quantity": 1, "price": 1}, "product_id"),
    ({"product_id": "P9", "quantity": 1, "price": 1}, "name"),
    ({"product_id": "P9", "name": "X", "price": 1}, "quantity"),
    ({"product_id": "P9", "name": "X", "quantity": 1}, "price"),
    ({"product_id": "P9", "name": "", "quantity": 1, "price": 1}, "name"),
    ({"product_id": "P9", "name": "   ", "quantity": 1, "price": 1}, "name"),
    ({"product_id": "P9", "name": "X", "quantity": -1, "price": 1}, "quantity"),
    ({"product_id": "P9", "name": "X", "quantity": "5", "price": 1}, "quantity"),
    ({"product_id": "P9", "name": "X", "quantity": 1.5, "price": 1}, "quantity"),
    ({"product_id": "P9", "name": "X", "quantity": True, "price": 1}, "quantity"),
    ({"product_id": "P9", "name": "X", "quantity": 2 ** 31, "price": 1}, "quantity"),
    ({"product_id": "P9", "name": "X", "quantity": 1, "price": -0.01}, "price"),
    ({"product_id": "P9", "name": "X", "quantity": 1, "price": "cheap"}, "price"),
    ({"product_id": "P9", "name": "X", "quantity": 1, "price": 1e12}, "price"),
    ({"product_id": "", "name": "X", "quantity": 1, "price": 1}, "product_id"),
    ({"product_id": "has space", "name": "X", "quantity": 1, "price": 1}, "product_id"),
    ({"product_id": "a/b", "name": "X", "quantity": 1, "price": 1}, "product_id"),
    ({"product_id": str(uuid.uuid4()), "name": "X", "quantity": 1, "price": 1}, "product_id"),
    ({"product_id": 6, "name": "X", "quantity": 1, "price": 1}, "product_id"),
])
def test_add_product_invalid_body_is_400_naming_the_field(client, admin_store, body, field):
    slug, headers = admin_store()
    response = send(client, "post", INVENTORY, headers, json.dumps(body))
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"], response.get_json()
    assert len(client.get(INVENTORY, headers=tenant(slug)).get_json()) == 5


@pytest.mark.parametrize("body", ["[]", '"text"', "null", "{}"])
def test_add_product_body_that_is_not_an_object_is_400(client, admin_store, body):
    slug, headers = admin_store()
    response = send(client, "post", INVENTORY, headers, body)
    assert response.status_code == 400
    assert response.get_json()["errors"]
    assert client.get(INVENTORY, headers=tenant(slug)).get_json() == SEEDED


def test_add_product_beyond_the_plan_limit_is_403(client, admin_store, superadmin_headers):
    slug, headers = admin_store()
    patched = client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers, json={"limits": {"maxProducts": 5}})
    assert patched.status_code == 200
    response = send(client, "post", INVENTORY, headers, NEW_PRODUCT)
    assert response.status_code == 403
    assert response.get_json()["title"] == "Plan Limit Exceeded"
    assert client.get(f"{INVENTORY}/PROD006", headers=tenant(slug)).status_code == 404
    assert levels(client, slug) == SEEDED_LEVELS
    client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers, json={"limits": {"maxProducts": 6}})
    assert send(client, "post", INVENTORY, headers, NEW_PRODUCT).status_code == 201
    assert levels(client, slug) == {**SEEDED_LEVELS, "PROD006": 30}


# --- reserve ------------------------------------------------------------------------------------

def test_reserve_takes_stock_and_reports_before_and_after(client, admin_store):
    slug, headers = admin_store()
    response = send(client, "put", f"{INVENTORY}/PROD001/reserve", headers, '{"quantity": 5}')
    assert response.status_code == 200
    assert response.get_json() == {"product_id": "PROD001", "reserved_quantity": 5, "previous_quantity": 50,
                                   "remaining_quantity": 45, "status": "in_stock"}
    assert stock_of(client, slug, "PROD001") == 45


@pytest.mark.parametrize("action, quantity, expected", [("reserve", 5, 45), ("replenish", 5, 55)])
def test_a_stock_change_is_one_statement(client, admin_store, count_queries, action, quantity, expected):
    """The conditional UPDATE reads back what the answer reports (RETURNING): nothing is read
    before or after it."""
    slug, headers = admin_store()
    with count_queries(slug) as statements:
        response = send(client, "put", f"{INVENTORY}/PROD001/{action}", headers, json.dumps({"quantity": quantity}))
    assert response.status_code == 200
    sent = [s for s in statements if s.split()[0].upper() not in ("BEGIN", "COMMIT")]
    assert len(sent) == 1 and sent[0].startswith("UPDATE products"), sent
    assert stock_of(client, slug, "PROD001") == expected


@on_postgres
@pytest.mark.parametrize("action, quantity, expected", [("reserve", 5, 45), ("replenish", 5, 55)])
def test_a_stock_change_runs_in_autocommit_and_gives_back_a_transactional_connection(
        app, client, admin_store, action, quantity, expected):
    """One statement needs no BEGIN and COMMIT round trips (UnitOfWork.tenant_db one_statement);
    the connection goes back to its pool as it came, for the next request's transaction."""
    from sqlalchemy import event

    from core.tenancy.admin import get_tenant
    from core.tenancy.engines import engines

    slug, headers = admin_store()
    with app.app_context():
        db_url = get_tenant(slug).db_url
        engine = engines().engine(db_url)
    seen, used = [], []

    def record(conn, _cursor, statement, _parameters, _context, _executemany):
        used.append(conn.connection.dbapi_connection)
        seen.append((statement.split()[0], used[-1].autocommit))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = send(client, "put", f"{INVENTORY}/PROD001/{action}", headers, json.dumps({"quantity": quantity}))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200 and seen == [("UPDATE", True)]
    assert stock_of(client, slug, "PROD001") == expected
    with app.app_context(), engines().connect(db_url, write=True) as connection:
        assert connection.connection.dbapi_connection is used[0]   # the pool hands back the last one given back
        assert connection.connection.dbapi_connection.autocommit is False


def test_reserve_by_uuid(client, admin_store, create_product):
    slug, headers = admin_store()
    product_id = create_product(slug, "Gadget", sku="GADGET", quantity=12)
    response = send(client, "put", f"{INVENTORY}/{product_id}/reserve", headers, '{"quantity": 3}')
    assert response.get_json() == {"product_id": "GADGET", "reserved_quantity": 3, "previous_quantity": 12,
                                   "remaining_quantity": 9, "status": "low_stock"}
    assert stock_of(client, slug, product_id) == 9


def test_reserve_beyond_stock_is_409_and_changes_nothing(client, admin_store):
    slug, headers = admin_store()
    response = send(client, "put", f"{INVENTORY}/PROD004/reserve", headers, '{"quantity": 26}')
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Insufficient Stock"
    assert stock_of(client, slug, "PROD004") == 25

    everything = send(client, "put", f"{INVENTORY}/PROD004/reserve", headers, '{"quantity": 25}')
    assert everything.get_json()["remaining_quantity"] == 0
    assert everything.get_json()["status"] == "out_of_stock"
    assert send(client, "put", f"{INVENTORY}/PROD004/reserve", headers, '{"quantity": 1}').status_code == 409
    assert stock_of(client, slug, "PROD004") == 0


QUANTITY_ERRORS = [{"quantity": 0}, {"quantity": -1}, {"quantity": "1"}, {"quantity": 1.5}, {"quantity": 2.0000001},
                   {"quantity": True}, {"quantity": None}, {}, {"quantity": 2 ** 31}, {"quantity": 2.0 ** 31},
                   {"amount": 1}]


@pytest.mark.parametrize("action, expected", [("reserve", 98), ("replenish", 102)])
def test_a_whole_number_written_with_a_fraction_of_zero_is_that_number(client, admin_store, action, expected):
    """JSON Schema's integer: 2.0 is 2 (a generated client or a fuzzer may send it so)."""
    slug, headers = admin_store()
    assert send(client, "put", f"{INVENTORY}/PROD002/{action}", headers, '{"quantity": 2.0}').status_code == 200
    assert stock_of(client, slug, "PROD002") == expected


@pytest.mark.parametrize("action", ["reserve", "replenish"])
@pytest.mark.parametrize("body", QUANTITY_ERRORS)
def test_stock_change_needs_a_positive_whole_quantity(client, admin_store, action, body):
    slug, headers = admin_store()
    response = send(client, "put", f"{INVENTORY}/PROD002/{action}", headers, json.dumps(body))
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["quantity"]
    assert stock_of(client, slug, "PROD002") == 100


# --- replenish ----------------------------------------------------------------------------------

def test_replenish_adds_stock_and_reports_before_and_after(client, admin_store):
    slug, headers = admin_store()
    assert send(client, "put", f"{INVENTORY}/PROD003/reserve", headers, '{"quantity": 25}').status_code == 200
    assert stock_of(client, slug, "PROD003") == 5
    response = send(client, "put", f"{INVENTORY}/PROD003/replenish", headers, '{"quantity": 100}')
    assert response.status_code == 200
    assert response.get_json() == {"product_id": "PROD003", "added_quantity": 100, "previous_quantity": 5,
                                   "new_quantity": 105, "status": "in_stock"}
    assert stock_of(client, slug, "PROD003") == 105


def test_replenish_an_empty_product_to_low_stock(client, admin_store, create_product):
    slug, headers = admin_store()
    product_id = create_product(slug, "Gadget", sku="GADGET", quantity=0)
    response = send(client, "put", f"{INVENTORY}/{product_id}/replenish", headers, '{"quantity": 2}')
    assert response.get_json() == {"product_id": "GADGET", "added_quantity": 2, "previous_quantity": 0,
                                   "new_quantity": 2, "status": "low_stock"}
    assert stock_of(client, slug, product_id) == 2


def test_replenish_past_the_largest_stock_is_409_and_changes_nothing(client, admin_store):
    slug, headers = admin_store()
    response = send(client, "put", f"{INVENTORY}/PROD001/replenish", headers, json.dumps({"quantity": 2 ** 31 - 1}))
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert levels(client, slug) == SEEDED_LEVELS


# --- who may write ------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_inventory_write_without_token_is_401(client, create_tenant, method, path, body):
    slug = create_tenant()
    response = send(client, method, path, tenant(slug), body)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert client.get(INVENTORY, headers=tenant(slug)).get_json() == SEEDED


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize("authorization", ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer "])
def test_inventory_write_with_a_bad_authorization_header_is_401(client, create_tenant, method, path, body,
                                                                authorization):
    slug = create_tenant()
    response = send(client, method, path, {**tenant(slug), "Authorization": authorization}, body)
    assert response.status_code == 401
    assert client.get(INVENTORY, headers=tenant(slug)).get_json() == SEEDED


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize("role", ["partner", "service"])
def test_inventory_write_with_another_role_is_403(client, create_tenant, api_client_headers, method, path, body, role):
    slug = create_tenant()
    response = send(client, method, path, {**tenant(slug), **api_client_headers(slug, role)}, body)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert client.get(INVENTORY, headers=tenant(slug)).get_json() == SEEDED


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_inventory_write_with_a_customer_token_is_403(client, create_tenant, api_client_headers, method, path, body):
    slug = create_tenant()
    partner = {**tenant(slug), **api_client_headers(slug, "partner")}
    customer_id = client.post("/api/provisioning/customers", headers=partner,
                              json={"name": "Acme", "contactEmail": "buyer@acme.example.com"}).get_json()["id"]
    headers = {**tenant(slug), **api_client_headers(slug, "customer", customer_id=customer_id)}
    assert send(client, method, path, headers, body).status_code == 403
    assert client.get(INVENTORY, headers=tenant(slug)).get_json() == SEEDED


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_inventory_write_with_a_token_of_another_store_is_401(client, admin_store, create_tenant, method, path, body):
    _, other_store_admin = admin_store()
    slug = create_tenant()
    response = send(client, method, path, {**other_store_admin, **tenant(slug)}, body)
    assert response.status_code == 401
    assert client.get(INVENTORY, headers=tenant(slug)).get_json() == SEEDED


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_inventory_write_by_a_superadmin_succeeds(client, create_tenant, superadmin_headers, method, path, body):
    slug = create_tenant()
    assert levels(client, slug) == SEEDED_LEVELS
    response = send(client, method, path, {**tenant(slug), **superadmin_headers}, body)
    assert response.status_code == (201 if method == "post" else 200), response.get_json()
    after, answer = WRITTEN[path]
    assert levels(client, slug) == after
    assert {field: response.get_json()[field] for field in answer} == answer


def test_inventory_write_by_a_store_admin_user_succeeds(client, create_tenant, superadmin_headers, get_token):
    slug = create_tenant()
    created = client.post(f"/superadmin/tenants/{slug}/users", headers=superadmin_headers,
                          json={"email": f"admin-{slug}@example.com", "password": "stock-keeper-1"})
    assert created.status_code == 201
    headers = {**tenant(slug), "Authorization": f"Bearer {get_token(f'admin-{slug}@example.com', 'stock-keeper-1')}"}
    response = send(client, "put", f"{INVENTORY}/PROD005/reserve", headers, '{"quantity": 40}')
    assert response.get_json()["status"] == "out_of_stock"
    assert levels(client, slug) == {**SEEDED_LEVELS, "PROD005": 0}


def test_inventory_write_checks_the_token_before_the_body(client, create_tenant):
    slug = create_tenant()
    response = send(client, "post", INVENTORY, tenant(slug), '{"product_id": ""}')
    assert response.status_code == 401
    assert "errors" not in response.get_json()
    assert client.get(INVENTORY, headers=tenant(slug)).get_json() == SEEDED


def test_inventory_write_with_a_revoked_api_client_is_401(app, client, admin_store):
    slug, headers = admin_store()
    with app.app_context():
        from core.auth.models import ApiClient
        from core.extensions import db
        from core.columns import utcnow

        for api_client in db.session.scalars(db.select(ApiClient)):
            api_client.revoked_at = utcnow()
        db.session.commit()
    assert send(client, "put", f"{INVENTORY}/PROD001/reserve", headers, '{"quantity": 1}').status_code == 401
    assert stock_of(client, slug, "PROD001") == 50


# --- transport and tenant errors ----------------------------------------------------------------

def test_inventory_write_that_is_not_json_is_415(client, admin_store):
    slug, headers = admin_store()
    response = client.put(f"{INVENTORY}/PROD001/reserve", headers=headers, data="quantity=1",
                          content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert stock_of(client, slug, "PROD001") == 50


def test_inventory_write_with_malformed_json_is_400(client, admin_store):
    slug, headers = admin_store()
    response = send(client, "put", f"{INVENTORY}/PROD001/reserve", headers, '{"quantity": ')
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert stock_of(client, slug, "PROD001") == 50


def test_inventory_unsupported_method_is_405(client, create_tenant):
    slug = create_tenant()
    response = client.delete(f"{INVENTORY}/PROD001", headers=tenant(slug))
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert client.get(INVENTORY, headers=tenant(slug)).get_json() == SEEDED


READS = [INVENTORY, f"{INVENTORY}/PROD001", f"{INVENTORY}/PROD001/status"]


@pytest.mark.parametrize("path", READS)
def test_inventory_unknown_tenant_is_409(client, path):
    response = client.get(path, headers=tenant("no-such-store"))
    assert response.status_code == 409
    assert response.get_json()["title"] == "Tenant not resolved"


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_inventory_write_to_an_unknown_tenant_is_409(client, superadmin_headers, method, path, body):
    response = send(client, method, path, {**tenant("no-such-store"), **superadmin_headers}, body)
    assert response.status_code == 409
    assert response.get_json()["title"] == "Tenant not resolved"


@pytest.mark.parametrize("path", READS)
def test_inventory_suspended_tenant_is_423(client, create_tenant, superadmin_headers, path):
    slug = create_tenant()
    client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers, json={"status": "Suspended"})
    response = client.get(path, headers=tenant(slug))
    assert response.status_code == 423
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_inventory_write_to_a_suspended_tenant_is_423_and_changes_nothing(client, admin_store, superadmin_headers,
                                                                          method, path, body):
    slug, headers = admin_store()
    assert client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers,
                        json={"status": "Suspended"}).status_code == 200
    assert send(client, method, path, headers, body).status_code == 423
    assert client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers,
                        json={"status": "Ready"}).status_code == 200
    assert client.get(INVENTORY, headers=tenant(slug)).get_json() == SEEDED


@pytest.mark.parametrize("path", READS)
def test_inventory_tenant_not_ready_is_409(app, client, create_tenant, path):
    slug = create_tenant()
    with app.app_context():
        from core.extensions import db
        from core.tenancy.admin import get_tenant

        get_tenant(slug).status = "Provisioning"
        db.session.commit()
    response = client.get(path, headers=tenant(slug))
    assert response.status_code == 409
    assert "not ready" in response.get_json()["detail"]


def test_inventory_is_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/inventory", "/inventory/{product_id}", "/inventory/{product_id}/reserve",
            "/inventory/{product_id}/replenish", "/inventory/{product_id}/status"} <= set(paths)
    assert set(paths["/inventory"]) == {"get", "post"}
