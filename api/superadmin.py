"""Super-admin JSON API: direct create and repair (section 7) and tenant administration."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask_openapi3 import APIBlueprint, Tag
from pydantic import EmailStr, Field, RootModel, WithJsonSchema
from werkzeug.routing import BaseConverter

from api.platform import ProvisioningStepDto
from api.document import operation_id, schema_keywords
from api.schemas import CamelModel, CamelRequest, Identifier, NewSlug, ParameterModel, SlugText, problem_responses
from core.auth import services as auth_services
from core.auth.models import ApiClient, Role, User
from core.tenancy import admin, operations, provisioning
from core.tenancy.features import MAX_LIMIT, Feature, Limit, effective_features, effective_limits
from core.tenancy.models import Tenant
from core.validation import not_blank
from web.auth import require_principal


class TenantSlugConverter(BaseConverter):
    """A tenant's slug in a path beside /superadmin/tenants/repair: never "repair" (a reserved
    slug), so that path is the repair operation alone and a GET of it is a 405 whose Allow header
    lists POST, as the document says, not the tenant operations'."""

    regex = "(?!repair$)[^/]+"


bp = APIBlueprint("superadmin", __name__, url_prefix="/superadmin", abp_tags=[Tag(name="Super admin")],
                  abp_security=[{"bearer": []}], operation_id_callback=operation_id)


@bp.before_request
def superadmins_only():
    require_principal(Role.SUPERADMIN)


class CreateTenantRequest(CamelRequest):
    slug: NewSlug
    name: not_blank(200)
    plan_code: str = Field(max_length=32)


class CreateTenantResponse(CamelModel):
    slug: str
    status: str

    @classmethod
    def of(cls, tenant: Tenant) -> CreateTenantResponse:
        """The answer for a tenant created directly."""
        return cls(slug=tenant.slug, status=tenant.status)


class RepairTenantRequest(CamelRequest):
    tenant: SlugText


class RepairTenantResponse(CamelModel):
    tenant: str
    status: str

    @classmethod
    def of(cls, tenant: Tenant) -> RepairTenantResponse:
        """The answer for a repaired tenant."""
        return cls(tenant=tenant.slug, status=tenant.status)


class TenantDto(CamelModel):
    """A tenant as the super admin sees it: status, plan, the effective features and limits (the
    plan's with the overrides), the overrides themselves and the provisioning steps."""

    id: str
    slug: str
    name: str
    status: str
    plan_code: str
    db_name: str
    created_at: datetime
    updated_at: datetime
    features: dict[str, bool]
    limits: dict[str, int]
    feature_overrides: dict[str, bool]
    limit_overrides: dict[str, int]
    steps: list[ProvisioningStepDto]

    @classmethod
    def of(cls, tenant: Tenant) -> TenantDto:
        """The answer for a Tenant."""
        return cls(id=tenant.id, slug=tenant.slug, name=tenant.name, status=tenant.status, plan_code=tenant.plan_code,
                   db_name=tenant.db_name, created_at=tenant.created_at, updated_at=tenant.updated_at,
                   features=effective_features(tenant), limits=effective_limits(tenant),
                   feature_overrides=tenant.feature_overrides or {}, limit_overrides=tenant.limit_overrides or {},
                   steps=tenant.steps)


class TenantList(RootModel[list[TenantDto]]):
    @classmethod
    def of(cls, tenants) -> TenantList:
        """The answer for these Tenants."""
        return cls([TenantDto.of(tenant) for tenant in tenants])


class TenantPath(ParameterModel):
    slug: SlugText


def _overrides(names: type[Feature] | type[Limit], value: dict) -> WithJsonSchema:
    """The document's schema of a map of overrides: only the names the server knows (it answers
    400 for any other, naming it), each a value or null (back to the plan's)."""
    return WithJsonSchema({"anyOf": [
        {"type": "object", "additionalProperties": False,
         "properties": {name.value: {"anyOf": [value, {"type": "null"}]} for name in names}},
        {"type": "null"}]})


class TenantPatch(CamelRequest):
    """The parts to change; planCode and name may be left out but not null (the default None
    only tells they were not sent). A feature or limit set to null goes back to the plan's."""

    status: Literal["Suspended", "Ready"] | None = None
    plan_code: str = Field(None, max_length=32)
    name: not_blank(200) = None
    features: Annotated[dict[str, bool | None] | None, _overrides(Feature, {"type": "boolean"})] = None
    limits: Annotated[dict[str, Annotated[int, Field(ge=0, le=MAX_LIMIT)] | None] | None,
                      _overrides(Limit, {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT})] = None


class CreateUserRequest(CamelRequest):
    email: EmailStr
    password: str = Field(min_length=8, max_length=200)


class StoreAdminDto(CamelModel):
    id: str
    email: str
    role: str
    tenant: str = Field(description="The tenant's slug")

    @classmethod
    def of(cls, user: User, tenant: Tenant) -> StoreAdminDto:
        """The answer for a store admin User of `tenant`."""
        return cls(id=user.id, email=user.email, role=user.role, tenant=tenant.slug)


class CreateApiClientRequest(CamelRequest):
    """A customer client acts for one customer of the store, so it names it (customerId); a
    customerId sent with another role is ignored."""

    name: not_blank(200)
    role: Literal["partner", "customer", "store_admin", "service"]
    customer_id: Identifier | None = None


# The document says what the server checks: a customer client names its customer.
schema_keywords("CreateApiClientRequest", {
    "if": {"properties": {"role": {"const": "customer"}}, "required": ["role"]},
    "then": {"required": ["customerId"],
             "properties": {"customerId": {"type": "string", "minLength": 1, "maxLength": 64}}}})


class ApiClientCredentials(CamelModel):
    """New API credentials: the secret is in this answer only (it is stored hashed)."""

    client_id: str
    client_secret: str
    name: str
    role: str
    tenant: str = Field(description="The tenant's slug")
    customer_id: str | None

    @classmethod
    def of(cls, client: ApiClient, secret: str, tenant: Tenant) -> ApiClientCredentials:
        """The answer for a new ApiClient of `tenant` and its plain `secret`."""
        return cls(client_id=client.client_id, client_secret=secret, name=client.name, role=client.role,
                   tenant=tenant.slug, customer_id=client.customer_id)


@bp.post("/tenants", responses={201: CreateTenantResponse, **problem_responses(400, 401, 403, 404, 409, 500)})
def create_tenant(body: CreateTenantRequest):
    """Create a tenant directly, running its provisioning steps in this request."""
    tenant = provisioning.create_tenant_directly(body.slug, body.name, body.plan_code)
    return CreateTenantResponse.of(tenant), 201


@bp.post("/tenants/repair", responses={200: RepairTenantResponse, **problem_responses(401, 403, 404, 500)})
def repair_tenant(body: RepairTenantRequest):
    """Re-run every provisioning step idempotently; the tenant ends Ready with its data kept."""
    tenant = provisioning.repair_tenant(body.tenant)
    return RepairTenantResponse.of(tenant)


@bp.get("/tenants", responses={200: TenantList, **problem_responses(401, 403)})
def list_tenants():
    """Every tenant with its status, plan, effective features and limits."""
    return TenantList.of(admin.list_tenants())


@bp.get("/tenants/<tenant_slug:slug>", responses={200: TenantDto, **problem_responses(401, 403, 404)})
def get_tenant(path: TenantPath):
    """One tenant with its status, plan, effective features and limits, overrides and steps."""
    return TenantDto.of(admin.get_tenant(path.slug))


@bp.patch("/tenants/<tenant_slug:slug>", responses={200: TenantDto, **problem_responses(400, 401, 403, 404, 409)})
def update_tenant(path: TenantPath, body: TenantPatch):
    """Suspend or resume, change the plan, or override features and limits (null removes an override)."""
    tenant = admin.update_tenant(path.slug, status=body.status, plan_code=body.plan_code, name=body.name,
                                 features=body.features, limits=body.limits)
    return TenantDto.of(tenant)


@bp.post("/tenants/<tenant_slug:slug>/users",
         responses={201: StoreAdminDto, **problem_responses(400, 401, 403, 404, 409)})
def create_store_admin(path: TenantPath, body: CreateUserRequest):
    """Create a store admin of this tenant."""
    tenant = admin.get_tenant(path.slug)
    user = auth_services.create_user(body.email, body.password, Role.STORE_ADMIN, tenant)
    return StoreAdminDto.of(user, tenant), 201


@bp.post("/tenants/<tenant_slug:slug>/api-clients",
         responses={201: ApiClientCredentials, **problem_responses(400, 401, 403, 404, 409, 423)})
def create_api_client(path: TenantPath, body: CreateApiClientRequest):
    """Issue API credentials for this tenant. The secret is in this answer only; it is stored hashed.
    A customer client needs the store Ready (409 while it provisions, 423 while suspended)."""
    tenant, client, secret = operations.issue_store_api_client(path.slug, body.name, body.role, body.customer_id)
    return ApiClientCredentials.of(client, secret, tenant), 201
