"""Finding a store: by slug (the X-Tenant-Slug header, a job's argument) or by host name."""
from __future__ import annotations

from core.errors import TenantLocked, TenantNotResolved
from core.extensions import db
from core.tenancy.models import Tenant, TenantStatus


def find_tenant(slug: str | None) -> Tenant | None:
    if not slug:
        return None
    return db.session.scalar(db.select(Tenant).filter_by(slug=slug.strip().lower()))


def ready_tenants() -> list[Tenant]:
    """Every Ready store, by name (the platform's landing page lists them)."""
    return list(db.session.scalars(db.select(Tenant).filter_by(status=TenantStatus.READY)
                                   .order_by(Tenant.name, Tenant.slug)))


def require_ready(tenant: Tenant | None, slug: str | None) -> Tenant:
    """409 when the tenant is unknown or not Ready; 423 when it is suspended."""
    if tenant is None:
        raise TenantNotResolved(f"No store named '{slug}' exists." if slug else "The X-Tenant-Slug header is required.")
    if tenant.status == TenantStatus.SUSPENDED:
        raise TenantLocked(f"The store '{tenant.slug}' is suspended.")
    if tenant.status != TenantStatus.READY:
        raise TenantNotResolved(f"The store '{tenant.slug}' is not ready (status {tenant.status}).")
    return tenant


def slug_from_host(host: str, platform_host: str) -> str | None:
    """'demo.localhost:5000' on platform 'localhost:5000' → 'demo'; the platform host itself → None."""
    host = host.lower()
    platform_host = platform_host.lower()
    platform_name = platform_host.split(":")[0]
    host_name = host.split(":")[0]
    if host_name == platform_name or not host_name.endswith("." + platform_name):
        return None
    label = host_name[: -len(platform_name) - 1]
    return label if label and "." not in label else None
