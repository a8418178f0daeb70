"""The JSON API: one module per seed document, each an APIBlueprint with pydantic models."""
from __future__ import annotations

from flask import Flask, g, redirect, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from api.jsonprovider import DecimalJSONProvider
from api.problems import is_api_request
from core.extensions import csrf, db

# Endpoints that accept an OAuth2 form body as well as JSON.
FORM_ENDPOINTS = {"/auth/token"}


def register_api(app: Flask) -> None:
    from api import (auth, cart, catalog, checkout, customers, inventory, platform, product_provisioner,
                     purchase_gateway, superadmin, tenant_config)

    app.json = DecimalJSONProvider(app)
    for module in (auth, platform, superadmin, tenant_config, catalog, inventory, cart, checkout, customers,
                   product_provisioner, purchase_gateway):
        app.register_api(module.bp)
        # API calls authenticate with bearer tokens, never cookies: CSRF does not apply.
        csrf.exempt(module.bp)
    for name in ("openapi",):
        if name in app.blueprints:
            csrf.exempt(app.blueprints[name])

    @app.get("/api/docs", doc_ui=False)
    def api_docs():
        """The browsable API documentation (Swagger UI, served from this server, no CDN)."""
        return redirect(f"{app.doc_prefix}/swagger")

    app.before_request(check_json_body)
    app.after_request(finish_unit_of_work)


def check_json_body() -> None:
    """API requests with a body must send JSON (415 otherwise), and well-formed JSON (400)."""
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
        request.get_json(force=False, silent=False)
    except BadRequest as exc:
        raise BadRequest("The request body is not valid JSON.") from exc


def finish_unit_of_work(response):
    """The request commits once when it succeeded, or rolls back once when it failed; this
    covers the control database and the tenant database sessions the request opened."""
    ok = response.status_code < 400
    for key in ("tenant_session_w", "tenant_session_r"):
        session = g.pop(key, None)
        if session is not None:
            try:
                session.commit() if ok else session.rollback()
            finally:
                session.close()
    if ok:
        db.session.commit()
    else:
        db.session.rollback()
    return response
