"""What an order costs: line totals, tax and shipping, and the quote of a cart.

Money is Decimal with two places, rounded half-up (core.money). tax = subtotal × the store's
taxRate; shipping = its flatShipping, free when the subtotal is strictly greater than its
freeShippingThreshold.

What a cart line costs, on every path: its product's price now (CartItem.current_price). The line
also keeps the price the shopper was last shown (CartItem.unit_price), which every path that shows
the line records — adding it, changing its quantity, a quote, a checkout page the shopper
confirms (reprice). The cart and the quote show a changed price beside the one the shopper saw
(CartItem.previous_price), and an order is placed only at prices the shopper was shown: a line
whose price changed since is PriceChanged (409), nothing ordered, until they have seen it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from core.cart.models import Cart, CartItem
from core.errors import InsufficientStock, PriceChanged, ValidationFailed
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
    # Cart item id → the price the shopper was shown before, for each line whose price changed.
    changes: dict[str, Decimal]

    def previous_price(self, item: CartItem) -> Decimal | None:
        return self.changes.get(item.id)


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
    """The sum of the lines' totals (current price × quantity, each rounded to cents)."""
    return sum((line_total(item.current_price, item.quantity) for item in items), ZERO)


def price_changes(items: Sequence[CartItem]) -> dict[str, Decimal]:
    """Cart item id → the price the shopper was shown, for each line whose product's price changed since."""
    return {item.id: item.unit_price for item in items if item.previous_price is not None}


def reprice(items: Sequence[CartItem]) -> dict[str, Decimal]:
    """The shopper is being shown these lines: record their current prices as shown. Returns the
    changes (price_changes) this records. Flushed by the caller."""
    changes = price_changes(items)
    for item in items:
        item.unit_price = item.current_price
    return changes


def prices_shown(items: Sequence[CartItem]) -> str:
    """A digest of the lines and their current prices: a page shows it with the prices, and a
    checkout page sent back with the same digest confirms the shopper saw exactly these."""
    shown = ";".join(f"{item.id}={item.current_price}" for item in sorted(items, key=lambda item: item.id))
    return hashlib.sha256(shown.encode()).hexdigest()[:32]


def require_prices_shown(items: Sequence[CartItem]) -> None:
    """PriceChanged (409) when a line's price changed since the shopper was last shown it."""
    changed = [item for item in items if item.previous_price is not None]
    if changed:
        lines = "; ".join(f"{item.product.name} now costs {item.current_price} (was {item.unit_price})"
                          for item in changed)
        raise PriceChanged(f"Prices changed since you saw them: {lines}. Nothing was ordered: review the "
                           f"cart and place the order again.", product_id=changed[0].product_id)


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
    """Totals of a cart at its lines' current prices, with the lines whose price changed since the
    shopper saw them: ValidationFailed (400) when the cart is missing or empty, InsufficientStock
    (409) for the first line a product's stock no longer covers. Reads only."""
    items = cart_items(cart)
    shortfalls = stock_shortfalls(items)
    for item in items:
        if item.id in shortfalls:
            raise InsufficientStock(shortfalls[item.id], product_id=item.product_id)
    return Quote(totals=order_totals(tenant, items_subtotal(items)), items=items, changes=price_changes(items))
