"""Text a request sends: NUL (U+0000), which PostgreSQL cannot store or compare, is a 400 naming
the field wherever it comes (body, query, path, form), on PostgreSQL where it would otherwise
be a database error; every request model is built to refuse it, and the document says so. A name
or an address must hold more than spaces, as its pattern in the document says."""
from __future__ import annotations

import inspect
import re
import typing
import uuid

import pytest
from pydantic import BaseModel

import api
from core.validation import NO_NUL_PATTERN, NOT_BLANK_PATTERN, RequestModel
from tests.conftest import SUPERADMIN_EMAIL
from tests.support.b2b import b2b_store

INPUTS = ("body", "query", "path", "header", "form")


def _models_in(annotation) -> typing.Iterator[type[BaseModel]]:
    """The pydantic models an annotation names, inside lists, maps, unions and Annotated."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation)
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)


def test_every_model_of_what_a_request_sends_refuses_nul():
    """Each operation's body, query, path and header models, and the models nested in them (and
    the token endpoint's grants, which it parses itself), derive from RequestModel."""
    found: set[type[BaseModel]] = {api.auth.PasswordGrant, api.auth.ClientCredentialsGrant}
    for module in api.MODULES:
        for _name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__:
                continue
            hints = typing.get_type_hints(function)
            for name in INPUTS:
                if name in hints:
                    found.update(_models_in(hints[name]))
    assert len(found) > 20
    assert sorted(model.__name__ for model in found if not issubclass(model, RequestModel)) == []


def test_the_document_says_no_text_holds_nul(client):
    import json

    spec = json.loads(client.get("/api/openapi.json").get_data())
    schemas = spec["components"]["schemas"]
    assert schemas["CustomerData"]["properties"]["address"]["anyOf"][0]["pattern"] == NO_NUL_PATTERN
    assert schemas["CustomerData"]["properties"]["name"]["pattern"] == NOT_BLANK_PATTERN  # excludes NUL too
    purchase_item = schemas["PurchaseLine"]["properties"]["id"]
    assert purchase_item["pattern"] == NO_NUL_PATTERN
    search = next(p for p in spec["paths"]["/api/catalog/products"]["get"]["parameters"] if p["name"] == "search")
    assert search["schema"]["anyOf"][0]["pattern"] == NO_NUL_PATTERN
    assert "pattern" not in json.dumps(schemas["Problem"])  # a problem may quote what was sent


@pytest.mark.postgres
def test_nul_anywhere_in_a_request_is_a_400_naming_the_field_and_changes_nothing(pg_app):
    client = pg_app.test_client()
    store = b2b_store(client)
    tenant = {"X-Tenant-Slug": store.slug}
    before = client.get("/api/provisioning/customers", headers=store.partner).get_json()

    def refused(response, field: str) -> None:
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
        assert field in response.get_json()["errors"]

    refused(client.post("/api/provisioning/customers", headers=store.partner,
                        json={"name": "Acme\x00", "contactEmail": "a@acme.example.com"}), "name")
    refused(client.post("/purchase-gateway/purchases", headers=store.customer,
                        json={"products": [{"id": "PROD\x00001", "quantity": 1}]}), "products.0.id")
    refused(client.get("/api/catalog/products", headers=tenant, query_string={"search": "mug\x00"}), "search")
    refused(client.get("/inventory/PROD%00001", headers=tenant), "product_id")
    refused(client.post("/auth/token", data={"grant_type": "password", "username": SUPERADMIN_EMAIL + "\x00",
                                             "password": "x"}), "username")
    refused(client.post("/api/cart/items", headers={**tenant, "X-Session-Id": str(uuid.uuid4())},
                        json={"productId": "PROD\x00", "quantity": 1}), "productId")
    assert client.get("/api/provisioning/customers", headers=store.partner).get_json() == before


def test_an_address_of_a_reserved_domain_is_an_address(client, superadmin_headers, create_tenant):
    """The document's format "email" is the address's syntax: a name reserved for testing (.test)
    is one, as email-validator would refuse unless told (core.validation)."""
    slug = create_tenant()
    response = client.post(f"/superadmin/tenants/{slug}/users", headers=superadmin_headers,
                           json={"email": "owner@shop.test", "password": "long-enough-password"})
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("text, accepted", [
    ("Acme", True), ("  Acme  ", True), ("\u3000A", True), (" ", False), ("\x1c\t\u3000", False), ("A\x00", False),
])
def test_a_name_of_spaces_is_refused_as_its_pattern_says(client, store, text, accepted):
    """Every character str.strip() removes is a space to the pattern too (core.validation)."""
    assert bool(re.fullmatch(NOT_BLANK_PATTERN, text)) is accepted
    response = client.post("/api/provisioning/customers", headers=store.partner,
                           json={"name": text, "contactEmail": f"{uuid.uuid4().hex[:8]}@acme.example.com"})
    assert response.status_code == (201 if accepted else 400), response.get_json()
    if accepted:
        assert response.get_json()["name"] == text.strip()
    else:
        assert "name" in response.get_json()["errors"]


def test_a_body_past_the_size_limit_is_a_413_problem_read_no_further(make_app):
    app = make_app(MAX_CONTENT_LENGTH=2048)
    response = app.test_client().post("/provision/tenants/init",
                                      json={"slug": "big-store", "name": "x" * 4096, "plan": "Basic"})
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 413


@pytest.mark.parametrize("depth, status", [(32, 200), (33, 400), (100_000, 400)])
def test_a_body_nested_too_deeply_is_a_400_naming_the_body(client, depth, status):
    """Past MAX_JSON_DEPTH (32) the body is refused before any model reads it; 100,000 levels
    (beyond what Python's parser recurses into) is the same 400, never a 500."""
    body = '{"slug": "deep-store", "name": "Deep", "plan": "Basic", "x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
    response = client.post("/provision/tenants/init", data=body, content_type="application/json")
    assert response.status_code == status, response.get_json()
    assert ("body" in (response.get_json().get("errors") or {})) is (status == 400)


def test_nul_in_a_page_s_query_or_form_is_a_400_page_changing_nothing(app, client, create_tenant):
    from tests.conftest import SUPERADMIN_EMAIL

    slug = create_tenant()
    host = f"http://{slug}.{app.config['PLATFORM_HOST']}"
    searched = client.get("/", base_url=host, query_string={"search": "mug\x00"})
    assert searched.status_code == 400 and searched.mimetype == "text/html"
    signed_in = client.post("/admin/login", base_url=f"http://{app.config['PLATFORM_HOST']}",
                            data={"email": SUPERADMIN_EMAIL + "\x00", "password": "x"})
    assert signed_in.status_code == 400 and signed_in.mimetype == "text/html"
    assert client.get("/", base_url=host, query_string={"search": "mug"}).status_code == 200
