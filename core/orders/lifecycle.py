"""An order's life after it is placed: cancellation, which gives back exactly the stock it took."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.columns import utcnow
from core.errors import Conflict
from core.inventory.services import release_stock
from core.orders.models import Order, OrderStatus
from core.orders.queries import get_order


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
