"""The inventory service (inventory-service.md): stock levels of the tenant's products, named by
SKU (PROD001) or UUID, answered in the document's snake_case. Reads are open; writes need a
store_admin (or superadmin) token of the tenant. `GET /health` is served by api.platform."""
from __future__ import annotations

from flask import request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field, RootModel, field_validator

from api.schemas import Identifier, Money, ParameterModel, PriceIn, TenantHeader, problem_responses
from core.auth.models import Role
from core.catalog.products import create_product
from core.catalog.rules import SKU_SCHEMA_PATTERN, sku_problem
from core.inventory import services as inventory
from core.inventory.services import StockChange
from core.validation import Quantity, RequestModel, Units, not_blank
from web.tenancy import current_tenant, require_tenant_principal, tenant_db

bp = APIBlueprint("inventory", __name__, url_prefix="/inventory", abp_tags=[Tag(name="Inventory")])
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER = [{"bearer": []}]


@bp.before_request
def writes_need_a_store_admin():
    """Checked before the body is read, so an anonymous caller learns nothing from validation."""
    if request.method in WRITE_METHODS:
        require_tenant_principal(Role.STORE_ADMIN)


class InventoryPath(ParameterModel):
    product_id: Identifier = Field(description="SKU (PROD001) or UUID of the product")


class NewInventoryItem(RequestModel):
    product_id: str = Field(max_length=64, description="The new product's SKU, e.g. PROD006: 1–64 letters, digits, "
                            "'.', '_' or '-', starting with a letter or digit, never a UUID",
                            json_schema_extra={"pattern": SKU_SCHEMA_PATTERN})
    name: not_blank(200)
    quantity: Units
    price: PriceIn

    @field_validator("product_id")
    @classmethod
    def _valid_sku(cls, value: str) -> str:
        if (problem := sku_problem(value)) is not None:
            raise ValueError(problem)
        return value


class StockQuantity(RequestModel):
    quantity: Quantity


class InventoryItem(BaseModel):
    """A stock level as inventory-service.md answers it; product_id is the SKU."""

    product_id: str
    name: str
    quantity: int
    price: Money
    status: str = Field(description="in_stock, low_stock or out_of_stock")

    @classmethod
    def of(cls, product) -> InventoryItem:
        """The stock level of a Product: its SKU, stock, price and stock status."""
        return cls(product_id=product.sku, name=product.name, quantity=product.stock, price=product.price,
                   status=inventory.stock_status(product.stock, product.low_stock_threshold))


class InventoryList(RootModel[list[InventoryItem]]):
    @classmethod
    def of(cls, products) -> InventoryList:
        """The stock levels of these Products."""
        return cls([InventoryItem.of(product) for product in products])


class ReservationResponse(BaseModel):
    product_id: str
    reserved_quantity: int
    previous_quantity: int
    remaining_quantity: int
    status: str

    @classmethod
    def of(cls, change: StockChange) -> ReservationResponse:
        """The answer for a reservation's StockChange."""
        return cls(product_id=change.product.sku, reserved_quantity=change.quantity,
                   previous_quantity=change.previous, remaining_quantity=change.current, status=change.status)


class ReplenishmentResponse(BaseModel):
    product_id: str
    added_quantity: int
    previous_quantity: int
    new_quantity: int
    status: str

    @classmethod
    def of(cls, change: StockChange) -> ReplenishmentResponse:
        """The answer for a replenishment's StockChange."""
        return cls(product_id=change.product.sku, added_quantity=change.quantity, previous_quantity=change.previous,
                   new_quantity=change.current, status=change.status)


class StockStatusResponse(BaseModel):
    product_id: str
    quantity: int
    status: str
    low_stock_threshold: int

    @classmethod
    def of(cls, product) -> StockStatusResponse:
        """The stock status of a Product, with its threshold."""
        return cls(product_id=product.sku, quantity=product.stock,
                   status=inventory.stock_status(product.stock, product.low_stock_threshold),
                   low_stock_threshold=product.low_stock_threshold)


@bp.get("", responses={200: InventoryList, **problem_responses(409, 423)})
def list_inventory(header: TenantHeader):
    """Every product of the store with its current stock level, by SKU."""
    return InventoryList.of(inventory.list_inventory(tenant_db()))


@bp.post("", security=BEARER, responses={201: InventoryItem, **problem_responses(400, 401, 403, 409, 415, 423)})
def add_product(body: NewInventoryItem, header: TenantHeader):
    """Add a new product; its SKU must be unused and the plan's maxProducts not reached."""
    product = create_product(tenant_db(write=True), current_tenant(), sku=body.product_id, name=body.name,
                             price=body.price, quantity=body.quantity)
    return InventoryItem.of(product), 201, {"Location": f"{bp.url_prefix}/{product.sku}"}


@bp.get("/<product_id>", responses={200: InventoryItem, **problem_responses(404, 409, 423)})
def get_inventory_item(path: InventoryPath, header: TenantHeader):
    """The product's current stock and price."""
    return InventoryItem.of(inventory.find_product(tenant_db(), path.product_id))


@bp.put("/<product_id>/reserve", security=BEARER,
        responses={200: ReservationResponse, **problem_responses(400, 401, 403, 404, 409, 415, 423)})
def reserve(path: InventoryPath, body: StockQuantity, header: TenantHeader):
    """Take units out of stock atomically; more than there is → 409 and nothing changes."""
    # The whole change is one conditional UPDATE: it runs without BEGIN and COMMIT round trips.
    change = inventory.reserve_product_stock(tenant_db(one_statement=True), path.product_id, body.quantity)
    return ReservationResponse.of(change)


@bp.put("/<product_id>/replenish", security=BEARER,
        responses={200: ReplenishmentResponse, **problem_responses(400, 401, 403, 404, 409, 415, 423)})
def replenish(path: InventoryPath, body: StockQuantity, header: TenantHeader):
    """Add units to stock (a shipment arrived)."""
    change = inventory.replenish_product_stock(tenant_db(one_statement=True), path.product_id, body.quantity)
    return ReplenishmentResponse.of(change)


@bp.get("/<product_id>/status", responses={200: StockStatusResponse, **problem_responses(404, 409, 423)})
def stock_status(path: InventoryPath, header: TenantHeader):
    """in_stock, low_stock (below the product's threshold) or out_of_stock."""
    return StockStatusResponse.of(inventory.find_product(tenant_db(), path.product_id))
