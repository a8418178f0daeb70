"""Reading orders: one by id or by its shopper session, and the store admin's listing."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from core.errors import NotFound, ValidationFailed
from core.orders.models import Order, OrderChannel, OrderStatus


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
