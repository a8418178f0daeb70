"""The tenant of an API request (X-Tenant-Slug) and its database session."""
from __future__ import annotations

from flask import g, request
from pydantic import Field
from sqlalchemy.orm import Session

from api.schemas import ParameterModel
from core.auth.guards import Principal, require_principal
from core.tenancy.models import Tenant
from core.tenancy.resolve import find_tenant, require_ready, tenant_session

TENANT_HEADER = "X-Tenant-Slug"


class TenantHeader(ParameterModel):
    """Documents the header in the OpenAPI document; the value is read by current_tenant()."""

    # Optional here so that a missing header answers the documented 409, not a 400.
    x_tenant_slug: str | None = Field(None, alias="X-Tenant-Slug", description="The store this call is for, e.g. 'demo'")


def current_tenant() -> Tenant:
    """The Ready tenant named by X-Tenant-Slug: 409 when unknown or not Ready, 423 when suspended."""
    tenant = g.get("tenant")
    if tenant is None:
        slug = request.headers.get(TENANT_HEADER, "").strip().lower() or None
        tenant = g.tenant = require_ready(find_tenant(slug), slug)
    return tenant


def tenant_db(*, write: bool = False) -> Session:
    """The request's session on the current tenant's database; committed once by the request.
    Writing requests pass write=True (on SQLite the transaction then takes the write lock first)."""
    return tenant_session(current_tenant(), write=write)


def require_tenant_principal(*roles: str) -> Principal:
    """A token of this tenant (or a superadmin's) with one of `roles`: 401 without, 403 otherwise."""
    return require_principal(*roles, tenant_slug=current_tenant().slug)
