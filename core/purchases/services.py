"""The purchase gateway and its orchestrator.

Initiation records the purchase PENDING and enqueues the orchestrator job as one step: when
Redis refuses the job, the purchase is removed again and the caller gets 503, so nothing stays
recorded. The orchestrator reserves every item and sets the outcome in ONE transaction: a
worker that dies half-way reserves nothing, and a job run again for a purchase that is no
longer PENDING does nothing — no unit is ever reserved twice.
"""
from __future__ import annotations

import hashlib
import json
from collections import namedtuple

from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.catalog.models import Product
from core.columns import utcnow
from core.customers.models import Customer
from core.customers.services import require_customer_may_buy
from core.errors import IdempotencyConflict, NotFound, ServiceUnavailable, ValidationFailed
from core.inventory.services import release_stock, try_take_stock
from core.orders.lifecycle import cancel_order
from core.orders.models import OrderChannel
from core.orders.placement import PRODUCT_COLUMNS_TO_ORDER, OrderContact, OrderLine, create_order
from core.orders.pricing import fits_an_order, line_total
from core.orders.queries import get_order
from core.purchases.models import ItemStatus, Purchase, PurchaseItem, PurchaseStatus
from core.queues import PROCESS_PURCHASE_JOB, PURCHASES, queue
from core.tenancy.features import Limit, check_limit
from core.tenancy.models import Tenant
from core.unit_of_work import commits

OUTCOME_MESSAGES = {
    PurchaseStatus.PENDING: "Purchase accepted and queued for processing",
    PurchaseStatus.COMPLETED: "All products were reserved",
    PurchaseStatus.PARTIALLY_COMPLETED: "Some products were reserved; see each product's status",
    PurchaseStatus.FAILED: "No product could be reserved",
    PurchaseStatus.CANCELLED: "Purchase cancelled; reserved stock was released",
}


def fingerprint(lines: list[tuple[str, int]]) -> str:
    return hashlib.sha256(json.dumps(lines, separators=(",", ":")).encode()).hexdigest()


def get_purchase(session: Session, customer_id: str | None, purchase_id: str, *, lock: bool = False) -> Purchase:
    """The purchase, if it belongs to `customer_id` (None: any customer of the store); a purchase
    of another customer is 'not found', never shown."""
    query = select(Purchase).where(Purchase.id == purchase_id)
    if customer_id is not None:
        query = query.where(Purchase.customer_id == customer_id)
    if lock:
        query = query.with_for_update()
    purchase = session.scalar(query)
    if purchase is None:
        raise NotFound("Purchase not found.")
    return purchase


@commits("the orchestrator job must find the PENDING purchase it is queued for")
def initiate_purchase(session: Session, tenant: Tenant, customer_id: str, lines: list[tuple[str, int]],
                      idempotency_key: str | None, enqueue) -> tuple[Purchase, bool]:
    """Record a PENDING purchase and enqueue `enqueue(purchase_id)`. Returns (purchase, replayed):
    with an Idempotency-Key already used by this customer for the same products, the first
    purchase is returned; for different products, 409. Commits, because the job reads it."""
    if not lines:
        raise ValidationFailed.field("products", "At least one product is required.")
    check_limit(tenant, Limit.MAX_PRODUCTS_PER_ORDER, len(lines), error=ValidationFailed)
    require_customer_may_buy(session, customer_id)
    print_ = fingerprint(lines)
    if idempotency_key:
        existing = session.scalar(select(Purchase).where(Purchase.customer_id == customer_id,
                                                         Purchase.idempotency_key == idempotency_key))
        if existing is not None:
            if existing.fingerprint != print_:
                raise IdempotencyConflict("This Idempotency-Key was used for a different purchase.")
            return existing, True
    purchase = Purchase(customer_id=customer_id, status=PurchaseStatus.PENDING, idempotency_key=idempotency_key,
                        fingerprint=print_, message=OUTCOME_MESSAGES[PurchaseStatus.PENDING],
                        items=[PurchaseItem(position=i, product_key=key, quantity=quantity)
                               for i, (key, quantity) in enumerate(lines)])
    session.add(purchase)
    try:
        session.commit()
    except IntegrityError:
        # A concurrent request with the same key won the insert: answer with its purchase.
        session.rollback()
        return initiate_purchase(session, tenant, customer_id, lines, idempotency_key, enqueue)
    try:
        enqueue(purchase.id)
    except RedisError as exc:
        session.delete(purchase)
        session.commit()
        raise ServiceUnavailable("The purchase orchestrator is unavailable; nothing was recorded. "
                                 "Try again shortly.") from exc
    return purchase, False


def process_purchase(session: Session, tenant: Tenant, purchase_id: str) -> str:
    """The orchestrator: reserve each item atomically (RESERVED / OUT_OF_STOCK / NOT_FOUND), then
    COMPLETED, PARTIALLY_COMPLETED or FAILED, and an order (channel api) of what was reserved,
    all in the caller's single transaction. A purchase
    that is no longer PENDING (done, cancelled) is left alone. Returns the purchase's status.

    It runs once per purchase on the workers' hot path, so it reads the purchase, its customer,
    its items and their active products in one locking SELECT and writes with Core statements
    (the items' statuses in one executemany): a handful of statements, and the stock rows stay
    locked only briefly."""
    rows = session.execute(_PURCHASE_FOR_PROCESSING, {"purchase_id": purchase_id}).all()
    if not rows:
        return session.scalar(select(Purchase.status).where(Purchase.id == purchase_id)) or "missing"
    head = rows[0]
    if head.status != PurchaseStatus.PENDING:
        return head.status
    items, products = {}, {}
    for row in rows:
        # A key matches a product by id or by SKU; should it match one product's id and another's
        # SKU, the id wins.
        item = items.setdefault(row.id, _Item(row.id, None, row.quantity))
        if row.product_id is not None and (item.product_id is None or row.product_id == row.product_key):
            item.product_id = row.product_id
            products[row.product_id] = _ProductToOrder(*(row._mapping[name] for name in _PRODUCT_LABELS))
    items = list(items.values())
    for item in items:
        if item.product_id is None:
            item.status = ItemStatus.NOT_FOUND
        elif not fits_an_order(line_total(products[item.product_id].final_price, item.quantity)):
            item.status = ItemStatus.REJECTED  # more than an order's line can hold: never reserved
    # Rows are locked in product-id order, so two purchases never wait on each other in a cycle.
    for item in sorted((i for i in items if i.status == ItemStatus.PENDING), key=lambda i: i.product_id):
        reserved = try_take_stock(session, item.product_id, item.quantity) is not None
        item.status = ItemStatus.RESERVED if reserved else ItemStatus.OUT_OF_STOCK
    reserved = [item for item in items if item.status == ItemStatus.RESERVED]
    if len(reserved) == len(items):
        status = PurchaseStatus.COMPLETED
    elif reserved:
        status = PurchaseStatus.PARTIALLY_COMPLETED
    else:
        status = PurchaseStatus.FAILED
    order_id = None
    if reserved:
        # The stock is already taken above, in this same transaction: the order only records it.
        order_id = create_order(session, tenant, [OrderLine(item.product_id, item.quantity) for item in reserved],
                                channel=OrderChannel.API,
                                contact=OrderContact(email=head.contact_email, phone=head.phone,
                                                     shipping_address=head.address),
                                customer_id=head.customer_id, take_stock=False, products=products).id
    session.execute(_SET_ITEM_OUTCOME, [{"item_id": item.id, "outcome_product_id": item.product_id,
                                         "outcome_status": str(item.status)} for item in items])
    session.execute(_SET_PURCHASE_OUTCOME, {"purchase_id": purchase_id, "outcome_status": str(status),
                                            "outcome_message": OUTCOME_MESSAGES[status],
                                            "outcome_order_id": order_id, "now": utcnow()})
    return str(status)


def reject_purchase(session: Session, purchase_id: str, reason: str) -> str | None:
    """End a PENDING purchase that its orchestrator cannot process whatever the retry (`reason`
    says why: an error that would be raised again): FAILED, every product REJECTED, nothing
    reserved. A purchase no longer PENDING is left alone. Returns the purchase's status, None
    when there is no such purchase."""
    purchase = session.scalar(select(Purchase).where(Purchase.id == purchase_id).with_for_update())
    if purchase is None or purchase.status != PurchaseStatus.PENDING:
        return purchase.status if purchase else None
    for item in purchase.items:
        item.status = ItemStatus.REJECTED
    purchase.status = PurchaseStatus.FAILED
    purchase.message = f"The purchase could not be processed: {reason}"
    session.flush()
    return purchase.status


class _Item:
    """One purchase item while the orchestrator decides its outcome."""

    __slots__ = ("id", "product_id", "quantity", "status")

    def __init__(self, item_id: str, product_id: str | None, quantity: int) -> None:
        self.id, self.product_id, self.quantity, self.status = item_id, product_id, quantity, ItemStatus.PENDING


# The orchestrator's statements, built once (Core, on the tables): see process_purchase.
_purchases, _items, _customers, _products = (Purchase.__table__, PurchaseItem.__table__, Customer.__table__,
                                             Product.__table__)
_PURCHASE_FOR_PROCESSING = (
    select(_purchases.c.status, _purchases.c.customer_id, _customers.c.contact_email, _customers.c.phone,
           _customers.c.address, _items.c.id, _items.c.product_key, _items.c.quantity,
           *(column.label(f"product_{column.name}") for column in PRODUCT_COLUMNS_TO_ORDER))
    .join(_customers, _customers.c.id == _purchases.c.customer_id)
    .join(_items, _items.c.purchase_id == _purchases.c.id)
    .outerjoin(_products, and_(or_(_products.c.id == _items.c.product_key, _products.c.sku == _items.c.product_key),
                               _products.c.is_active.is_(True)))
    .where(_purchases.c.id == bindparam("purchase_id"))
    .order_by(_items.c.position)
    .with_for_update(of=_purchases))
# create_order's view of a product (PRODUCT_COLUMNS_TO_ORDER), as read by the SELECT above.
_ProductToOrder = namedtuple("_ProductToOrder", [column.name for column in PRODUCT_COLUMNS_TO_ORDER])
_PRODUCT_LABELS = [f"product_{column.name}" for column in PRODUCT_COLUMNS_TO_ORDER]
_SET_ITEM_OUTCOME = (update(_items).where(_items.c.id == bindparam("item_id"))
                     .values(product_id=bindparam("outcome_product_id"), status=bindparam("outcome_status")))
_SET_PURCHASE_OUTCOME = (update(_purchases).where(_purchases.c.id == bindparam("purchase_id"))
                         .values(status=bindparam("outcome_status"), message=bindparam("outcome_message"),
                                 order_id=bindparam("outcome_order_id"), updated_at=bindparam("now")))


def cancel_purchase(session: Session, customer_id: str | None, purchase_id: str) -> Purchase:
    """Release every reserved unit and mark the purchase CANCELLED. Cancelling a cancelled
    purchase changes nothing; a PENDING one is cancelled before the orchestrator reserves."""
    purchase = get_purchase(session, customer_id, purchase_id, lock=True)
    if purchase.status == PurchaseStatus.CANCELLED:
        return purchase
    if purchase.order_id:
        # The order holds exactly the reserved units: cancelling it releases them, once.
        cancel_order(session, get_order(session, purchase.order_id))
    else:
        for item in purchase.items:
            if item.status == ItemStatus.RESERVED:
                release_stock(session, item.product_id, item.quantity)
    for item in purchase.items:
        if item.status == ItemStatus.RESERVED:
            item.status = ItemStatus.RELEASED
    purchase.status = PurchaseStatus.CANCELLED
    purchase.message = OUTCOME_MESSAGES[PurchaseStatus.CANCELLED]
    session.flush()
    return purchase


# Seconds RQ keeps a finished orchestrator job (and its small result) before Redis expires it.
PURCHASE_JOB_RESULT_TTL = 60


def purchase_job_id(tenant_slug: str, purchase_id: str) -> str:
    """The RQ job id of a purchase's orchestrator job: known from the purchase alone, so the
    recovery sweep (core.recovery) can tell whether Redis still holds it."""
    return f"purchase_{tenant_slug}_{purchase_id}"


# A failed orchestrator run is retried after 10 s, 30 s, 90 s and 4 min: long enough to ride out a
# database or worker restart (the workers' scheduler queues a retry when it is due). After that
# the recovery sweep takes over (core.recovery).
PURCHASE_RETRY = Retry(max=4, interval=[10, 30, 90, 240])


def enqueue_processing(tenant_slug: str):
    """The enqueue function for initiate_purchase: the orchestrator job on the `purchases` queue,
    retried with back-off if it fails (PURCHASE_RETRY)."""

    def enqueue(purchase_id: str):
        # The outcome lives in the purchase row; RQ keeps a finished job only briefly. Not 0: with
        # result_ttl=0 RQ deletes the job at once, which reads its executions back first (seven
        # more Redis round trips per job than letting the hash expire).
        return queue(PURCHASES).enqueue(PROCESS_PURCHASE_JOB, tenant_slug, purchase_id, retry=PURCHASE_RETRY,
                                        job_id=purchase_job_id(tenant_slug, purchase_id),
                                        job_timeout=120, result_ttl=PURCHASE_JOB_RESULT_TTL,
                                        description=f"purchase {purchase_id} of {tenant_slug}")

    return enqueue


def pending_purchase_ids(session: Session, created_before, limit: int) -> list[str]:
    """PENDING purchases recorded before `created_before`, oldest first: the ones whose
    orchestrator job should have run by now."""
    return list(session.scalars(select(Purchase.id)
                                .where(Purchase.status == PurchaseStatus.PENDING, Purchase.created_at < created_before)
                                .order_by(Purchase.created_at).limit(limit)))
