"""Super-admin JSON API: direct create and repair (section 7) and tenant administration."""
from __future__ import annotations

from typing import Literal

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, EmailStr, Field

from api.presenters import tenant_dto
from api.schemas import CamelModel, problem_responses
from core.auth import services as auth_services
from core.auth.models import Role
from core.tenancy import admin, provisioning
from core.unit_of_work import current_unit
from web.auth import require_principal

bp = APIBlueprint("superadmin", __name__, url_prefix="/superadmin", abp_tags=[Tag(name="Super admin")],
                  abp_security=[{"bearer": []}])


@bp.before_request
def superadmins_only():
    require_principal(Role.SUPERADMIN)


class CreateTenantRequest(CamelModel):
    slug: str
    name: str = Field(min_length=1, max_length=200)
    plan_code: str


class CreateTenantResponse(CamelModel):
    slug: str
    status: str


class RepairTenantRequest(CamelModel):
    tenant: str


class TenantPath(BaseModel):
    slug: str


class TenantPatch(CamelModel):
    status: Literal["Suspended", "Ready"] | None = None
    plan_code: str | None = None
    name: str | None = None
    features: dict[str, bool | None] | None = None
    limits: dict[str, int | None] | None = None


class CreateUserRequest(CamelModel):
    email: EmailStr
    password: str = Field(min_length=8, max_length=200)


class CreateApiClientRequest(CamelModel):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["partner", "customer", "store_admin", "service"]
    customer_id: str | None = None


@bp.post("/tenants", responses={201: CreateTenantResponse, **problem_responses(400, 401, 403, 404, 409, 500)})
def create_tenant(body: CreateTenantRequest):
    """Create a tenant directly, running its provisioning steps in this request."""
    tenant = provisioning.create_tenant_directly(body.slug, body.name, body.plan_code)
    return {"slug": tenant.slug, "status": tenant.status}, 201


@bp.post("/tenants/repair", responses={**problem_responses(401, 403, 404, 500)})
def repair_tenant(body: RepairTenantRequest):
    """Re-run every provisioning step idempotently; the tenant ends Ready with its data kept."""
    tenant = provisioning.repair_tenant(body.tenant)
    return {"tenant": tenant.slug, "status": tenant.status}


@bp.get("/tenants", responses={**problem_responses(401, 403)})
def list_tenants():
    """Every tenant with its status, plan, effective features and limits."""
    return [tenant_dto(t) for t in admin.list_tenants()]


@bp.get("/tenants/<slug>", responses={**problem_responses(401, 403, 404)})
def get_tenant(path: TenantPath):
    return tenant_dto(admin.get_tenant(path.slug))


@bp.patch("/tenants/<slug>", responses={**problem_responses(400, 401, 403, 404, 409)})
def update_tenant(path: TenantPath, body: TenantPatch):
    """Suspend or resume, change the plan, or override features and limits (null removes an override)."""
    tenant = admin.update_tenant(path.slug, status=body.status, plan_code=body.plan_code, name=body.name,
                                 features=body.features, limits=body.limits)
    return tenant_dto(tenant)


@bp.post("/tenants/<slug>/users", responses={**problem_responses(400, 401, 403, 404, 409)})
def create_store_admin(path: TenantPath, body: CreateUserRequest):
    """Create a store admin of this tenant."""
    tenant = admin.get_tenant(path.slug)
    user = auth_services.create_user(body.email, body.password, Role.STORE_ADMIN, tenant)
    return {"id": user.id, "email": user.email, "role": user.role, "tenant": tenant.slug}, 201


@bp.post("/tenants/<slug>/api-clients", responses={**problem_responses(400, 401, 403, 404)})
def create_api_client(path: TenantPath, body: CreateApiClientRequest):
    """Issue API credentials for this tenant. The secret is in this answer only; it is stored hashed."""
    tenant = admin.get_tenant(path.slug)
    client, secret = auth_services.issue_api_client(current_unit().tenant_db(tenant), tenant, body.name,
                                                    body.role, body.customer_id)
    return {"clientId": client.client_id, "clientSecret": secret, "name": client.name, "role": client.role,
            "tenant": tenant.slug, "customerId": client.customer_id}, 201
