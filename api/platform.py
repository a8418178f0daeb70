"""Tenant provisioning (section 1 of multi-tenant-platform-api.md) and health (section 8)."""
from __future__ import annotations

from datetime import datetime

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas import CamelModel, CamelRequest, Identifier, NewSlug, ParameterModel, problem_responses
from core.errors import Unauthorized
from core.health import health_report
from core.tenancy import provisioning
from core.tenancy.models import Tenant, TenantStatus
from core.validation import not_blank
from web.auth import bearer_token

bp = APIBlueprint("platform", __name__, abp_tags=[Tag(name="Tenant provisioning")])


class InitProvisioningRequest(CamelRequest):
    slug: NewSlug = Field(description="Unique identifier (lowercase, alphanumeric + hyphens)")
    name: not_blank(200) = Field(description="Display name of the store")
    plan: str = Field(max_length=64, description='One of: "Basic", "Premium", "Enterprise" (in any case)',
                      json_schema_extra={"enum": ["Basic", "Premium", "Enterprise"]})


class InitProvisioningResponse(CamelModel):
    provisioning_id: str
    confirm_token: str
    next: str
    message: str

    @classmethod
    def of(cls, tenant: Tenant, confirm_token: str) -> InitProvisioningResponse:
        """The answer for a Pending tenant and its confirmation token."""
        return cls(provisioning_id=tenant.id, confirm_token=confirm_token, next="/provision/tenants/confirm",
                   message="Provisioning initialized. Use the confirmation token within 15 minutes to proceed.")


class ConfirmProvisioningResponse(CamelModel):
    provisioning_id: str
    status: str
    message: str
    status_endpoint: str

    @classmethod
    def of(cls, tenant: Tenant) -> ConfirmProvisioningResponse:
        """The confirm answer says "QUEUED", as documented (the status endpoint says "Queued")."""
        return cls(provisioning_id=tenant.id, status="QUEUED",
                   message="Provisioning confirmed and queued for processing",
                   status_endpoint=f"/provision/tenants/{tenant.id}/status")


# What the anonymous status endpoint says of a failed step.
FAILED_STEP_MESSAGE = "This step failed. The platform's operators have the details and can repair the store."


class ProvisioningStepDto(CamelModel):
    """A recorded provisioning step as the super admin sees it, read from a ProvisioningStep's
    attributes: its error as recorded (the exception, which may quote SQL)."""

    model_config = ConfigDict(from_attributes=True)

    step: str
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    log: str | None
    error_message: str | None


class PublicProvisioningStepDto(ProvisioningStepDto):
    """A provisioning step as the anonymous status endpoint shows it: whether it failed, never
    why (the recorded error may quote the database's own; the log and the super admin have it)."""

    @field_validator("error_message")
    @classmethod
    def _safe(cls, recorded: str | None) -> str | None:
        return None if recorded is None else FAILED_STEP_MESSAGE


class ProvisioningStatusResponse(CamelModel):
    status: str
    tenant_slug: str | None = Field(description="Set once the tenant is Ready")
    db_name: str | None = Field(description="Set once the tenant is Ready")
    steps: list[PublicProvisioningStepDto]

    @classmethod
    def of(cls, tenant: Tenant) -> ProvisioningStatusResponse:
        """The tenant's status and steps; its slug and database name once it is Ready."""
        ready = tenant.status == TenantStatus.READY
        return cls(status=tenant.status, tenant_slug=tenant.slug if ready else None,
                   db_name=tenant.db_name if ready else None, steps=tenant.steps)


class ProvisioningPath(ParameterModel):
    provisioning_id: Identifier


class HealthResponse(BaseModel):
    status: str = Field(description="Healthy or Unhealthy")
    timestamp: datetime
    checks: dict[str, dict[str, str]] = Field(description="Each part's status, and its error when Unhealthy")


@bp.post("/provision/tenants/init", responses={200: InitProvisioningResponse, **problem_responses(400, 409)})
def init_provisioning(body: InitProvisioningRequest):
    """Create a Pending tenant and return its single-use, 15-minute confirmation token."""
    tenant, token = provisioning.init_provisioning(body.slug, body.name, body.plan)
    return InitProvisioningResponse.of(tenant, token)


@bp.post("/provision/tenants/confirm", security=[{"bearer": []}],
         responses={200: ConfirmProvisioningResponse, **problem_responses(400, 401, 404, 503)})
def confirm_provisioning():
    """Spend the confirmation token and queue the tenant for provisioning."""
    token = bearer_token()
    if token is None:
        raise Unauthorized("The confirmation token is required as 'Authorization: Bearer <token>'.")
    return ConfirmProvisioningResponse.of(provisioning.confirm_provisioning(token))


@bp.get("/provision/tenants/<provisioning_id>/status",
        responses={200: ProvisioningStatusResponse, **problem_responses(404)})
def provisioning_status(path: ProvisioningPath):
    """The tenant's status and its three recorded steps."""
    return ProvisioningStatusResponse.of(provisioning.provisioning_status(path.provisioning_id))


@bp.get("/health", responses={200: HealthResponse, 503: HealthResponse}, doc_ui=True)
def health():
    """Healthy when the control database and Redis both answer; otherwise 503 naming the failure."""
    report = HealthResponse.model_validate(health_report())
    return report, 200 if report.status == "Healthy" else 503
