"""Partner customer provisioning (customer-provisioning-api.md): /api/provisioning/customers."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask_openapi3 import APIBlueprint, Tag
from pydantic import ConfigDict, Field

from api.schemas import CamelModel, Identifier, ParameterModel, TenantHeader, problem_responses
from core.auth.models import Role
from core.customers import services
from core.customers.services import CustomerData, CustomerPatch
from core.tenancy.features import Feature, require_feature
from core.validation import PageNumber
from web.tenancy import current_tenant, require_tenant_principal, tenant_db

bp = APIBlueprint("customers", __name__, url_prefix="/api/provisioning/customers",
                  abp_tags=[Tag(name="Customer provisioning")], abp_security=[{"bearer": []}])

ROLES = (Role.PARTNER, Role.STORE_ADMIN)  # superadmin always passes


@bp.before_request
def partners_only():
    require_tenant_principal(*ROLES)
    require_feature(current_tenant(), Feature.CUSTOMER_PROVISIONING)


class CustomerPath(ParameterModel):
    customer_id: Identifier


class CustomerListQuery(ParameterModel, CamelModel):
    page: PageNumber = 1
    page_size: int = Field(20, ge=1, le=100)
    status: Literal["active", "inactive"] | None = None


class CustomerDto(CamelModel):
    """A customer, read from a Customer's attributes."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    address: str | None
    contact_email: str
    phone: str | None
    external_ref: str | None
    status: str = Field(description="active or inactive")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer) -> CustomerDto:
        """The answer for a Customer."""
        return cls.model_validate(customer)


class CustomerListResponse(CamelModel):
    items: list[CustomerDto]
    total_count: int
    page: int
    page_size: int
    total_pages: int

    @classmethod
    def of(cls, customers, total_count: int, page: int, page_size: int) -> CustomerListResponse:
        """One page of customers of `total_count`."""
        return cls(items=customers, total_count=total_count, page=page, page_size=page_size,
                   total_pages=(total_count + page_size - 1) // page_size)


ERRORS = problem_responses(400, 401, 403, 404, 409, 423)


@bp.post("", responses={201: CustomerDto, **ERRORS})
def create_customer(header: TenantHeader, body: CustomerData):
    """Create a customer: company name and contact email required; phone in international form."""
    customer = services.create_customer(tenant_db(write=True), current_tenant(), body)
    return CustomerDto.of(customer), 201


@bp.get("", responses={200: CustomerListResponse, **ERRORS})
def list_customers(header: TenantHeader, query: CustomerListQuery):
    """The store's customers, newest first, paginated."""
    items, total = services.list_customers(tenant_db(), page=query.page, page_size=query.page_size,
                                           status=query.status)
    return CustomerListResponse.of(items, total, query.page, query.page_size)


@bp.get("/<customer_id>", responses={200: CustomerDto, **ERRORS})
def get_customer(header: TenantHeader, path: CustomerPath):
    """One customer of the store."""
    return CustomerDto.of(services.get_customer(tenant_db(), path.customer_id))


@bp.put("/<customer_id>", responses={200: CustomerDto, **ERRORS})
def replace_customer(header: TenantHeader, path: CustomerPath, body: CustomerData):
    """Replace every field (same validation as create)."""
    return CustomerDto.of(services.replace_customer(tenant_db(write=True), path.customer_id, body))


@bp.patch("/<customer_id>", responses={200: CustomerDto, **ERRORS})
def patch_customer(header: TenantHeader, path: CustomerPath, body: CustomerPatch):
    """Change only the fields sent."""
    customer = services.patch_customer(tenant_db(write=True), current_tenant(), path.customer_id, body)
    return CustomerDto.of(customer)


@bp.delete("/<customer_id>", responses={204: None, **ERRORS})
def delete_customer(header: TenantHeader, path: CustomerPath):
    """Delete the customer: afterwards it is 404 and its contact email free, its API credentials
    are revoked, and its personal data is erased, also from its orders, which stay (as do its
    purchases). To deactivate it instead, PATCH {"status": "inactive"}."""
    services.delete_customer(tenant_db(write=True), current_tenant(), path.customer_id)
    return "", 204
