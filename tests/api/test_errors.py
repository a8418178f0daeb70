"""One error shape: ProblemDetails for every JSON error, HTML pages for browsers, no traces."""
from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["instance"] == response.request.path
    return body


def test_unknown_api_route_is_404_problem(client):
    assert_problem(client.get("/api/nothing-here"), 404)


@pytest.mark.parametrize("path", ["/inventory/PROD001/nothing", "/purchase-gateway/nothing", "/.well-known/nothing",
                                  "/superadmin/nothing", "/auth/nothing"])
def test_unknown_routes_under_every_api_prefix_are_problems(client, path):
    """The API's path prefixes are read off its routes (web.requests), none forgotten."""
    assert_problem(client.get(path), 404)


@pytest.mark.parametrize("path", ["/nothing-here", "/apis", "/inventoryx", "/admin/nothing"])
def test_unknown_routes_outside_the_api_are_html_pages(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Not Found" in response.get_data(as_text=True)


def test_an_api_route_answers_problems_by_its_blueprint_whatever_the_host(client):
    """A routed request is an API call because its blueprint is the API's: a store's host does
    not turn its errors into HTML pages."""
    response = client.get("/api/catalog/products", headers={"Host": "nostore.localhost", "X-Tenant-Slug": "nostore"})
    assert_problem(response, 409)


def test_wrong_method_is_405_problem_with_allow(client):
    response = client.delete("/health")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_400_problem(client):
    body = assert_problem(client.post("/provision/tenants/init", data="{nope", content_type="application/json"), 400)
    assert "not valid JSON" in body["detail"]


def test_wrong_content_type_is_415_problem(client):
    assert_problem(client.post("/provision/tenants/init", data="slug=x", content_type="text/plain"), 415)


def test_form_body_on_json_endpoint_is_415(client):
    assert_problem(client.post("/provision/tenants/init", data={"slug": "abc"}), 415)


def test_validation_error_lists_fields(client):
    body = assert_problem(client.post("/provision/tenants/init", json={"slug": 5, "name": "x"}), 400)
    assert body["title"] == "Validation Error"
    assert set(body["errors"]) == {"slug", "plan"}


def test_body_that_is_not_an_object_is_400(client):
    assert_problem(client.post("/provision/tenants/init", json=[1, 2]), 400)


def operations_with_a_json_body(client) -> list[tuple[str, str]]:
    document = client.get("/api/openapi.json").get_json()
    return [(method.upper(), path) for path, operations in document["paths"].items()
            for method, operation in operations.items()
            if "application/json" in operation.get("requestBody", {}).get("content", {})]


@pytest.mark.parametrize("body", ["[null, null]", '"text"', "1", "true", "null"])
def test_a_json_body_that_is_not_an_object_is_400_naming_the_body_on_every_operation(client, store, body):
    """Before any handler, authentication or store look-up: nothing can reach a 500 (issue 13:
    POST /auth/token with [null, null] was one) nor be taken as an empty object (the quote)."""
    operations = operations_with_a_json_body(client)
    assert len(operations) >= 15 and ("POST", "/auth/token") in operations
    for method, path in operations:
        concrete = path.replace("{slug}", store.slug).replace("{product_id}", "PROD001") \
            .replace("{item_id}", "3fa85f64-5717-4562-b3fc-2c963f66afa6") \
            .replace("{customer_id}", "3fa85f64-5717-4562-b3fc-2c963f66afa6")
        response = client.open(concrete, method=method, data=body, content_type="application/json",
                               headers={**store.partner, "X-Session-Id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"})
        problem = assert_problem(response, 400)
        assert problem["errors"] == {"body": ["The request body must be a JSON object."]}, (method, path)


def test_unexpected_error_is_500_without_trace(app, client, monkeypatch):
    from core.tenancy import provisioning

    def explode(*args, **kwargs):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr(provisioning, "init_provisioning", explode)
    response = client.post("/provision/tenants/init", json={"slug": "abc", "name": "A", "plan": "Basic"})
    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "secret internals" not in text and "Traceback" not in text and "ZeroDivision" not in text
    assert body["detail"] == "An unexpected error occurred. It has been logged."


def test_html_routes_get_html_error_pages(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not Found" in response.get_data(as_text=True)


def test_tenant_scoped_endpoint_without_header_is_409(client):
    body = assert_problem(client.get("/public/tenant-config"), 409)
    assert body["title"] == "Tenant not resolved"


def test_unknown_tenant_is_409(client):
    assert_problem(client.get("/api/features", headers={"X-Tenant-Slug": "no-such-store"}), 409)


@pytest.mark.parametrize("status", ["Pending", "Queued", "Provisioning", "Seeding", "Failed"])
def test_tenant_not_ready_is_409(app, client, create_tenant, status):
    slug = create_tenant()
    with app.app_context():
        from core.extensions import db
        from core.tenancy.admin import get_tenant

        get_tenant(slug).status = status
        db.session.commit()
    assert_problem(client.get("/api/features", headers={"X-Tenant-Slug": slug}), 409)


def test_openapi_document_is_generated(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    for path in ("/provision/tenants/init", "/provision/tenants/confirm", "/provision/tenants/{provisioning_id}/status",
                 "/auth/token", "/health", "/superadmin/tenants", "/superadmin/tenants/repair",
                 "/public/tenant-config", "/api/features"):
        assert path in spec["paths"], path
    init = spec["paths"]["/provision/tenants/init"]["post"]
    schema_ref = init["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"slug", "name", "plan"}


def test_docs_page_is_served_without_cdn(client):
    page = client.get("/api/docs", follow_redirects=True)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert client.get("/api/swagger/js/swagger-ui-bundle.js").status_code == 200


@pytest.mark.parametrize("method, path, body, field", [
    ("get", "/api/catalog/products?page=1000001", None, "page"),
    ("get", "/api/catalog/products?page=99999999999999999999999", None, "page"),
    ("get", "/api/catalog/products?minPrice=10000000000", None, "minPrice"),
    ("get", f"/api/catalog/products/{'x' * 65}", None, "product_id"),
    ("get", "/api/provisioning/customers?page=1000001", None, "page"),
    ("patch", "/superadmin/tenants/{slug}", {"limits": {"maxCartItems": 2_147_483_648}}, "limits.maxCartItems"),
    ("patch", "/superadmin/tenants/{slug}", {"name": None}, "name"),
    ("post", "/api/provisioning/customers", {"name": "A", "contactEmail": "a@example.com", "phone": "+1" * 20},
     "phone"),
])
def test_input_past_its_documented_bound_is_400_naming_the_field(client, store, superadmin_headers, method, path,
                                                                 body, field):
    headers = {**superadmin_headers, "X-Tenant-Slug": store.slug}
    response = getattr(client, method)(path.replace("{slug}", store.slug), headers=headers, json=body)
    problem = assert_problem(response, 400)
    assert any(name == field or name.endswith(f".{field}") or name.startswith(f"{field}.") for name in problem["errors"]), \
        problem["errors"]
