"""Product provisioner API (product-provisioner-api.md): /product-provisioner/*."""
from __future__ import annotations

from datetime import datetime

from flask_openapi3 import APIBlueprint, Tag
from pydantic import Field, RootModel

from api.schemas import CamelModel, CamelRequest, Identifier, ParameterModel, TenantHeader, problem_responses
from core.auth.models import Role
from core.errors import Forbidden
from core.provisioner import services
from core.tenancy.features import Feature, require_feature
from core.validation import Quantity
from web.tenancy import current_tenant, require_tenant_principal, tenant_db

bp = APIBlueprint("product_provisioner", __name__, url_prefix="/product-provisioner",
                  abp_tags=[Tag(name="Product provisioner")], abp_security=[{"bearer": []}])


@bp.before_request
def authenticated_store_callers():
    require_tenant_principal()
    require_feature(current_tenant(), Feature.PRODUCT_PROVISIONING)


class ProvisionRequest(CamelRequest):
    product_id: Identifier = Field(description="The product's UUID or SKU")
    quantity: Quantity
    customization: dict[str, str | int | float | bool] = Field(default_factory=dict)


class ProvisionedProductDto(CamelModel):
    id: str
    product_id: str
    sku: str
    quantity: int
    customization: dict
    created_at: datetime

    @classmethod
    def of(cls, provisioned) -> ProvisionedProductDto:
        """The answer for a ProvisionedProduct."""
        return cls(id=provisioned.id, product_id=provisioned.product_id, sku=provisioned.product.sku,
                   quantity=provisioned.quantity, customization=provisioned.customization or {},
                   created_at=provisioned.created_at)


class ProvisionedProductList(RootModel[list[ProvisionedProductDto]]):
    @classmethod
    def of(cls, provisioned) -> ProvisionedProductList:
        """The answer for these ProvisionedProducts."""
        return cls([ProvisionedProductDto.of(p) for p in provisioned])


class ProvisionResponse(CamelModel):
    message: str
    provisioned_products: list[ProvisionedProductDto]

    @classmethod
    def of(cls, provisioned) -> ProvisionResponse:
        """The answer for one ProvisionedProduct just provisioned."""
        return cls(message="Product provisioned successfully",
                   provisioned_products=[ProvisionedProductDto.of(provisioned)])


class AvailabilityResponse(CamelModel):
    product_id: str
    available: bool
    quantity: int

    @classmethod
    def of(cls, product) -> AvailabilityResponse:
        """Whether a Product is in stock, and how many units."""
        return cls(product_id=product.id, available=product.stock > 0, quantity=product.stock)


class ProductPath(ParameterModel):
    product_id: Identifier


def _customer_id() -> str:
    principal = require_tenant_principal(Role.CUSTOMER)
    if not principal.customer_id:
        raise Forbidden("Only a customer's credentials can provision products.")
    return principal.customer_id


@bp.post("/products", responses={200: ProvisionResponse, **problem_responses(400, 401, 403, 404, 409)})
def provision(header: TenantHeader, body: ProvisionRequest):
    """Provision a product for the calling customer, customized as its options require."""
    provisioned = services.provision_product(tenant_db(write=True), current_tenant(), _customer_id(),
                                             body.product_id, body.quantity, body.customization)
    return ProvisionResponse.of(provisioned)


@bp.get("/products/<product_id>/availability", responses={200: AvailabilityResponse, **problem_responses(401, 404)})
def product_availability(header: TenantHeader, path: ProductPath):
    """Whether the product (UUID or SKU) is in stock, and how many units."""
    return AvailabilityResponse.of(services.availability(tenant_db(), path.product_id))


@bp.get("/provisioned-products", responses={200: ProvisionedProductList, **problem_responses(401, 403)})
def provisioned_products(header: TenantHeader):
    """The caller's provisioned products; a store admin (or super admin) sees the whole store's."""
    principal = require_tenant_principal(Role.CUSTOMER, Role.STORE_ADMIN)
    customer_id = None if principal.has_any(Role.STORE_ADMIN) else principal.customer_id
    if customer_id is None and not principal.has_any(Role.STORE_ADMIN):
        raise Forbidden("These credentials belong to no customer.")
    return ProvisionedProductList.of(services.list_provisioned(tenant_db(), customer_id))
