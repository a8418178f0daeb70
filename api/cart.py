"""Shopping cart (section 4 of multi-tenant-platform-api.md): a guest cart per X-Session-Id, or a
customer's own cart with a customer's token."""
from __future__ import annotations

from uuid import UUID

from flask_openapi3 import APIBlueprint, Tag
from pydantic import Field

from api.schemas import (CamelModel, CamelRequest, Identifier, Money, ParameterModel, TenantHeader, UuidText,
                         problem_responses)
from core.cart import services as carts
from core.orders.pricing import items_subtotal, line_total
from core.tenancy.features import Feature, require_feature
from core.validation import Quantity
from web.auth import current_principal
from web.tenancy import current_tenant, tenant_db

bp = APIBlueprint("cart", __name__, url_prefix="/api/cart", abp_tags=[Tag(name="Cart")])


@bp.before_request
def cart_enabled():
    """The store must be resolved (409/423) and have the cart feature (403) before anything else."""
    require_feature(current_tenant(), Feature.CART)


# A guest calls without a token (X-Session-Id names the cart); a customer with its bearer token.
CART_SECURITY = [{}, {"bearer": []}]


class SessionHeaders(TenantHeader):
    # The default None only tells the header was not sent: the document says a UUID, never null.
    x_session_id: UuidText = Field(
        None, alias="X-Session-Id",
        description="The guest's session, a UUID (its hyphens may be left out): required without a customer's "
                    "token. With a customer's token of this store the call works on the customer's own cart, and a "
                    "guest cart named here is merged into it first (quantities summed, stock and limits checked "
                    "again).")

    def cart_key(self) -> str:
        """The cart this call works on (core.cart.services.shopper_cart_key)."""
        return carts.shopper_cart_key(lambda: tenant_db(write=True), current_tenant(), current_principal(),
                                      self.x_session_id)


class AddToCartRequest(CamelRequest):
    product_id: UUID = Field(description="The product's UUID")
    quantity: Quantity = Field(description="A positive integer")


class UpdateCartItemRequest(CamelRequest):
    quantity: Quantity = Field(description="The new quantity (must be > 0)")


# What a line's previousPrice says (core.orders.pricing).
PREVIOUS_PRICE = ("The price the shopper was last shown, when the product's price has changed since (else null): "
                  "place-order refuses the cart (409) until a quote, or a change of the line, shows the new price.")


class CartItemPath(ParameterModel):
    item_id: Identifier = Field(description="Cart item identifier (from the cart response)")


class CartItemDto(CamelModel):
    """CartItemDto: `price` is the product's price now, `subtotal` price × quantity."""

    id: str
    product_id: str
    product_name: str
    price: Money
    quantity: int
    subtotal: Money
    product_image: str | None
    previous_price: Money | None = Field(None, description=PREVIOUS_PRICE)

    @classmethod
    def of(cls, item) -> CartItemDto:
        """The answer for a CartItem; the image is the product's first, or null."""
        return cls(id=item.id, product_id=item.product_id, product_name=item.product.name, price=item.current_price,
                   quantity=item.quantity, subtotal=line_total(item.current_price, item.quantity),
                   product_image=(item.product.images or [None])[0],
                   previous_price=item.previous_price)


class CartDto(CamelModel):
    id: str
    session_id: str
    items: list[CartItemDto]
    item_count: int
    subtotal: Money

    @classmethod
    def of(cls, cart) -> CartDto:
        """The answer for a Cart: its items, the sum of their quantities and of their subtotals."""
        return cls(id=cart.id, session_id=cart.session_id, items=[CartItemDto.of(item) for item in cart.items],
                   item_count=cart.item_count, subtotal=items_subtotal(cart.items))


@bp.get("", security=CART_SECURITY,
        responses={200: CartDto, **problem_responses(400, 401, 403, 404, 409, 423)})
def get_cart(header: SessionHeaders):
    """The session's cart; 404 when it has none or it is empty."""
    key = header.cart_key()  # first: a merge opens the writing session the read then uses
    return CartDto.of(carts.get_cart(tenant_db(), key))


@bp.post("/items", security=CART_SECURITY,
         responses={200: CartDto, **problem_responses(400, 401, 403, 404, 409, 423)})
def add_item(header: SessionHeaders, body: AddToCartRequest):
    """Add a product, or more of it when it is already in the cart (one line per product)."""
    cart = carts.add_item(tenant_db(write=True), current_tenant(), header.cart_key(), str(body.product_id),
                          body.quantity)
    return CartDto.of(cart)


@bp.put("/items/<item_id>", security=CART_SECURITY,
        responses={200: CartDto, **problem_responses(400, 401, 403, 404, 409, 423)})
def update_item(header: SessionHeaders, path: CartItemPath, body: UpdateCartItemRequest):
    """Set the quantity of one of this session's cart items."""
    cart = carts.update_item(tenant_db(write=True), current_tenant(), header.cart_key(), path.item_id,
                             body.quantity)
    return CartDto.of(cart)


@bp.delete("/items/<item_id>", security=CART_SECURITY,
           responses={204: None, **problem_responses(400, 401, 403, 404, 409, 423)})
def remove_item(header: SessionHeaders, path: CartItemPath):
    """Remove one of this session's cart items."""
    carts.remove_item(tenant_db(write=True), header.cart_key(), path.item_id)
    return "", 204


@bp.delete("", security=CART_SECURITY,
           responses={204: None, **problem_responses(400, 401, 403, 409, 423)})
def clear_cart(header: SessionHeaders):
    """Remove every item of the session's cart (a cart that is already empty stays so)."""
    carts.clear_cart(tenant_db(write=True), header.cart_key())
    return "", 204
