"""What an order costs: line totals, tax and shipping, and the quote of a cart.

Money is Decimal with two places, rounded half-up (core.money). tax = subtotal × the store's
taxRate; shipping = its flatShipping, free when the subtotal is strictly greater than its
freeShippingThreshold.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from core.cart.models import Cart, CartItem
from core.errors import InsufficientStock, ValidationFailed
from core.money import MAX_AMOUNT, to_money

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal
    shipping: Decimal
    total: Decimal


@dataclass(frozen=True)
class Quote:
    totals: Totals
    items: list[CartItem]


def order_totals(tenant, subtotal: Decimal) -> Totals:
    """tax = subtotal × the tenant's taxRate, rounded half-up to cents; shipping = its
    flatShipping, free when the subtotal is strictly greater than its freeShippingThreshold."""
    subtotal = to_money(subtotal)
    tax = to_money(subtotal * Decimal(tenant.tax_rate))
    shipping = ZERO if subtotal > Decimal(tenant.free_shipping_threshold) else to_money(tenant.flat_shipping)
    return Totals(subtotal=subtotal, tax=tax, shipping=shipping, total=to_money(subtotal + tax + shipping))


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return to_money(Decimal(unit_price) * quantity)


def fits_an_order(amount: Decimal) -> bool:
    """Whether an order's line or total can hold `amount` (core.money.MAX_AMOUNT)."""
    return amount <= MAX_AMOUNT


def items_subtotal(items: Sequence[CartItem]) -> Decimal:
    """The sum of the lines' totals (unit price at adding × quantity, each rounded to cents)."""
    return sum((line_total(item.unit_price, item.quantity) for item in items), ZERO)


def cart_items(cart: Cart | None) -> list[CartItem]:
    """The lines of a cart to order; ValidationFailed (400) when it is missing or empty."""
    if cart is None or not cart.items:
        raise ValidationFailed("The cart is empty.")
    return list(cart.items)


def stock_shortfalls(items: Sequence[CartItem]) -> dict[str, str]:
    """Cart item id → why the product's current stock no longer covers that line (inactive, or
    fewer left than the line's quantity), for every such line, in cart order. Reads only."""
    shortfalls: dict[str, str] = {}
    for item in items:
        product = item.product
        if not product.is_active:
            shortfalls[item.id] = f"{product.name} is no longer available."
        elif product.stock < item.quantity:
            shortfalls[item.id] = (f"Product stock changed: only {product.stock} of {product.name} left, "
                                   f"{item.quantity} in the cart.")
    return shortfalls


def quote(tenant, cart: Cart | None) -> Quote:
    """Totals of a cart at its items' prices: ValidationFailed (400) when the cart is missing or
    empty, InsufficientStock (409) for the first line a product's stock no longer covers. Reads only."""
    items = cart_items(cart)
    shortfalls = stock_shortfalls(items)
    for item in items:
        if item.id in shortfalls:
            raise InsufficientStock(shortfalls[item.id], product_id=item.product_id)
    return Quote(totals=order_totals(tenant, items_subtotal(items)), items=items)
