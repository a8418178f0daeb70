"""The store a request is for, and the request's session on its database.

An API call names its store in the X-Tenant-Slug header; a page is on the store's subdomain
({slug}.{PLATFORM_HOST}). Either way the store must be Ready: unknown or not Ready → 409
(TenantNotResolved) for the API, a 404 page for an unknown host; suspended → 423.
"""
from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy.orm import Session

from core.auth.principals import Principal
from core.errors import NotFound
from core.tenancy.directory import Store, find_store
from core.tenancy.resolve import require_ready, slug_from_host
from core.unit_of_work import current_unit
from web.auth import require_principal
from web.requests import is_api_request

TENANT_HEADER = "X-Tenant-Slug"


def host_slug() -> str | None:
    """The store slug of this request's host, or None on the platform host itself."""
    return slug_from_host(request.host, current_app.config["PLATFORM_HOST"])


def current_tenant() -> Store:
    """The request's Ready store: by X-Tenant-Slug for an API call, by host for a page (from
    the store directory: the control database is read only when the process has not kept it)."""
    tenant = g.get("tenant")
    if tenant is None:
        if is_api_request():
            slug = request.headers.get(TENANT_HEADER, "").strip().lower() or None
            tenant = require_ready(find_store(slug), slug)
        else:
            slug = host_slug()
            found = find_store(slug)
            if found is None:
                raise NotFound(f"There is no store at {request.host}.")
            tenant = require_ready(found, slug)
        g.tenant = tenant
    return tenant


def resolved_tenant() -> Store | None:
    """The request's store if current_tenant() has already resolved it (templates of error
    pages render without one)."""
    return g.get("tenant")


def tenant_db(*, write: bool = False, one_statement: bool = False) -> Session:
    """The request's session on its store's database, from the request's unit of work (which
    commits it once, or rolls it back once). Writing requests pass write=True: on SQLite the
    transaction then takes the write lock first; a request whose whole change is one statement
    passes one_statement=True (core.unit_of_work.UnitOfWork.tenant_db)."""
    return current_unit().tenant_db(current_tenant(), write=write, one_statement=one_statement)


def require_tenant_principal(*roles: str) -> Principal:
    """A token of this store (or a superadmin's) with one of `roles`: 401 without, 403 otherwise."""
    return require_principal(*roles, tenant_slug=current_tenant().slug)
