"""The OpenAPI document as the server answers: flask-openapi3 writes it from the operations'
models, and StorefleetOpenAPI finishes it once, so that a client generated from it, or a fuzzer,
reads what the server does.

- Every error is RFC 9457 ProblemDetails, served as `application/problem+json` (web.errors):
  each declared error response says so, with the Problem schema (its `errors` name the fields
  of a validation error), instead of `application/json`, and the 400 that flask-openapi3 adds
  for request validation is that Problem too, not its raw list of pydantic errors.
- No text a client sends may hold NUL (core.validation.RequestModel): each string schema without
  a pattern of its own gets one that says so, and each map names its keys the same way. A
  problem's text is left alone: it may quote what the request sent.
- Every operation can answer 500 (an unexpected error, without its trace) and 429
  (web.ratelimit: each request that carries an API client's token counts against the client's
  limit, whatever the operation, even one that needs no token; Retry-After says when to come
  back); one naming its store can answer 503 (web.errors.handle_busy_database: every
  connection to the store's database server was busy, with Retry-After); one taking a body can
  answer 413 (a body over MAX_REQUEST_BYTES).
"""
from __future__ import annotations

import re

from flask_openapi3 import OpenAPI
from flask_openapi3.utils import get_operation_id_for_path

from core.validation import NO_NUL_PATTERN
from web.errors import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
# The statuses every operation and every operation of a store may answer.
ANY_OPERATION = {
    "429": "Too Many Requests: the API client whose token came with the request is over its plan's limit; "
           "retry after Retry-After",
    "500": "Internal Server Error: an unexpected error (the log has its trace, the answer has none)",
}
STORE_OPERATION = {"503": "Service Unavailable: the store's database server is busy; retry after Retry-After"}
BODY_OPERATION = {"413": "Content Too Large: the body is larger than the server reads (MAX_REQUEST_BYTES)"}


# JSON Schema keywords of a component that flask-openapi3's Schema model has no field for, and
# drops (if/then: a field required when another has a value), by the component's name; the
# finished document has them. A client generator that does not know them still reads the rest.
_EXTRA_KEYWORDS: dict[str, dict] = {}


def schema_keywords(component: str, keywords: dict) -> None:
    """Give the document's component `component` these JSON Schema `keywords` as well."""
    _EXTRA_KEYWORDS[component] = keywords


# String formats whose syntax has no room for NUL.
TEXT_FORMATS = frozenset({"uuid", "email", "date-time", "date", "uri"})


def _names_a_store(operation: dict) -> bool:
    return any(parameter.get("in") == "header" and parameter.get("name") == "X-Tenant-Slug"
               for parameter in operation.get("parameters", []))


def _refuse_nul(schema: dict) -> None:
    """Say in `schema`, and the schemas inside it, that its text holds no NUL (not under `not`,
    where it would mean the opposite)."""
    if (schema.get("type") == "string" and not {"pattern", "enum", "const"} & schema.keys()
            and schema.get("format") not in TEXT_FORMATS):
        schema["pattern"] = NO_NUL_PATTERN
    if isinstance(schema.get("additionalProperties"), dict):
        schema.setdefault("propertyNames", {"pattern": NO_NUL_PATTERN})
    inner = [*schema.get("properties", {}).values(), *schema.get("anyOf", []), *schema.get("oneOf", []),
             *schema.get("allOf", []), schema.get("items"), schema.get("additionalProperties")]
    for each in inner:
        if isinstance(each, dict):
            _refuse_nul(each)


def finish_document(document: dict) -> dict:
    """`document` (flask-openapi3's) with every error response a ProblemDetails as served, and
    the statuses any operation may answer declared (see the module's doc). Changes it in place."""
    problem = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
    for path_item in document["paths"].values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            extra = dict(ANY_OPERATION)
            if _names_a_store(operation):
                extra.update(STORE_OPERATION)
            if "requestBody" in operation:
                extra.update(BODY_OPERATION)
            for status, description in extra.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if int(status) >= 400:
                    response["content"] = problem
    document["components"]["schemas"].pop("ValidationErrorModel", None)
    for component, keywords in _EXTRA_KEYWORDS.items():
        document["components"]["schemas"][component].update(keywords)
    for name, schema in document["components"]["schemas"].items():
        if name != "Problem":
            _refuse_nul(schema)
    for path_item in document["paths"].values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                _refuse_nul(parameter.get("schema", {}))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _refuse_nul(media.get("schema", {}))
    return document


def operation_id(*, bp_name: str = "", name: str = "", path: str = "", method: str = "") -> str:
    """flask-openapi3's operation id, from the path as the document writes it: a converter of a
    path parameter (<tenant_slug:slug>) is the server's business, not part of the operation's
    name, which a generated client makes a function name of (an APIBlueprint's
    operation_id_callback)."""
    return get_operation_id_for_path(bp_name=bp_name, name=name, path=re.sub(r"<(?:[^<>:]+:)?", "<", path),
                                     method=method)


class StorefleetOpenAPI(OpenAPI):
    """flask-openapi3's app, whose document is finished by finish_document."""

    def generate_spec_json(self):
        super().generate_spec_json()
        finish_document(self.spec_json)
