"""The JSON API: one module per seed document, each an APIBlueprint with pydantic models."""
from __future__ import annotations

from flask import Flask, current_app, redirect, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from api import (auth, cart, catalog, checkout, customers, inventory, platform, product_provisioner,
                 purchase_gateway, superadmin, tenant_config)
from api.answers import AnswerMismatch
from api.jsonprovider import DecimalJSONProvider
from core.errors import ValidationFailed
from core.extensions import csrf
from web.errors import handle_unexpected
from web.requests import is_api_request, mark_api_blueprint

MODULES = (auth, platform, superadmin, tenant_config, catalog, inventory, cart, checkout, customers,
           product_provisioner, purchase_gateway)
# Endpoints that accept an OAuth2 form body as well as JSON.
FORM_ENDPOINTS = {"/auth/token"}
# flask-openapi3's own blueprint: the OpenAPI document and Swagger UI under /api.
OPENAPI_BLUEPRINT = "openapi"


def register_api(app: Flask) -> None:
    app.json = DecimalJSONProvider(app)
    app.url_map.converters["tenant_slug"] = superadmin.TenantSlugConverter
    for module in MODULES:
        app.register_api(module.bp)
        mark_api_blueprint(app, module.bp)
        # API calls authenticate with bearer tokens, never cookies: CSRF does not apply.
        csrf.exempt(module.bp)
    if OPENAPI_BLUEPRINT in app.blueprints:
        mark_api_blueprint(app, OPENAPI_BLUEPRINT)
        csrf.exempt(app.blueprints[OPENAPI_BLUEPRINT])

    @app.get("/api/docs", doc_ui=False)
    def api_docs():
        """The browsable API documentation (Swagger UI, served from this server, no CDN)."""
        return redirect(f"{app.doc_prefix}/swagger")

    app.before_request(check_json_body)
    app.register_error_handler(AnswerMismatch, answer_mismatch)


def answer_mismatch(exc: AnswerMismatch):
    """A handler answered otherwise than its operation declares (api.answers): a bug. Under
    TESTING the exception propagates, so the test that made the call fails on it; a client gets
    the 500 ProblemDetails of any unexpected error."""
    if current_app.testing:
        raise exc
    return handle_unexpected(exc)


def check_json_body() -> None:
    """API requests with a body must send JSON (415 otherwise), well-formed (400), and a JSON
    object, as every operation's body is (400 naming `body` for an array, a string, a number,
    true or false, or null)."""
    if request.method not in ("POST", "PUT", "PATCH") or not is_api_request():
        return
    has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding") == "chunked"
    if not has_body:
        return
    if request.path in FORM_ENDPOINTS and request.mimetype == "application/x-www-form-urlencoded":
        return
    if not request.is_json:
        raise UnsupportedMediaType(
            f"Content-Type must be application/json (got '{request.mimetype or 'none'}').")
    try:
        body = request.get_json(force=False, silent=False)
    except BadRequest as exc:
        if isinstance(exc.__context__, RecursionError):
            raise _too_deep() from None
        raise BadRequest("The request body is not valid JSON.") from exc
    except RecursionError:
        raise _too_deep() from None
    if not isinstance(body, dict):
        raise ValidationFailed.field("body", "The request body must be a JSON object.")
    if _depth(body) > current_app.config["MAX_JSON_DEPTH"]:
        raise _too_deep()


def _too_deep() -> ValidationFailed:
    return ValidationFailed.field("body", f"The request body nests deeper than "
                                          f"{current_app.config['MAX_JSON_DEPTH']} levels.")


def _depth(value) -> int:
    """How deeply a parsed JSON value nests (a scalar is 0, {} or [] is 1), without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in children)
    return deepest
