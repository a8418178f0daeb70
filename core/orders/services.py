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
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Callable, Sequence

import phonenumbers
from sqlalchemy import BigInteger, TextClause, bindparam, case, cast, func, select, text, update
from sqlalchemy.orm import Session, lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from core.cart.models import Cart, CartItem
from core.cart.services import lock_cart
from core.catalog.models import Product
from core.columns import new_uuid, utcnow
from core.errors import Conflict, InsufficientStock, NotFound, ValidationFailed
from core.idempotency.services import IdempotentRequest, OpenSession, StoredAnswer, run_once
from core.inventory.services import release_stock, take_stock_for_lines
from core.money import to_money
from core.orders.models import Order, OrderChannel, OrderItem, OrderStatus, PaymentMethod
from core.tenancy.features import Limit, check_limit

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
    raw = (value or "").strip()
    if not raw.startswith("+"):
        raise ValueError("Phone must be in international form, starting with + and the country code.")
    try:
        number = phonenumbers.parse(raw, None)
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


def items_subtotal(items: Sequence[CartItem]) -> Decimal:
    """The sum of the lines' totals (unit price at adding × quantity, each rounded to cents)."""
    return sum((line_total(item.unit_price, item.quantity) for item in items), ZERO)


def _cart_items(cart: Cart | None) -> list[CartItem]:
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


def _check_stock(items: Sequence[CartItem]) -> None:
    shortfalls = stock_shortfalls(items)
    for item in items:
        if item.id in shortfalls:
            raise InsufficientStock(shortfalls[item.id], product_id=item.product_id)


def quote(session: Session, tenant, cart: Cart | None) -> Quote:
    """Totals of a cart at its items' prices: ValidationFailed (400) when the cart is missing or
    empty, InsufficientStock (409) when a product's stock no longer covers its line. Reads only."""
    items = _cart_items(cart)
    _check_stock(items)
    return Quote(totals=order_totals(tenant, items_subtotal(items)), items=items)


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
    unit of work's flush cost more than the rest of the order together. A caller that has just
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
    totals = order_totals(tenant, sum((item["line_total"] for item in item_values), ZERO))
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
    check_limit(tenant, Limit.MAX_PRODUCTS_PER_ORDER, len(items), error=ValidationFailed)
    order = create_order(session, tenant,
                         [OrderLine(item.product_id, item.quantity, item.unit_price) for item in items],
                         channel=OrderChannel.STOREFRONT, contact=contact, customer_id=customer_id,
                         idempotency_key=idempotency_key, session_id=session_id)
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


def get_session_order(session: Session, session_id: str, number: str) -> Order:
    """The order numbered `number` if the shopper session `session_id` placed it; NotFound
    (404) otherwise, exactly as for a missing order."""
    order = session.scalar(select(Order).where(Order.number == str(number)))
    if order is None or order.session_id is None or order.session_id != session_id:
        raise NotFound("Order not found.")
    return order


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


def cancel_pending_order(session: Session, order_id: str) -> Order:
    """The store admin's cancel: the order must be this store's (404) and still PENDING (409
    otherwise, so a second click says so); then cancel_order gives back exactly its stock."""
    order = get_order(session, order_id)
    if order.status != OrderStatus.PENDING:
        raise Conflict(f"Only a pending order can be cancelled (this one is {order.status}).")
    return cancel_order(session, order)


ORDER_PAGE_SIZE = 20
MAX_ORDER_PAGE_SIZE = 100


def list_orders(session: Session, *, page: int, page_size: int = ORDER_PAGE_SIZE, channel: str | None = None,
                status: str | None = None) -> tuple[list[Order], int]:
    """One page of the store's orders, newest first (then by id, so pages never overlap), of
    every channel (storefront and api) unless `channel` is given, and the number that match."""
    errors: dict[str, list[str]] = {}
    if channel and channel not in set(OrderChannel):
        errors["channel"] = [f"Channel must be one of: {', '.join(OrderChannel)}."]
    if status and status not in set(OrderStatus):
        errors["status"] = [f"Status must be one of: {', '.join(OrderStatus)}."]
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        errors["page"] = ["page must be an integer of at least 1."]
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_ORDER_PAGE_SIZE:
        errors["pageSize"] = [f"pageSize must be an integer from 1 to {MAX_ORDER_PAGE_SIZE}."]
    if errors:
        raise ValidationFailed("One or more validation errors occurred.", errors=errors)
    conditions = []
    if channel:
        conditions.append(Order.channel == channel)
    if status:
        conditions.append(Order.status == status)
    total = session.scalar(select(func.count()).select_from(Order).where(*conditions)) or 0
    orders = session.scalars(select(Order).where(*conditions).options(lazyload(Order.items))
                             .order_by(Order.created_at.desc(), Order.id.desc())
                             .limit(page_size).offset((page - 1) * page_size)).all()
    return list(orders), total


@dataclass(frozen=True)
class DaySales:
    """One UTC day: the orders placed (cancelled ones included) and the revenue of those not
    cancelled."""

    day: date
    orders: int
    cancelled: int
    revenue: Decimal


@dataclass(frozen=True)
class SalesReport:
    days: list[DaySales]

    @property
    def orders(self) -> int:
        return sum(day.orders for day in self.days)

    @property
    def cancelled(self) -> int:
        return sum(day.cancelled for day in self.days)

    @property
    def revenue(self) -> Decimal:
        return sum((day.revenue for day in self.days), ZERO)


def _utc_day(session: Session, column):
    """The UTC calendar day of a timestamp column, in SQL. PostgreSQL keeps timestamptz and
    would take the session's time zone; SQLite stores UTC text, whose date() is the day."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def daily_sales(session: Session, days: int = 30, *, today: date | None = None) -> SalesReport:
    """Orders and revenue of each of the last `days` UTC days up to today, oldest first, every
    day present (a day without orders counts 0). Aggregated in SQL in one grouped statement;
    revenue is summed in whole cents (exact on SQLite, whose numbers are binary floats, as on
    PostgreSQL) and excludes cancelled orders; money comes back as Decimal."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise ValidationFailed.field("days", "days must be an integer from 1 to 366.")
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=timezone.utc)
    until = datetime.combine(today + timedelta(days=1), time.min, tzinfo=timezone.utc)
    day = _utc_day(session, Order.created_at).label("day")
    cancelled = Order.status == OrderStatus.CANCELLED
    cents = cast(func.round(Order.total * 100), BigInteger)
    rows = session.execute(
        select(day, func.count().label("orders"),
               func.sum(case((cancelled, 1), else_=0)).label("cancelled"),
               func.sum(case((cancelled, 0), else_=cents)).label("cents"))
        .where(Order.created_at >= since, Order.created_at < until)
        .group_by(day)
    ).all()
    by_day = {date.fromisoformat(str(row.day)): row for row in rows}
    report = []
    for offset in range(days):
        current = first + timedelta(days=offset)
        row = by_day.get(current)
        if row is None:
            report.append(DaySales(current, 0, 0, ZERO))
        else:
            report.append(DaySales(current, int(row.orders), int(row.cancelled or 0),
                                   to_money(Decimal(int(row.cents or 0)) / 100)))
    return SalesReport(report)
