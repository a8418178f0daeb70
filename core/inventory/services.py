"""Stock, in one place. Every change is one conditional UPDATE on the product row inside the
caller's transaction, so stock never goes negative under any number of concurrent processes.
Several lines are taken in a fixed order (by product id) so two transactions never deadlock."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from core.catalog.models import Product
from core.columns import utcnow
from core.errors import Conflict, InsufficientStock, NotFound, ValidationFailed
from core.validation import MAX_QUANTITY



def stock_status(quantity: int, threshold: int = 10) -> str:
    """out_of_stock (0), low_stock (below the product's threshold), in_stock."""
    if quantity <= 0:
        return "out_of_stock"
    if quantity < threshold:
        return "low_stock"
    return "in_stock"


def _require_positive(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValidationFailed.field("quantity", "Quantity must be a positive integer.")
    if quantity > MAX_QUANTITY:
        raise ValidationFailed.field("quantity", f"Quantity must be at most {MAX_QUANTITY}.")


def try_take_stock(session: Session, product_id: str, quantity: int) -> int | None:
    """Take `quantity` units if that many are there; returns the remaining stock, or None when
    there were not enough (nothing changed). One statement: UPDATE … WHERE stock >= :q."""
    _require_positive(quantity)
    changed = _execute_stock_update(session, _TAKE, product_id, quantity)
    if changed is None:
        return None
    _refresh(session, product_id, changed)
    return changed.stock


def take_stock(session: Session, product_id: str, quantity: int, *, name: str | None = None) -> int:
    """Take `quantity` units or raise InsufficientStock (409); returns the remaining stock."""
    remaining = try_take_stock(session, product_id, quantity)
    if remaining is None:
        label = name or product_id
        raise InsufficientStock(f"Not enough stock for {label} to take {quantity}.", product_id=product_id)
    return remaining


def take_stock_for_lines(session: Session, lines: Iterable[tuple[str, int]], names: Mapping[str, str] | None = None) -> dict[str, int]:
    """All-or-nothing: take every line's quantity (lines of one product summed), in product-id
    order. Raises InsufficientStock naming the first short product; the caller's transaction
    must then roll back, which gives back what was already taken."""
    wanted: dict[str, int] = defaultdict(int)
    for product_id, quantity in lines:
        _require_positive(quantity)
        wanted[product_id] += quantity
    return {pid: take_stock(session, pid, wanted[pid], name=(names or {}).get(pid)) for pid in sorted(wanted)}


def release_stock(session: Session, product_id: str, quantity: int) -> int:
    """Give back `quantity` units that were taken (cancel, release); returns the new stock."""
    _require_positive(quantity)
    return _add(session, product_id, quantity)


def replenish_stock(session: Session, product_id: str, quantity: int) -> int:
    """Add new units (a shipment arrived); returns the new stock."""
    _require_positive(quantity)
    return _add(session, product_id, quantity)


def _add(session: Session, product_id: str, quantity: int) -> int:
    changed = _execute_stock_update(session, _ADD, product_id, quantity)
    if changed is None:
        if session.scalar(select(Product.id).where(Product.id == product_id)) is None:
            raise NotFound("Product not found.")
        raise Conflict(f"Adding {quantity} units would take the stock past {MAX_QUANTITY}.", product_id=product_id)
    _refresh(session, product_id, changed)
    return changed.stock


# The stock statements are built once, as Core statements on the products table: they run on the
# hot path of every checkout, purchase and provisioning, where building an ORM UPDATE each time
# cost more than executing it.
_products = Product.__table__
_TAKE = (update(_products)
         .where(_products.c.id == bindparam("product_id"), _products.c.stock >= bindparam("quantity"))
         .values(stock=_products.c.stock - bindparam("quantity"), updated_at=bindparam("now"))
         .returning(_products.c.stock, _products.c.updated_at))
_ADD = (update(_products)
        .where(_products.c.id == bindparam("product_id"), _products.c.stock <= bindparam("room"))
        .values(stock=_products.c.stock + bindparam("quantity"), updated_at=bindparam("now"))
        .returning(_products.c.stock, _products.c.updated_at))


def _execute_stock_update(session: Session, statement, product_id: str, quantity: int) -> Row | None:
    """Run one conditional stock UPDATE; the row's new (stock, updated_at), or None when its
    condition failed."""
    if session.autoflush:
        # As an ORM statement would: pending changes reach the database first, in the order the
        # caller made them (a Core statement does not autoflush).
        session.flush()
    return session.execute(statement, {"product_id": product_id, "quantity": quantity,
                                       "room": MAX_QUANTITY - quantity, "now": utcnow()}).one_or_none()


def _refresh(session: Session, product_id: str, changed: Row) -> None:
    """Keep an already-loaded Product object in step with the row the UPDATE changed, with the
    values its RETURNING read (no second statement)."""
    product = session.identity_map.get(session.identity_key(Product, product_id))
    if product is not None:
        set_committed_value(product, "stock", changed.stock)
        set_committed_value(product, "updated_at", changed.updated_at)


def find_product(session: Session, key: str, *, active_only: bool = False) -> Product:
    """A product by UUID or by SKU; NotFound (404) otherwise."""
    query = select(Product).where((Product.id == key) | (Product.sku == key))
    if active_only:
        query = query.where(Product.is_active.is_(True))
    product = session.scalar(query)
    if product is None:
        raise NotFound(f"Product '{key}' not found.")
    return product


# --- the inventory service's verbs: products named by SKU or UUID ------------------------------

@dataclass(frozen=True, slots=True)
class StockedProduct:
    """What a stock change reports of its product, read back by the UPDATE itself."""

    id: str
    sku: str
    name: str
    low_stock_threshold: int


@dataclass(frozen=True)
class StockChange:
    """What one reserve or replenish did: `previous` and `current` are the row's stock just
    before and just after the conditional UPDATE (so they are exact under concurrency)."""

    product: StockedProduct
    quantity: int
    previous: int
    current: int

    @property
    def status(self) -> str:
        return stock_status(self.current, self.product.low_stock_threshold)


# The inventory service's verbs name a product by UUID or SKU, and change it in one statement
# that also reads back what the answer reports: one round trip on the hot path of a reserve.
_NAMED = (_products.c.id == bindparam("key")) | (_products.c.sku == bindparam("key"))
_REPORTED = (_products.c.id, _products.c.sku, _products.c.name, _products.c.low_stock_threshold, _products.c.stock,
             _products.c.updated_at)
_RESERVE_NAMED = (update(_products).where(_NAMED, _products.c.stock >= bindparam("quantity"))
                  .values(stock=_products.c.stock - bindparam("quantity"), updated_at=bindparam("now"))
                  .returning(*_REPORTED))
_REPLENISH_NAMED = (update(_products).where(_NAMED, _products.c.stock <= bindparam("room"))
                    .values(stock=_products.c.stock + bindparam("quantity"), updated_at=bindparam("now"))
                    .returning(*_REPORTED))


def _change_named(session: Session, statement, key: str, quantity: int) -> tuple[StockedProduct, int] | None:
    if session.autoflush:
        session.flush()  # as _execute_stock_update does
    row = session.execute(statement, {"key": key, "quantity": quantity, "room": MAX_QUANTITY - quantity,
                                      "now": utcnow()}).first()
    if row is None:
        return None
    _refresh(session, row.id, row)
    return StockedProduct(row.id, row.sku, row.name, row.low_stock_threshold), row.stock


def reserve_product_stock(session: Session, key: str, quantity: int) -> StockChange:
    """Take `quantity` units of the product named by SKU or UUID: one conditional UPDATE, so
    stock never goes negative; beyond the stock → InsufficientStock (409) and nothing changes;
    an unknown product → NotFound (404), read only when the UPDATE changed nothing."""
    _require_positive(quantity)
    changed = _change_named(session, _RESERVE_NAMED, key, quantity)
    if changed is None:
        product = find_product(session, key)
        raise InsufficientStock(f"Not enough stock for {product.name} ({product.sku}) to take {quantity}.",
                                product_id=product.id)
    product, remaining = changed
    return StockChange(product, quantity, previous=remaining + quantity, current=remaining)


def replenish_product_stock(session: Session, key: str, quantity: int) -> StockChange:
    """Add `quantity` new units to the product named by SKU or UUID (one atomic UPDATE); past
    the largest stock there can be → Conflict (409); an unknown product → NotFound (404)."""
    _require_positive(quantity)
    changed = _change_named(session, _REPLENISH_NAMED, key, quantity)
    if changed is None:
        product = find_product(session, key)
        raise Conflict(f"Adding {quantity} units would take the stock past {MAX_QUANTITY}.", product_id=product.id)
    product, new_stock = changed
    return StockChange(product, quantity, previous=new_stock - quantity, current=new_stock)


def list_inventory(session: Session) -> list[Product]:
    """Every product of the store, active or not, by SKU: the stock levels the inventory lists."""
    # Categories are not part of a stock level: skip their selectin load.
    return list(session.scalars(select(Product).options(lazyload(Product.categories)).order_by(Product.sku)))


def products_to_restock(session: Session, *, limit: int = 20) -> tuple[list[Product], int]:
    """The products below their low-stock threshold, active or not: out-of-stock first, then by
    stock level (fewest units first) and name; at most `limit` of them, and how many there are."""
    below = (Product.stock <= 0) | (Product.stock < Product.low_stock_threshold)
    total = session.scalar(select(func.count()).select_from(Product).where(below)) or 0
    products = session.scalars(select(Product).where(below).options(lazyload(Product.categories))
                               .order_by(Product.stock, Product.name, Product.id).limit(limit)).all()
    return list(products), total
