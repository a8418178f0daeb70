"""Cart verbs, shared by the JSON API and the storefront pages.

Tenant-scoped: every function works on the session of one tenant's database, and a cart is only
ever reached through its shopper's session id, so an item of another session is "not found".
A cart never holds more of a product than its stock at the time of the change, nor more units
in all than the plan's maxCartItems; no stock is taken here (that happens when the order is
placed, by core.inventory.services).
"""
from __future__ import annotations

import uuid
from typing import Callable

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, joinedload, lazyload, noload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from core.auth.principals import Principal
from core.cart.models import Cart, CartItem
from core.catalog.models import Product
from core.columns import new_uuid, utcnow
from core.errors import InsufficientStock, NotFound, Unauthorized, ValidationFailed
from core.money import to_money
from core.statements import insert_or_skip, loaded, persistent
from core.tenancy.features import Limit, check_limit

SESSION_FIELD = "X-Session-Id"

# Items with their product, without the product's categories (a cart never shows them).
_ITEMS = selectinload(Cart.items).joinedload(CartItem.product).lazyload(Product.categories)


def normalize_session_id(value: str | uuid.UUID | None) -> str:
    """The canonical form of a shopper's session id (a UUID); ValidationFailed (400) otherwise."""
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID((value or "").strip()))
    except ValueError:
        raise ValidationFailed.field(SESSION_FIELD, "X-Session-Id must be a UUID.") from None


def find_cart(session: Session, session_id: str) -> Cart | None:
    """The cart of a session with its items and their products, or None."""
    return session.scalar(select(Cart).where(Cart.session_id == session_id).options(_ITEMS))


def item_count(session: Session, session_id: str) -> int:
    """The number of units in the session's cart (the sum of its quantities, as CartDto.itemCount
    and Cart.item_count count them), in one SUM query; 0 when the session has no cart."""
    return session.scalar(select(func.coalesce(func.sum(CartItem.quantity), 0))
                          .join(Cart, Cart.id == CartItem.cart_id).where(Cart.session_id == session_id)) or 0


def get_cart(session: Session, session_id: str) -> Cart:
    """The session's cart; NotFound (404) when there is none or it is empty."""
    cart = find_cart(session, session_id)
    if cart is None or not cart.items:
        raise NotFound("Cart not found (it is empty).")
    return cart


def lock_cart(session: Session, session_id: str) -> Cart | None:
    """The session's cart for a change, row-locked until the transaction ends (PostgreSQL: FOR
    UPDATE; SQLite: the writing transaction already holds the database lock), so two requests
    of one shopper change it one after the other; None when the session has no cart.

    Its lines are read by a second statement, once the lock is held: a statement that waited for
    the lock sees the cart row as the request before it left it, but rows joined to it as they
    were when the statement began (PostgreSQL re-checks only the locked row), so a line that
    request added would be missing — counted short against maxCartItems, added twice."""
    cart = session.execute(_LOCKED_CART, {"session_id": session_id}).scalar_one_or_none()
    if cart is not None:
        set_committed_value(cart, "items", list(session.scalars(_CART_LINES, {"cart_id": cart.id})))
    return cart


def _cart_to_change(session: Session, session_id: str) -> tuple[Cart, bool]:
    """(the session's cart, locked; whether it was made now). A new cart is one INSERT … ON
    CONFLICT DO NOTHING and needs no reading back; when a concurrent first request of the same
    session made it first, theirs is locked and used."""
    cart = lock_cart(session, session_id)
    if cart is not None:
        return cart, False
    now = utcnow()
    values = {"id": new_uuid(), "session_id": session_id, "created_at": now, "updated_at": now}
    carts = Cart.__table__
    if session.execute(insert_or_skip(session.get_bind().dialect, carts, (carts.c.session_id,), carts.c.id),
                       values).scalar() is None:
        return lock_cart(session, session_id), False
    cart = loaded(Cart, values, items=[])
    persistent(session, cart)
    return cart, True


_LOCKED_CART = (select(Cart).where(Cart.session_id == bindparam("session_id")).options(noload(Cart.items))
                .with_for_update().execution_options(populate_existing=True))
_CART_LINES = (select(CartItem).where(CartItem.cart_id == bindparam("cart_id"))
               .options(joinedload(CartItem.product).lazyload(Product.categories))
               .order_by(CartItem.created_at, CartItem.id).execution_options(populate_existing=True))


def _active_product(session: Session, product_id: str) -> Product:
    product = session.scalar(select(Product).where(Product.id == str(product_id), Product.is_active.is_(True))
                             .options(lazyload(Product.categories)))
    if product is None:
        raise NotFound("Product not found or not active.")
    return product


def _check_available(product: Product, quantity: int) -> None:
    if not product.is_active:
        raise InsufficientStock(f"{product.name} is no longer available.", product_id=product.id)
    if product.stock < quantity:
        raise InsufficientStock(f"Only {product.stock} of {product.name} in stock; {quantity} requested.",
                                product_id=product.id, available=product.stock)


def _require_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise ValidationFailed.field("quantity", "Quantity must be a positive integer.")


def add_item(session: Session, tenant, session_id: str, product_id: str, quantity: int) -> Cart:
    """Add `quantity` of an active product (404 otherwise) to the session's cart, creating the
    cart if needed; the same product is merged into one line, priced at the product's current
    finalPrice. The resulting line must not exceed the stock (InsufficientStock, 409) and the
    cart's units must stay within maxCartItems (LimitExceeded, 403)."""
    _require_quantity(quantity)
    product = _active_product(session, product_id)
    cart, made_now = _cart_to_change(session, session_id)
    item = next((i for i in cart.items if i.product_id == product.id), None)
    current = item.quantity if item else 0
    _check_available(product, current + quantity)
    check_limit(tenant, Limit.MAX_CART_ITEMS, cart.item_count + quantity)
    if item is None:
        cart.items.append(CartItem(product=product, product_id=product.id, quantity=quantity,
                                   unit_price=to_money(product.final_price)))
    else:
        item.quantity = current + quantity
        item.unit_price = item.current_price
    if not made_now:
        cart.updated_at = utcnow()
    session.flush()
    return cart


def _locked_item(session: Session, session_id: str, item_id: str) -> tuple[Cart, CartItem]:
    cart = lock_cart(session, session_id)
    item = next((i for i in cart.items if i.id == str(item_id)), None) if cart else None
    if item is None:
        raise NotFound("Cart item not found.")
    return cart, item


def update_item(session: Session, tenant, session_id: str, item_id: str, quantity: int) -> Cart:
    """Set an item's quantity (> 0), at the product's current finalPrice as add_item prices a line
    (core.orders.pricing). The item must belong to this session's cart (404); the new quantity
    must be in stock (409) and keep the cart within maxCartItems (403)."""
    _require_quantity(quantity)
    cart, item = _locked_item(session, session_id, item_id)
    _check_available(item.product, quantity)
    check_limit(tenant, Limit.MAX_CART_ITEMS, cart.item_count - item.quantity + quantity)
    item.quantity = quantity
    item.unit_price = item.current_price
    cart.updated_at = utcnow()
    session.flush()
    return cart


def remove_item(session: Session, session_id: str, item_id: str) -> Cart:
    """Remove an item of this session's cart; NotFound (404) when the cart has no such item."""
    cart, item = _locked_item(session, session_id, item_id)
    cart.items.remove(item)
    cart.updated_at = utcnow()
    session.flush()
    return cart


def clear_cart(session: Session, session_id: str) -> None:
    """Remove every item of the session's cart; a missing or empty cart is left as it is."""
    cart = lock_cart(session, session_id)
    if cart is not None and cart.items:
        cart.items.clear()
        cart.updated_at = utcnow()
        session.flush()


def customer_cart_key(customer_id: str) -> str:
    """The key of a customer's own cart (kept where a guest cart keeps its session id): 'c' and
    the 32 hex digits of the customer's id. A guest's key is a UUID in its 36-character form
    (normalize_session_id), so no X-Session-Id ever names a customer's cart."""
    return "c" + uuid.UUID(customer_id).hex


def shopper_cart_key(open_writing: Callable[[], Session], tenant, principal: Principal | None,
                     session_id: str | uuid.UUID | None) -> str:
    """The key of the cart a call works on. A token of another store is refused (401), as
    everywhere. With a customer's token of this store, the customer's own cart, whatever the
    browser or client: a guest cart named by `session_id` is first merged into it (merge_carts,
    in a session of open_writing()). Anyone else works on the guest cart of `session_id`: a
    call naming no cart at all is 401 (a guest sends X-Session-Id, a customer its token), one
    whose X-Session-Id is not a UUID is 400."""
    if principal is not None:
        principal.authorize(tenant_slug=tenant.slug)
    if principal is None or not principal.customer_id:
        if session_id is None:
            raise Unauthorized("Name the cart: a guest sends its X-Session-Id, a customer its bearer token.")
        return normalize_session_id(session_id)
    key = customer_cart_key(principal.customer_id)
    if session_id is not None:
        merge_carts(open_writing(), tenant, normalize_session_id(session_id), key)
    return key


def merge_carts(session: Session, tenant, from_key: str, into_key: str) -> None:
    """Move every line of the cart `from_key` into the cart `into_key` and delete the first:
    a product in both gets the sum of the quantities; each line is added as add_item adds it,
    so stock (409) and the plan's maxCartItems (403) are checked again, and a product no longer
    sold is 404. When one line cannot be added the caller's transaction rolls back: nothing
    moved. Nothing happens when `from_key` has no cart."""
    guest = lock_cart(session, from_key)
    if guest is None:
        return
    for item in list(guest.items):
        add_item(session, tenant, into_key, item.product_id, item.quantity)
    session.delete(guest)
    session.flush()
