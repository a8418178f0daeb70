"""Public configuration and feature flags (sections 2 and 6 of multi-tenant-platform-api.md)."""
from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from api.schemas import TenantHeader, problem_responses
from core.tenancy.features import effective_features, effective_limits
from core.tenancy.models import Tenant
from web.tenancy import current_tenant

bp = APIBlueprint("tenant_config", __name__, abp_tags=[Tag(name="Configuration")])


class TenantConfigResponse(BaseModel):
    name: str
    slug: str
    theme: dict
    seo: dict
    features: list[str] = Field(description="The enabled features, in snake_case")

    @classmethod
    def of(cls, tenant: Tenant) -> TenantConfigResponse:
        """Theme and SEO are empty for now, as documented."""
        enabled = [feature.snake_case for feature, on in effective_features(tenant).items() if on]
        return cls(name=tenant.name, slug=tenant.slug, theme={}, seo={}, features=enabled)


class FeatureFlagsResponse(BaseModel):
    features: dict[str, bool]
    limits: dict[str, int]

    @classmethod
    def of(cls, tenant: Tenant) -> FeatureFlagsResponse:
        """The plan's features and limits with the super admin's overrides, keyed in camelCase."""
        return cls(features=effective_features(tenant), limits=effective_limits(tenant))


@bp.get("/public/tenant-config", responses={200: TenantConfigResponse, **problem_responses(409, 423)})
def tenant_config(header: TenantHeader):
    """The store's name, theme, SEO and enabled features (in snake_case)."""
    return TenantConfigResponse.of(current_tenant())


@bp.get("/api/features", responses={200: FeatureFlagsResponse, **problem_responses(409, 423)})
def features(header: TenantHeader):
    """Every feature flag and limit of the store: its plan with the super admin's overrides."""
    return FeatureFlagsResponse.of(current_tenant())
