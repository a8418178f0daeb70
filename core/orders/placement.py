"""Placing orders: the one place an order row is written, for every channel — the cart's
checkout (storefront pages and /api/checkout, through core.orders.checkout) and the purchase
orchestrator's api orders.

Invariants: stock is only taken through core.inventory.services (one conditional UPDATE per
product, in product-id order, all-or-nothing inside the caller's transaction), so it never goes
negative and concurrent orders never oversell; an order and the stock it took are committed
together or not at all (the caller's unit of work); an order keeps a snapshot of what was bought.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.cart.services import lock_cart
from core.catalog.models import Product
from core.columns import new_uuid, utcnow
from core.errors import Conflict, InsufficientStock, NotFound, ValidationFailed
from core.idempotency.services import IdempotentRequest, StoredAnswer, run_once
from core.inventory.services import take_stock_for_lines
from core.money import MAX_AMOUNT, format_money, to_money
from core.orders.models import Order, OrderChannel, OrderItem, OrderStatus, PaymentMethod
from core.orders.pricing import (ZERO, cart_items, fits_an_order, line_total, order_totals, prices_shown, reprice,
                                 require_prices_shown)
from core.statements import insert_or_skip, loaded, persistent
from core.tenancy.features import Limit, check_limit
from core.unit_of_work import commits

ORDER_NUMBER_ATTEMPTS = 5


@dataclass(frozen=True)
class OrderLine:
    """One line to order. `unit_price` None means the product's current finalPrice."""

    product_id: str
    quantity: int
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class OrderContact:
    email: str
    phone: str | None = None
    shipping_address: str | None = None
    payment_method: str | None = None


def _order_number() -> str:
    return f"ORD-{utcnow():%Y%m%d}-{secrets.randbelow(1_000_000):06d}"


def _insert_order(session: Session, values: dict) -> None:
    """INSERT the order row under a random ORD-YYYYMMDD-XXXXXX that no order of this tenant has.
    `INSERT … ON CONFLICT (number) DO NOTHING` settles a clash (with a committed order or a
    concurrent transaction's) without an error, so the caller's transaction goes on without a
    SAVEPOINT or a look-up first; only a clash of numbers is skipped: any other constraint raises."""
    statement = insert_or_skip(session.get_bind().dialect, Order.__table__, (Order.__table__.c.number,),
                               Order.__table__.c.id)
    for _ in range(ORDER_NUMBER_ATTEMPTS):
        values["number"] = _order_number()
        if session.execute(statement, values).scalar() is not None:
            return
    raise Conflict("Could not draw a free order number; try again.")


_products = Product.__table__
# What create_order reads of each product it orders.
PRODUCT_COLUMNS_TO_ORDER = (_products.c.id, _products.c.sku, _products.c.name, _products.c.is_active,
                            _products.c.final_price)
_PRODUCTS_TO_ORDER = select(*PRODUCT_COLUMNS_TO_ORDER).where(_products.c.id.in_(bindparam("ids", expanding=True)))


def create_order(session: Session, tenant, lines: Sequence[OrderLine], *, channel: str, contact: OrderContact,
                 customer_id: str | None = None, idempotency_key: str | None = None,
                 session_id: str | None = None, take_stock: bool = True, products: dict | None = None) -> Order:
    """Record a PENDING order of `lines` in the caller's transaction. With `take_stock` (the
    default) every line's stock is taken first, all-or-nothing (InsufficientStock, 409, and the
    caller rolls back); pass take_stock=False only when the caller has already taken exactly
    these quantities in this transaction (the purchase orchestrator reserves item by item).
    Products must exist (404) and be active (409); a line without a unit price is priced at the
    product's current finalPrice. Totals follow order_totals.

    The rows are written with two Core INSERTs (the order, then its items in one executemany)
    and the returned Order is attached to the session as already persistent, exactly as written:
    this runs inside the stock-locking transaction of every checkout and purchase, where the
    unit of work's flush cost more than the rest of the order together, and loading the objects
    back with ORM INSERT … RETURNING cost 2.5–4 times the CPU of the whole insert (measured with
    both databases: 1.3–1.9 ms an order against 0.4–1.1 ms). A caller that has just
    read the lines' products in this transaction may pass them as `products` (id → a row with
    PRODUCT_COLUMNS_TO_ORDER) so they are not read again."""
    if not lines:
        raise ValidationFailed("An order needs at least one line.")
    if channel not in set(OrderChannel):
        raise ValidationFailed.field("channel", f"Channel must be one of: {', '.join(OrderChannel)}.")
    if contact.payment_method is not None and contact.payment_method not in set(PaymentMethod):
        raise ValidationFailed.field("paymentMethod", f"Payment method must be one of: {', '.join(PaymentMethod)}.")
    ids = {line.product_id for line in lines}
    if products is None or not ids <= products.keys():
        products = {row.id: row for row in session.execute(_PRODUCTS_TO_ORDER, {"ids": list(ids)})}
    for product_id in sorted(ids):
        product = products.get(product_id)
        if product is None:
            raise NotFound(f"Product '{product_id}' not found.")
        if not product.is_active:
            raise InsufficientStock(f"{product.name} is no longer available.", product_id=product_id)
    if take_stock:
        take_stock_for_lines(session, [(line.product_id, line.quantity) for line in lines],
                             names={pid: p.name for pid, p in products.items()})
    now = utcnow()
    order_id = new_uuid()
    item_values = []
    for position, line in enumerate(lines):
        product = products[line.product_id]
        unit_price = to_money(line.unit_price if line.unit_price is not None else product.final_price)
        item_values.append(dict(id=new_uuid(), order_id=order_id, position=position, product_id=product.id,
                                sku=product.sku, name=product.name, unit_price=unit_price, quantity=line.quantity,
                                line_total=line_total(unit_price, line.quantity)))
    for item in item_values:
        if not fits_an_order(item["line_total"]):
            raise ValidationFailed(f"{item['name']}: {item['quantity']} units come to more than the largest amount an "
                                   f"order can hold ({format_money(MAX_AMOUNT)}).", product_id=item["product_id"])
    totals = order_totals(tenant, sum((item["line_total"] for item in item_values), ZERO))
    if not fits_an_order(totals.total):
        raise ValidationFailed(f"The order's total would be more than the largest amount an order can hold "
                               f"({format_money(MAX_AMOUNT)}).")
    values = dict(id=order_id, number=None, channel=str(channel), status=str(OrderStatus.PENDING), email=contact.email,
                  phone=contact.phone, shipping_address=contact.shipping_address,
                  payment_method=contact.payment_method, subtotal=totals.subtotal, tax=totals.tax,
                  shipping=totals.shipping, total=totals.total, customer_id=customer_id,
                  idempotency_key=idempotency_key, session_id=session_id, created_at=now, updated_at=now)
    _insert_order(session, values)
    session.execute(OrderItem.__table__.insert(), item_values)
    return _attach(session, values, item_values)


def _attach(session: Session, values: dict, item_values: list[dict]) -> Order:
    """The Order (and its items) as the rows just inserted, persistent in `session` without
    another statement (core.statements.loaded and persistent)."""
    items = [loaded(OrderItem, row) for row in item_values]
    order = loaded(Order, values, items=items)
    for item in items:
        set_committed_value(item, "order", order)
    persistent(session, *items, order)
    return order


def place_order(session: Session, tenant, session_id: str, contact: OrderContact, *,
                customer_id: str | None = None, idempotency_key: str | None = None,
                prices_seen: str | None = None) -> Order:
    """Turn the session's cart into a storefront order, all in the caller's one transaction:
    the cart is locked (two checkouts of one cart never both succeed), must not be empty (400)
    nor hold more distinct products than maxProductsPerOrder (400); every line must be at the
    price the shopper was shown (PriceChanged, 409, else: core.orders.pricing) — `prices_seen`,
    the digest of a checkout page the shopper confirms (pricing.prices_shown), shows them the
    current prices; every line's stock is taken (409 when short, nothing taken); then the cart is
    emptied."""
    cart = lock_cart(session, session_id)
    items = cart_items(cart)
    check_limit(tenant, Limit.MAX_PRODUCTS_PER_ORDER, len(items), error=ValidationFailed)
    if prices_seen is not None and prices_seen == prices_shown(items):
        reprice(items)
    require_prices_shown(items)
    # The cart's statement read its lines' products in this transaction: not read again.
    order = create_order(session, tenant,
                         [OrderLine(item.product_id, item.quantity, item.unit_price) for item in items],
                         channel=OrderChannel.STOREFRONT, contact=contact, customer_id=customer_id,
                         idempotency_key=idempotency_key, session_id=session_id,
                         products={item.product_id: item.product for item in items})
    cart.items.clear()
    cart.updated_at = utcnow()
    session.flush()
    return order


@commits("the answer is stored and committed with the order before replying")
def place_order_idempotently(session: Session, tenant, request: IdempotentRequest, session_id: str,
                             contact: OrderContact, *, customer_id: str | None = None,
                             prices_seen: str | None = None,
                             render: Callable[[Order], tuple[int, str]]) -> StoredAnswer:
    """place_order at most once per Idempotency-Key (see core.idempotency.services), in
    `session`'s one transaction: the first request places the order, stores render(order) with
    it and commits; the same request again gets that answer replayed; another request with the
    key, or one arriving while the first still runs, gets IdempotencyConflict (409). A refused
    or failed request stores nothing."""
    def work() -> tuple[int, str]:
        order = place_order(session, tenant, session_id, contact, customer_id=customer_id,
                            idempotency_key=request.key, prices_seen=prices_seen)
        return render(order)

    return run_once(session, request, work)
