"""Checkout (section 5 of multi-tenant-platform-api.md): quote and idempotent place-order."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import EmailStr, Field

from api.answers import RenderedAnswer, render_answer
from api.cart import CART_SECURITY, PREVIOUS_PRICE, SessionHeaders
from api.schemas import CamelModel, CamelRequest, Money, problem_responses
from core.errors import ValidationFailed
from core.orders import checkout
from core.orders.models import PaymentMethod
from core.orders.placement import OrderContact
from core.orders.pricing import Quote, line_total
from core.validation import Phone, not_blank
from web.auth import current_principal
from web.tenancy import current_tenant, tenant_db

bp = APIBlueprint("checkout", __name__, url_prefix="/api/checkout", abp_tags=[Tag(name="Checkout")])

IdempotencyKey = not_blank(255)
REPLAYED_HEADER = "Idempotent-Replayed"


@bp.before_request
def checkout_enabled():
    """The store must be resolved (409/423) and check out carts (403); placing an order without
    guest checkout needs a token of this store (401) — all before the request is validated
    (core.orders.checkout decides who may)."""
    tenant = current_tenant()
    if request.endpoint == f"{bp.name}.place_order":
        checkout.require_placing(tenant, current_principal())
    else:
        checkout.require_checkout(tenant)


class PlaceOrderHeaders(SessionHeaders):
    idempotency_key: IdempotencyKey = Field(alias="Idempotency-Key", description="UUID v4; equals the body's idempotencyKey")


class PlaceOrderRequest(CamelRequest):
    idempotency_key: IdempotencyKey = Field(description="Must match the Idempotency-Key header")
    email: EmailStr
    phone: Phone = Field(description="International form: + and the country code")
    shipping_address: not_blank(2000)
    payment_method: Literal["CreditCard", "PayPal", "CashOnDelivery"]


class QuoteItemDto(CamelModel):
    """A line of the quote: CartItemDto without the image (section 5.1)."""

    id: str
    product_id: str
    product_name: str
    price: Money
    quantity: int
    subtotal: Money
    previous_price: Money | None = Field(None, description=PREVIOUS_PRICE)

    @classmethod
    def of(cls, item, previous_price=None) -> QuoteItemDto:
        """The answer for a CartItem of the quote."""
        return cls(id=item.id, product_id=item.product_id, product_name=item.product.name, price=item.current_price,
                   quantity=item.quantity, subtotal=line_total(item.current_price, item.quantity),
                   previous_price=previous_price)


class CheckoutQuoteResponse(CamelModel):
    subtotal: Money
    tax: Money
    shipping: Money
    total: Money
    items: list[QuoteItemDto]

    @classmethod
    def of(cls, quote: Quote) -> CheckoutQuoteResponse:
        """The answer for a Quote: its totals and its lines."""
        totals = quote.totals
        return cls(subtotal=totals.subtotal, tax=totals.tax, shipping=totals.shipping, total=totals.total,
                   items=[QuoteItemDto.of(item, quote.previous_price(item)) for item in quote.items])


class PlaceOrderResponse(CamelModel):
    order_id: str
    order_number: str
    total: Money
    status: str
    created_at: datetime

    @classmethod
    def of(cls, order) -> PlaceOrderResponse:
        """The answer for a placed Order (stored with its idempotency record)."""
        return cls(order_id=order.id, order_number=order.number, total=order.total, status=order.status,
                   created_at=order.created_at)


def _render_order(order) -> tuple[int, str]:
    """The answer stored with the idempotency record, as the exact JSON document sent (and
    replayed as a RenderedAnswer of PlaceOrderResponse)."""
    return 200, render_answer(PlaceOrderResponse.of(order))


@bp.post("/quote", security=CART_SECURITY, responses={200: CheckoutQuoteResponse,
                                                      **problem_responses(400, 401, 403, 409, 423)},
         openapi_extensions={"requestBody": {"required": False, "content": {
             "application/json": {"schema": {"type": "object", "description": "Empty for now"}}}}})
def quote(header: SessionHeaders):
    """Totals, tax and shipping of the session's cart at today's prices (a line whose price
    changed since the shopper saw it shows the old one in previousPrice, and this quote shows
    them the new one); 400 when it is empty, 409 when a product's stock no longer covers it."""
    key = header.cart_key()
    return CheckoutQuoteResponse.of(checkout.quote_cart(tenant_db(write=True), current_tenant(), key, shown=True))


@bp.post("/place-order", security=[{"bearer": []}, {}],
         responses={200: PlaceOrderResponse, **problem_responses(400, 401, 403, 409, 423)})
def place_order(header: PlaceOrderHeaders, body: PlaceOrderRequest):
    """Create an order from the session's cart, once per Idempotency-Key: the same request again
    gets the first answer (header Idempotent-Replayed: true); the key with another request, or
    while the first is still running, gets 409."""
    if body.idempotency_key != header.idempotency_key:
        raise ValidationFailed.field("idempotencyKey", "idempotencyKey must match the Idempotency-Key header.")
    contact = OrderContact(email=body.email, phone=body.phone, shipping_address=body.shipping_address,
                           payment_method=PaymentMethod(body.payment_method))
    answer = checkout.place_checkout_order(
        tenant_db(write=True), current_tenant(), current_principal(),
        checkout.CheckoutRequest(header.cart_key(), header.idempotency_key, contact), render=_render_order)
    headers = {REPLAYED_HEADER: "true"} if answer.replayed else {}
    return RenderedAnswer(PlaceOrderResponse, answer.body), 200 if answer.replayed else answer.status, headers
