"""Every operation of the OpenAPI document declares its success answer, and answers it.

The declared model is the one sent: api.answers checks, for every call, that the handler
returned an instance of exactly the class its operation declares for the status (under TESTING a
mismatch raises out of the test client). test_every_operation_answers_its_declared_model calls
each operation's success path once, so that check runs for all of them.
"""
from __future__ import annotations

import re
import uuid

import pytest
from flask import request, request_finished

from api.checkout import PlaceOrderResponse
from tests.support.shop import place_order_body

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture
def spec(client):
    return client.get("/api/openapi.json").get_json()


def _operations(spec) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item if method in METHODS}


def test_every_operation_declares_a_success_answer_with_a_schema(spec):
    missing = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            successes = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
            if not successes:
                missing.append(f"{method.upper()} {path}: no 2xx answer")
            for code, answer in successes.items():
                if code == "204":
                    if "content" in answer:
                        missing.append(f"{method.upper()} {path}: 204 with a body")
                    continue
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                ref = schema.get("$ref", "")
                known = ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in spec["components"]["schemas"]
                if not known:
                    missing.append(f"{method.upper()} {path}: {code} without a model schema ({schema})")
    assert missing == []


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


@pytest.fixture
def answered(app):
    """The (method, OpenAPI path) → statuses of every request the app answers during the test."""
    seen: dict[tuple[str, str], list[int]] = {}

    def record(sender, response, **extra):
        if request.url_rule is not None:
            seen.setdefault((request.method, _openapi_path(request.url_rule.rule)), []).append(response.status_code)

    request_finished.connect(record, app)
    yield seen
    request_finished.disconnect(record, app)


def test_every_operation_answers_its_declared_model(app, client, spec, answered, superadmin_headers, redis_conn,
                                                    run_jobs):
    def ok(method, path, status=200, **kwargs):
        response = client.open(path, method=method, **kwargs)
        assert response.status_code == status, (method, path, response.get_data(as_text=True))
        assert response.mimetype == ("application/json" if status != 204 else "text/html")
        return response.get_json(silent=True)

    admin = superadmin_headers
    ok("GET", "/.well-known/jwks.json")
    ok("GET", "/health")

    # provisioning, then the super admin's API on a store of its own
    init = ok("POST", "/provision/tenants/init", json={"slug": "ops-prov", "name": "Ops", "plan": "Basic"})
    ok("POST", "/provision/tenants/confirm", headers={"Authorization": f"Bearer {init['confirmToken']}"})
    run_jobs()
    assert ok("GET", f"/provision/tenants/{init['provisioningId']}/status")["status"] == "Ready"
    ok("POST", "/superadmin/tenants", 201, headers=admin, json={"slug": "ops", "name": "Ops", "planCode": "ENTERPRISE"})
    assert ok("POST", "/superadmin/tenants/repair", headers=admin, json={"tenant": "ops"}) == \
        {"tenant": "ops", "status": "Ready"}
    assert {t["slug"] for t in ok("GET", "/superadmin/tenants", headers=admin)} == {"ops-prov", "ops"}
    ok("GET", "/superadmin/tenants/ops", headers=admin)
    ok("PATCH", "/superadmin/tenants/ops", headers=admin, json={"limits": {"maxCartItems": 50}})
    ok("POST", "/superadmin/tenants/ops/users", 201, headers=admin,
       json={"email": "owner@ops.example.com", "password": "ops-owner-pass"})

    def credentials(role, customer_id=None):
        created = ok("POST", "/superadmin/tenants/ops/api-clients", 201, headers=admin,
                     json={"name": role, "role": role, "customerId": customer_id})
        token = ok("POST", "/auth/token", json={"grant_type": "client_credentials", "client_id": created["clientId"],
                                                "client_secret": created["clientSecret"]})
        return {"Authorization": f"Bearer {token['access_token']}", "X-Tenant-Slug": "ops"}

    store_admin, partner = credentials("store_admin"), credentials("partner")
    tenant = {"X-Tenant-Slug": "ops"}
    ok("GET", "/public/tenant-config", headers=tenant)
    ok("GET", "/api/features", headers=tenant)

    # inventory and catalog
    ok("GET", "/inventory", headers=tenant)
    ok("POST", "/inventory", 201, headers=store_admin, json={"product_id": "PROD009", "name": "Mat", "quantity": 9,
                                                             "price": 10})
    ok("GET", "/inventory/PROD001", headers=tenant)
    ok("PUT", "/inventory/PROD001/reserve", headers=store_admin, json={"quantity": 2})
    ok("PUT", "/inventory/PROD001/replenish", headers=store_admin, json={"quantity": 2})
    ok("GET", "/inventory/PROD009/status", headers=tenant)
    products = ok("GET", "/api/catalog/products", headers=tenant)["items"]
    ok("GET", f"/api/catalog/products/{products[0]['id']}", headers=tenant)
    ok("GET", "/api/catalog/categories", headers=tenant)

    # cart and checkout, with a replayed order
    shopper = {**tenant, "X-Session-Id": str(uuid.uuid4())}
    cart = ok("POST", "/api/cart/items", headers=shopper, json={"productId": products[0]["id"], "quantity": 2})
    ok("POST", "/api/cart/items", headers=shopper, json={"productId": products[1]["id"], "quantity": 1})
    ok("GET", "/api/cart", headers=shopper)
    ok("PUT", f"/api/cart/items/{cart['items'][0]['id']}", headers=shopper, json={"quantity": 1})
    ok("POST", "/api/checkout/quote", headers=shopper, json={})
    key = str(uuid.uuid4())
    order = ok("POST", "/api/checkout/place-order", headers={**shopper, "Idempotency-Key": key},
               json=place_order_body(key))
    assert ok("POST", "/api/checkout/place-order", headers={**shopper, "Idempotency-Key": key},
              json=place_order_body(key)) == order
    PlaceOrderResponse.model_validate(order)
    other = {**tenant, "X-Session-Id": str(uuid.uuid4())}
    line = ok("POST", "/api/cart/items", headers=other, json={"productId": products[0]["id"], "quantity": 1})
    ok("DELETE", f"/api/cart/items/{line['items'][0]['id']}", 204, headers=other)
    ok("DELETE", "/api/cart", 204, headers=other)

    # customers, and what a customer's credentials do
    customer = ok("POST", "/api/provisioning/customers", 201, headers=partner,
                  json={"name": "Acme", "contactEmail": "buyer@acme.example.com"})
    assert ok("GET", "/api/provisioning/customers", headers=partner)["totalCount"] == 1
    ok("GET", f"/api/provisioning/customers/{customer['id']}", headers=partner)
    ok("PUT", f"/api/provisioning/customers/{customer['id']}", headers=partner,
       json={"name": "Acme Ltd", "contactEmail": "buyer@acme.example.com"})
    ok("PATCH", f"/api/provisioning/customers/{customer['id']}", headers=partner, json={"phone": "+14155550100"})
    buyer = credentials("customer", customer["id"])
    ok("POST", "/product-provisioner/products", headers=buyer, json={"productId": "PROD005", "quantity": 1})
    ok("GET", "/product-provisioner/products/PROD005/availability", headers=buyer)
    ok("GET", "/product-provisioner/provisioned-products", headers=buyer)
    purchase = ok("POST", "/purchase-gateway/purchases", headers=buyer,
                  json={"products": [{"id": "PROD002", "quantity": 1}]})
    ok("GET", f"/purchase-gateway/purchases/{purchase['purchaseId']}", headers=buyer)
    ok("POST", f"/purchase-gateway/purchases/{purchase['purchaseId']}/cancel", headers=buyer)
    ok("DELETE", f"/api/provisioning/customers/{customer['id']}", 204, headers=partner)

    succeeded = {operation for operation, statuses in answered.items() if any(200 <= s < 300 for s in statuses)}
    assert _operations(spec) - succeeded == set()


def test_every_error_is_declared_as_the_problem_details_it_is_served_as(spec):
    """api.document: application/problem+json with the Problem schema, for every declared error
    (flask-openapi3's request-validation 400 included), and the 500 any operation may answer."""
    wrong = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            if "500" not in operation["responses"]:
                wrong.append(f"{method.upper()} {path}: no 500")
            for code, answer in operation["responses"].items():
                if int(code) >= 400 and answer.get("content") != {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}:
                    wrong.append(f"{method.upper()} {path} {code}: {answer.get('content')}")
    assert wrong == []
    assert "ValidationErrorModel" not in spec["components"]["schemas"]
    assert "errors" in spec["components"]["schemas"]["Problem"]["properties"]


def test_a_store_operation_declares_503_and_every_operation_429(spec):
    """A client's token counts against its limit wherever it is sent (web.ratelimit), so even
    the key set, which needs no token, may answer 429; only an operation of a store may be busy."""
    reserve = spec["paths"]["/inventory/{product_id}/reserve"]["put"]["responses"]
    assert {"429", "503"} <= reserve.keys()
    jwks = spec["paths"]["/.well-known/jwks.json"]["get"]["responses"]
    assert "429" in jwks and "503" not in jwks


def test_a_request_validation_error_is_served_as_declared(client, spec):
    from api.schemas import Problem

    response = client.post("/provision/tenants/init", json={"slug": 5})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    problem = Problem.model_validate(response.get_json())
    assert problem.errors and "slug" in problem.errors


def _request_schemas(spec):
    """(where, schema) of every parameter and request-body property of every operation, with
    $refs followed; nested objects and array items too."""
    components = spec["components"]["schemas"]

    def resolve(schema):
        while "$ref" in schema:
            schema = components[schema["$ref"].split("/")[-1]]
        return schema

    def walk(where, schema):
        schema = resolve(schema)
        for key in ("anyOf", "oneOf", "allOf"):
            for i, branch in enumerate(schema.get(key, [])):
                yield from walk(f"{where}|{i}", branch)
        if schema.get("type") == "object" or "properties" in schema:
            for name, prop in schema.get("properties", {}).items():
                yield from walk(f"{where}.{name}", prop)
        if schema.get("type") == "array":
            yield from walk(f"{where}[]", schema.get("items", {}))
        yield where, schema

    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                yield from walk(f"{name} {parameter['in']}:{parameter['name']}", parameter.get("schema", {}))
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                yield from walk(f"{name} body({media})", content.get("schema", {}))


def test_every_integer_a_client_sends_is_bounded_in_the_document(spec):
    """Issue 13: a quantity, page or limit past its maximum is a 400 naming the field, never a
    500 from the database; the document says each bound."""
    unbounded = [where for where, schema in _request_schemas(spec)
                 if schema.get("type") == "integer" and ("maximum" not in schema or "minimum" not in schema)
                 or schema.get("type") == "number" and ("maximum" not in schema or "minimum" not in schema)]
    assert unbounded == []


def test_every_string_a_client_sends_is_bounded_in_the_document(spec):
    unbounded = [where for where, schema in _request_schemas(spec)
                 if schema.get("type") == "string" and "maxLength" not in schema and "enum" not in schema
                 and "const" not in schema and schema.get("format") not in ("uuid", "email", "date-time")]
    assert unbounded == []


def test_operation_ids_leave_path_converters_out(spec):
    """A generated client names its functions after the operation ids: the converter that keeps
    /superadmin/tenants/repair apart from /superadmin/tenants/{slug} is not part of them."""
    tenant = spec["paths"]["/superadmin/tenants/{slug}"]
    assert tenant["get"]["operationId"] == "superadmin_get_tenant_tenants__slug__get"
    assert all("tenant_slug" not in operation["operationId"]
               for path_item in spec["paths"].values() for operation in path_item.values())


def test_every_operation_with_a_body_declares_413(spec):
    missing = [f"{method.upper()} {path}" for path, item in spec["paths"].items() for method, operation in item.items()
               if "requestBody" in operation and "413" not in operation["responses"]]
    assert missing == []
