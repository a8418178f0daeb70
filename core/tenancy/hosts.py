"""Which store a browser is looking at, from the Host header."""
from __future__ import annotations

from flask import current_app, g, request

from core.errors import NotFound
from core.tenancy.models import Tenant
from core.tenancy.resolve import find_tenant, require_ready, slug_from_host


def host_slug() -> str | None:
    """The store slug of this request's host, or None on the platform host itself."""
    return slug_from_host(request.host, current_app.config["PLATFORM_HOST"])


def page_tenant() -> Tenant:
    """The Ready store of this host: 404 when there is no such store, 409 when it is not ready,
    423 when it is suspended (rendered as friendly HTML pages)."""
    tenant = g.get("tenant")
    if tenant is None:
        slug = host_slug()
        tenant = find_tenant(slug)
        if tenant is None:
            raise NotFound(f"There is no store at {request.host}.")
        tenant = g.tenant = require_ready(tenant, slug)
    return tenant
