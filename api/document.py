"""The OpenAPI document as the server answers: flask-openapi3 writes it from the operations'
models, and StorefleetOpenAPI finishes it once, so that a client generated from it, or a fuzzer,
reads what the server does.

- Every error is RFC 9457 ProblemDetails, served as `application/problem+json` (web.errors):
  each declared error response says so, with the Problem schema (its `errors` name the fields
  of a validation error), instead of `application/json`, and the 400 that flask-openapi3 adds
  for request validation is that Problem too, not its raw list of pydantic errors.
- Every operation can answer 500 (an unexpected error, without its trace); one naming its
  store can answer 503 (web.errors.handle_busy_database: every connection to the store's
  database server was busy, with Retry-After); one that takes a bearer token can answer 429
  (web.ratelimit: an API client over its plan's limit, with Retry-After).
"""
from __future__ import annotations

from flask_openapi3 import OpenAPI

from web.errors import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
# The statuses every operation, every operation of a store, every operation with a token may answer.
ANY_OPERATION = {"500": "Internal Server Error: an unexpected error (the log has its trace, the answer has none)"}
STORE_OPERATION = {"503": "Service Unavailable: the store's database server is busy; retry after Retry-After"}
TOKEN_OPERATION = {"429": "Too Many Requests: the API client is over its plan's limit; retry after Retry-After"}


def _names_a_store(operation: dict) -> bool:
    return any(parameter.get("in") == "header" and parameter.get("name") == "X-Tenant-Slug"
               for parameter in operation.get("parameters", []))


def _takes_a_token(operation: dict) -> bool:
    return any("bearer" in requirement for requirement in operation.get("security", []))


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
            if _takes_a_token(operation):
                extra.update(TOKEN_OPERATION)
            for status, description in extra.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if int(status) >= 400:
                    response["content"] = problem
    document["components"]["schemas"].pop("ValidationErrorModel", None)
    return document


class StorefleetOpenAPI(OpenAPI):
    """flask-openapi3's app, whose document is finished by finish_document."""

    def generate_spec_json(self):
        super().generate_spec_json()
        finish_document(self.spec_json)
