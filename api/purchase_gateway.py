"""Purchase gateway API (purchase-gateway-api.md): /purchase-gateway/purchases."""
from __future__ import annotations

from datetime import datetime

from flask_openapi3 import APIBlueprint, Tag
from pydantic import Field

from api.schemas import CamelModel, CamelRequest, Identifier, ParameterModel, TenantHeader, problem_responses
from core.auth.models import Role
from core.errors import Forbidden
from core.purchases import services
from core.tenancy.features import Feature, require_feature
from core.validation import Quantity, not_blank
from web.tenancy import current_tenant, require_tenant_principal, tenant_db

bp = APIBlueprint("purchase_gateway", __name__, url_prefix="/purchase-gateway",
                  abp_tags=[Tag(name="Purchase gateway")], abp_security=[{"bearer": []}])


def _customer_id() -> str:
    principal = require_tenant_principal(Role.CUSTOMER)
    if not principal.customer_id:
        raise Forbidden("Only a customer's credentials can make purchases.")
    return principal.customer_id


@bp.before_request
def customers_only():
    _customer_id()
    require_feature(current_tenant(), Feature.PURCHASE_GATEWAY)


class PurchaseLine(CamelRequest):
    id: str = Field(min_length=1, max_length=64, description="Product UUID or SKU")
    quantity: Quantity


class PurchaseRequest(CamelRequest):
    products: list[PurchaseLine] = Field(min_length=1)


class PurchaseAnswer(CamelModel):
    purchase_id: str
    status: str
    message: str

    @classmethod
    def of(cls, purchase) -> PurchaseAnswer:
        """The answer for a Purchase initiated or cancelled."""
        return cls(purchase_id=purchase.id, status=purchase.status, message=purchase.message)


class PurchaseLineStatus(CamelModel):
    id: str = Field(description="The product as the customer named it: UUID or SKU")
    quantity: int
    status: str

    @classmethod
    def of(cls, item) -> PurchaseLineStatus:
        """The answer for a PurchaseItem."""
        return cls(id=item.product_key, quantity=item.quantity, status=item.status)


class PurchaseStatusAnswer(CamelModel):
    purchase_id: str
    status: str
    message: str
    order_id: str | None = Field(description="The order of the reserved products, once processed")
    created_at: datetime
    products: list[PurchaseLineStatus]

    @classmethod
    def of(cls, purchase) -> PurchaseStatusAnswer:
        """The answer for a Purchase and each of its items."""
        return cls(purchase_id=purchase.id, status=purchase.status, message=purchase.message,
                   order_id=purchase.order_id, created_at=purchase.created_at,
                   products=[PurchaseLineStatus.of(item) for item in purchase.items])


class PurchasePath(ParameterModel):
    purchase_id: Identifier


class IdempotencyHeader(TenantHeader):
    idempotency_key: not_blank(100) | None = Field(
        None, alias="Idempotency-Key", description="Optional; a retry with the same key returns the first purchase")


@bp.post("/purchases", responses={200: PurchaseAnswer, **problem_responses(400, 401, 403, 409, 429, 503)})
def initiate(header: IdempotencyHeader, body: PurchaseRequest):
    """Record the purchase (PENDING) and hand it to the orchestrator; poll its status."""
    key = header.idempotency_key
    tenant = current_tenant()
    purchase, replayed = services.initiate_purchase(
        tenant_db(write=True), tenant, _customer_id(), [(line.id, line.quantity) for line in body.products],
        key, services.enqueue_processing(tenant.slug))
    return PurchaseAnswer.of(purchase), 200, ({"Idempotent-Replayed": "true"} if replayed else {})


@bp.get("/purchases/<purchase_id>", responses={200: PurchaseStatusAnswer, **problem_responses(401, 403, 404)})
def purchase_status(header: TenantHeader, path: PurchasePath):
    """The purchase's status and each product's: RESERVED, OUT_OF_STOCK, NOT_FOUND (RELEASED once cancelled)."""
    return PurchaseStatusAnswer.of(services.get_purchase(tenant_db(), _customer_id(), path.purchase_id))


@bp.post("/purchases/<purchase_id>/cancel", responses={200: PurchaseAnswer, **problem_responses(401, 403, 404)})
def cancel(header: TenantHeader, path: PurchasePath):
    """Cancel the purchase, releasing every reserved unit; cancelling twice is harmless."""
    purchase = services.cancel_purchase(tenant_db(write=True), _customer_id(), path.purchase_id)
    return PurchaseAnswer.of(purchase)
