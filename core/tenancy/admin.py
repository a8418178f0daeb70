"""What a super admin changes on a tenant: status (suspend/resume), plan, feature and limit overrides."""
from __future__ import annotations

from core.auth.models import Role, User
from core.auth.services import create_user
from core.errors import Conflict, NotFound, PlanNotFound, ValidationFailed
from core.extensions import db
from core.tenancy.features import MAX_LIMIT, Feature, Limit
from core.tenancy.models import Plan, Tenant, TenantStatus

SETTABLE_STATUSES = (TenantStatus.SUSPENDED, TenantStatus.READY)


def list_tenants() -> list[Tenant]:
    return list(db.session.scalars(db.select(Tenant).order_by(Tenant.created_at.desc(), Tenant.slug)))


# Built once: every request and job resolves its tenant with it.
_TENANT_BY_SLUG = db.select(Tenant).where(Tenant.slug == db.bindparam("slug"))


def get_tenant(slug: str) -> Tenant:
    tenant = db.session.scalar(_TENANT_BY_SLUG, {"slug": slug})
    if tenant is None:
        raise NotFound(f"Tenant '{slug}' not found.")
    return tenant


def _merge_overrides(current: dict, changes: dict, names: type[Feature] | type[Limit], field: str, kind) -> dict:
    merged = dict(current or {})
    for name, value in changes.items():
        if name not in set(names):
            raise ValidationFailed.field(f"{field}.{name}", f"Unknown {field[:-1]} '{name}'.")
        if value is None:
            merged.pop(name, None)  # null removes the override: the plan's value applies again
        elif kind is int and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LIMIT):
            raise ValidationFailed.field(f"{field}.{name}", f"Limits must be whole numbers from 0 to {MAX_LIMIT:,}.")
        elif kind is bool and not isinstance(value, bool):
            raise ValidationFailed.field(f"{field}.{name}", "Features must be true, false or null.")
        else:
            merged[name] = value
    return merged


def update_tenant(slug: str, *, status: str | None = None, plan_code: str | None = None,
                  features: dict | None = None, limits: dict | None = None, name: str | None = None) -> Tenant:
    """Suspend or resume (only a provisioned tenant: Ready ↔ Suspended), change plan or overrides."""
    tenant = get_tenant(slug)
    if status is not None:
        if status not in SETTABLE_STATUSES:
            raise ValidationFailed.field("status", "Status must be 'Suspended' or 'Ready'.")
        if tenant.status not in SETTABLE_STATUSES:
            raise Conflict(f"Tenant is {tenant.status}; only a Ready or Suspended tenant can change status"
                           + (" (use repair)." if tenant.status == TenantStatus.FAILED else "."))
        tenant.status = status
    if plan_code is not None:
        plan = db.session.get(Plan, plan_code.strip().upper())
        if plan is None:
            raise PlanNotFound(f"Plan '{plan_code}' not found.", field="planCode")
        tenant.plan_code, tenant.plan = plan.code, plan
    if features is not None:
        tenant.feature_overrides = _merge_overrides(tenant.feature_overrides, features, Feature, "features", bool)
    if limits is not None:
        tenant.limit_overrides = _merge_overrides(tenant.limit_overrides, limits, Limit, "limits", int)
    if name is not None:
        if not name.strip():
            raise ValidationFailed.field("name", "Name must not be empty.")
        tenant.name = name.strip()
    db.session.flush()
    return tenant


def list_plans() -> list[Plan]:
    return list(db.session.scalars(db.select(Plan).order_by(Plan.code)))


def store_admins(tenant: Tenant) -> list[User]:
    """The store admins (portal users) of a tenant, by email."""
    return list(db.session.scalars(db.select(User).filter_by(tenant_id=tenant.id, role=Role.STORE_ADMIN)
                                   .order_by(User.email)))


def add_store_admin(slug: str, email: str, password: str) -> User:
    """A store admin of the tenant, who signs in at the store's /admin/ (the password is stored
    hashed; an email already used by any user is a Conflict)."""
    return create_user(email, password, Role.STORE_ADMIN, get_tenant(slug))
