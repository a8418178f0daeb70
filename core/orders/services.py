"""Quotes, orders and their cancellation, shared by /api/checkout, the storefront pages and the
purchase orchestrator.

Invariants: stock is only taken through core.inventory.services (one conditional UPDATE per
product, in product-id order, all-or-nothing inside the caller's transaction), so it never goes
negative and concurrent orders never oversell; an order and the stock it took are committed
together or not at all; cancelling gives back exactly what was taken, once. Everything is
tenant-scoped: the session is the tenant's database and the tenant row supplies its tax and
shipping settings and plan limits.
"""
from __future__ import annotations

import secrets

import phonenumbers
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Sequence

from sqlalchemy import TextClause, bindparam, select, text, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from core.cart.models import Cart, CartItem
from core.cart.services import lock_cart
from core.catalog.models import Product
from core.errors import Conflict, InsufficientStock, NotFound, ValidationFailed
from core.idempotency.services import IdempotentRequest, OpenSession, StoredAnswer, run_once
from core.inventory.services import release_stock, take_stock_for_lines
from core.money import to_money
from core.orders.models import Order, OrderChannel, OrderItem, OrderStatus, PaymentMethod
from core.tenancy.base import new_uuid, utcnow
from core.tenancy.features import check_limit

ZERO = Decimal("0.00")
ORDER_NUMBER_ATTEMPTS = 5
# E.164: at most 15 digits with the country code; fewer than 8 is not a dialable number anywhere
# the per-country rules would not already accept.
E164_DIGITS = range(8, 16)


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


def normalize_order_phone(value: str) -> str:
    """An order's phone in international form → E.164; ValueError (with a message fit for the
    field) otherwise. It must start with '+' and a known country calling code, and be a possible
    number for that country or at least have E.164's shape (8–15 digits): the contract's own
    example, +1234567890, is one digit short of a North American number and must be accepted."""
    text = (value or "").strip()
    if not text.startswith("+"):
        raise ValueError("Phone must be in international form, starting with + and the country code.")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Phone is not a phone number.") from exc
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not (phonenumbers.is_possible_number(number) or len(e164) - 1 in E164_DIGITS):
        raise ValueError("Phone is not a possible phone number.")
    return e164


def order_totals(tenant, subtotal: Decimal) -> Totals:
    """tax = subtotal × the tenant's taxRate, rounded half-up to cents; shipping = its
    flatShipping, free when the subtotal is strictly greater than its freeShippingThreshold."""
    subtotal = to_money(subtotal)
    tax = to_money(subtotal * Decimal(tenant.tax_rate))
    shipping = ZERO if subtotal > Decimal(tenant.free_shipping_threshold) else to_money(tenant.flat_shipping)
    return Totals(subtotal=subtotal, tax=tax, shipping=shipping, total=to_money(subtotal + tax + shipping))


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return to_money(Decimal(unit_price) * quantity)


def _cart_items(cart: Cart | None) -> list[CartItem]:
    if cart is None or not cart.items:
        raise ValidationFailed("The cart is empty.")
    return list(cart.items)


def _check_stock(items: Sequence[CartItem]) -> None:
    for item in items:
        product = item.product
        if not product.is_active:
            raise InsufficientStock(f"{product.name} is no longer available.", product_id=product.id)
        if product.stock < item.quantity:
            raise InsufficientStock(f"Product stock changed: only {product.stock} of {product.name} left, "
                                    f"{item.quantity} in the cart.", product_id=product.id)


def quote(session: Session, tenant, cart: Cart | None) -> Quote:
    """Totals of a cart at its items' prices: ValidationFailed (400) when the cart is missing or
    empty, InsufficientStock (409) when a product's stock no longer covers its line. Reads only."""
    items = _cart_items(cart)
    _check_stock(items)
    subtotal = sum((line_total(item.unit_price, item.quantity) for item in items), ZERO)
    return Quote(totals=order_totals(tenant, subtotal), items=items)


def _order_number() -> str:
    return f"ORD-{utcnow():%Y%m%d}-{secrets.randbelow(1_000_000):06d}"


def _insert_order(session: Session, values: dict) -> None:
    """INSERT the order row under a random ORD-YYYYMMDD-XXXXXX that no order of this tenant has.
    `INSERT … ON CONFLICT (number) DO NOTHING` settles a clash (with a committed order or a
    concurrent transaction's) without an error, so the caller's transaction goes on without a
    SAVEPOINT or a look-up first; only a clash of numbers is skipped: any other constraint raises."""
    for _ in range(ORDER_NUMBER_ATTEMPTS):
        values["number"] = _order_number()
        if session.execute(_INSERT_ORDER, values).scalar() is not None:
            return
    raise Conflict("Could not draw a free order number; try again.")


def _order_insert() -> TextClause:
    """INSERT INTO orders (…) VALUES (…) ON CONFLICT (number) DO NOTHING RETURNING id, as SQLite
    (3.35+) and PostgreSQL both write it, with every parameter typed as its column.

    Spelt out as text because SQLAlchemy 2.0 never caches its dialect-specific INSERT … ON
    CONFLICT constructs: each order compiled the statement again, most of an order's cost. A
    text statement is compiled once."""
    columns = list(Order.__table__.columns)
    names = ", ".join(column.name for column in columns)
    params = ", ".join(f":{column.name}" for column in columns)
    return (text(f"INSERT INTO {Order.__tablename__} ({names}) VALUES ({params}) "
                 "ON CONFLICT (number) DO NOTHING RETURNING id")
            .bindparams(*(bindparam(column.name, type_=column.type) for column in columns)))


_INSERT_ORDER = _order_insert()

_products = Product.__table__
_PRODUCTS_TO_ORDER = (select(_products.c.id, _products.c.sku, _products.c.name, _products.c.is_active,
                             _products.c.final_price)
                      .where(_products.c.id.in_(bindparam("ids", expanding=True))))


def create_order(session: Session, tenant, lines: Sequence[OrderLine], *, channel: str, contact: OrderContact,
                 customer_id: str | None = None, idempotency_key: str | None = None,
                 take_stock: bool = True) -> Order:
    """Record a PENDING order of `lines` in the caller's transaction. With `take_stock` (the
    default) every line's stock is taken first, all-or-nothing (InsufficientStock, 409, and the
    caller rolls back); pass take_stock=False only when the caller has already taken exactly
    these quantities in this transaction (the purchase orchestrator reserves item by item).
    Products must exist (404) and be active (409); a line without a unit price is priced at the
    product's current finalPrice. Totals follow order_totals.

    The rows are written with two Core INSERTs (the order, then its items in one executemany)
    and the returned Order is attached to the session as already persistent, exactly as written:
    this runs inside the stock-locking transaction of every checkout and purchase, where the
    unit of work's flush cost more than the rest of the order together."""
    if not lines:
        raise ValidationFailed("An order needs at least one line.")
    if channel not in set(OrderChannel):
        raise ValidationFailed.field("channel", f"Channel must be one of: {', '.join(OrderChannel)}.")
    if contact.payment_method is not None and contact.payment_method not in set(PaymentMethod):
        raise ValidationFailed.field("paymentMethod", f"Payment method must be one of: {', '.join(PaymentMethod)}.")
    ids = {line.product_id for line in lines}
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
    totals = order_totals(tenant, sum((item["line_total"] for item in item_values), ZERO))
    values = dict(id=order_id, number=None, channel=str(channel), status=str(OrderStatus.PENDING), email=contact.email,
                  phone=contact.phone, shipping_address=contact.shipping_address,
                  payment_method=contact.payment_method, subtotal=totals.subtotal, tax=totals.tax,
                  shipping=totals.shipping, total=totals.total, customer_id=customer_id,
                  idempotency_key=idempotency_key, created_at=now, updated_at=now)
    _insert_order(session, values)
    session.execute(OrderItem.__table__.insert(), item_values)
    return _attach(session, values, item_values)


def _attach(session: Session, values: dict, item_values: list[dict]) -> Order:
    """The Order (and its items) as the rows just inserted, persistent in `session` without
    another statement: the objects are built as a query would load them (every column set, no
    change pending), then given their identity and added."""
    items = [_loaded(OrderItem, row) for row in item_values]
    order = _loaded(Order, values)
    set_committed_value(order, "items", items)
    for item in items:
        set_committed_value(item, "order", order)
    for instance in (*items, order):
        make_transient_to_detached(instance)
    session.add(order)
    return order


def _loaded(model, row: dict):
    instance = model.__mapper__.class_manager.new_instance()
    for key, value in row.items():
        set_committed_value(instance, key, value)
    return instance


def place_order(session: Session, tenant, session_id: str, contact: OrderContact, *,
                customer_id: str | None = None, idempotency_key: str | None = None) -> Order:
    """Turn the session's cart into a storefront order, all in the caller's one transaction:
    the cart is locked (two checkouts of one cart never both succeed), must not be empty (400)
    nor hold more distinct products than maxProductsPerOrder (400); every line's stock is taken
    at the cart's prices (409 when short, nothing taken); then the cart is emptied."""
    cart = lock_cart(session, session_id)
    items = _cart_items(cart)
    check_limit(tenant, "maxProductsPerOrder", len(items), error=ValidationFailed)
    order = create_order(session, tenant,
                         [OrderLine(item.product_id, item.quantity, item.unit_price) for item in items],
                         channel=OrderChannel.STOREFRONT, contact=contact, customer_id=customer_id,
                         idempotency_key=idempotency_key)
    cart.items.clear()
    cart.updated_at = utcnow()
    session.flush()
    return order


def place_order_idempotently(session: Session, open_session: OpenSession, tenant, request: IdempotentRequest,
                             session_id: str, contact: OrderContact, *, customer_id: str | None = None,
                             render: Callable[[Order], tuple[int, str]]) -> StoredAnswer:
    """place_order at most once per Idempotency-Key (see core.idempotency.services): the first
    request places the order, stores render(order) with the order and commits; the same request
    again gets that answer replayed; another request with the key, or one arriving while the
    first still runs, gets IdempotencyConflict (409). A refused or failed request stores nothing."""
    def work() -> tuple[int, str]:
        order = place_order(session, tenant, session_id, contact, customer_id=customer_id,
                            idempotency_key=request.key)
        return render(order)

    return run_once(session, open_session, request, work)


def get_order(session: Session, order_id: str) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("Order not found.")
    return order


def cancel_order(session: Session, order: Order) -> Order:
    """Cancel a PENDING order and give back exactly the stock it took (product-id order), in the
    caller's transaction. The status flip is one conditional UPDATE, so of two concurrent cancels
    only one releases; cancelling a cancelled order changes nothing. Any other status → 409."""
    flipped = session.execute(
        update(Order).where(Order.id == order.id, Order.status == OrderStatus.PENDING)
        .values(status=OrderStatus.CANCELLED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(order, ["status", "updated_at"])
    if flipped != 1:
        if order.status == OrderStatus.CANCELLED:
            return order
        raise Conflict(f"Only a pending order can be cancelled (this one is {order.status}).")
    taken: dict[str, int] = defaultdict(int)
    for item in order.items:
        taken[item.product_id] += item.quantity
    for product_id in sorted(taken):
        release_stock(session, product_id, taken[product_id])
    session.flush()
    return order
