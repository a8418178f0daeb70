"""One error shape. Domain errors and HTTP errors become application/problem+json for API
calls and HTML pages for browsers (web.requests tells which); unexpected exceptions become a
500 with no trace. Nothing else decides how an error is answered."""
from __future__ import annotations

import logging

from flask import Flask, Response, json, render_template, request
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from core.errors import DomainError, ValidationFailed
from core.validation import validation_failed
from web.requests import is_api_request

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPES = "https://storefleet.dev/problems"


def problem(status: int, title: str, detail: str, *, errors: dict | None = None, type_: str | None = None,
            headers: dict | None = None) -> Response:
    """An RFC 9457 ProblemDetails answer."""
    body = {"type": type_ or f"{PROBLEM_TYPES}/{status}", "title": title, "status": status,
            "detail": detail, "instance": request.path}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def validation_problem(errors: dict[str, list[str]]) -> Response:
    return problem(ValidationFailed.status, ValidationFailed.title, "One or more validation errors occurred.",
                   errors=errors, type_=f"{PROBLEM_TYPES}/{ValidationFailed.code}")


def validation_error_response(exc: ValidationError) -> Response:
    """flask-openapi3's hook for request models that fail validation: 400 ProblemDetails."""
    return validation_problem(validation_failed(exc).errors)


def _html_error(status: int, title: str, detail: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def handle_domain_error(exc: DomainError):
    if not is_api_request():
        return _html_error(exc.status, exc.title, exc.detail)
    if exc.status == ValidationFailed.status and exc.errors:
        return validation_problem(exc.errors)
    headers = {"Retry-After": str(exc.data["retry_after"])} if "retry_after" in exc.data else None
    # An error about one field (a taken email, an unknown customer) names it as validation does.
    errors = exc.errors or ({exc.field: [exc.detail]} if exc.field else None)
    return problem(exc.status, exc.title, exc.detail, errors=errors, headers=headers,
                   type_=f"{PROBLEM_TYPES}/{exc.code}")


def handle_http_exception(exc: HTTPException):
    if isinstance(exc, InternalServerError) and isinstance(exc.original_exception, DBAPIError):
        return handle_database_error(exc.original_exception)  # raised after the view: the unit's commit
    if exc.response is not None and exc.response.mimetype == PROBLEM_JSON:
        return exc.response  # already a problem (flask-openapi3 validation answers)
    title = exc.name
    detail = exc.description or title
    if not is_api_request():
        return _html_error(exc.code or 500, title, detail)
    headers = {}
    if exc.code == 405 and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    if exc.code == 429:
        seconds = getattr(exc, "retry_after", None)
        if seconds:
            headers["Retry-After"] = str(seconds)
    return problem(exc.code or 500, title, detail, headers=headers)


def _unavailable(detail: str):
    """503 with Retry-After: nothing was done, and the same request may be sent again shortly."""
    if not is_api_request():
        page, status = _html_error(503, "Service Unavailable", detail)
        return page, status, {"Retry-After": "1"}
    return problem(503, "Service Unavailable", detail, headers={"Retry-After": "1"})


def handle_busy_database(_exc: PoolTimeout):
    """Every connection of this process to a store's database server was in use for
    TENANT_POOL_TIMEOUT_SECONDS (core.tenancy.engines): 503, to be retried in a moment."""
    return _unavailable("The store's database is busy; please retry in a moment.")


def connection_lost(exc: BaseException) -> bool:
    """Whether `exc` says a database could not be reached or its connection was lost (a server
    restart, a terminated backend), rather than that a statement was wrong."""
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def handle_database_error(exc: DBAPIError):
    """A lost connection reaches here only before the request's work was committed
    (core.unit_of_work: after it, the answer stands): 503, nothing was done. Any other
    database error is unexpected."""
    if connection_lost(exc):
        log.warning("database connection lost on %s %s: %s", request.method, request.path, exc.orig)
        return _unavailable("The database could not be reached; nothing was done. Please retry in a moment.")
    return handle_unexpected(exc)


def handle_unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    original = exc
    if isinstance(exc, InternalServerError) and exc.original_exception is not None:
        original = exc.original_exception
    if isinstance(original, HTTPException) and not isinstance(original, InternalServerError):
        return handle_http_exception(original)
    detail = "An unexpected error occurred. It has been logged."
    if not is_api_request():
        return _html_error(500, "Internal Server Error", detail)
    return problem(500, "Internal Server Error", detail)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(PoolTimeout, handle_busy_database)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
