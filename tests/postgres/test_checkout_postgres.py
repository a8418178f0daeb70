"""Cart and order details that only PostgreSQL can show: row locks and unique indexes settling
concurrent inserts. (The schema check and the takeover of a stale idempotency claim run on both
backends in tests/core.)"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from core.cart.models import Cart
from core.cart.services import add_item
from core.columns import utcnow
from core.orders import placement
from core.orders.models import Order, OrderChannel

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(pg_shop):
    return pg_shop()


@pytest.fixture
def racing_session(store):
    """Factory: a session whose first statement starting with `prefix` is preceded by `first()`,
    committed on another connection — as if a concurrent request had got there just before."""
    engines = []

    def factory(prefix: str, first) -> Session:
        engine = create_engine(store.db_url, poolclass=NullPool)
        engines.append(engine)
        fired = []

        @event.listens_for(engine, "before_cursor_execute")
        def _race(_conn, _cursor, statement, *_args):
            if statement.startswith(prefix) and not fired:
                fired.append(statement)
                first()

        return Session(engine, expire_on_commit=False)

    yield factory
    for engine in engines:
        engine.dispose()


def test_a_first_add_uses_the_cart_a_concurrent_first_add_created(pg_app, store, racing_session):
    """Both found no cart; the other made it just before this one's INSERT … ON CONFLICT DO
    NOTHING, which then inserts nothing: the other's cart is locked and the line added to it."""
    with pg_app.app_context():
        from core.tenancy.directory import get_store

        tenant = get_store(store.slug)   # a frozen snapshot, usable outside the app context
    session_id = str(uuid.uuid4())
    theirs = str(uuid.uuid4())

    def create_theirs():
        with store.db() as other:
            other.add(Cart(id=theirs, session_id=session_id))

    with racing_session("INSERT INTO carts", create_theirs) as session, session.begin():
        cart = add_item(session, tenant, session_id, store.product_id("PROD001"), 2)
        assert cart.id == theirs
    assert store.count(Cart) == 1
    assert store.carts() == {session_id: {"PROD001": 2}}


def test_create_order_draws_again_when_a_concurrent_order_took_the_number(pg_app, store, racing_session, monkeypatch):
    with pg_app.app_context():
        from core.tenancy.directory import get_store

        tenant = get_store(store.slug)   # a frozen snapshot, usable outside the app context
    drawn = iter([42, 43])
    monkeypatch.setattr(placement.secrets, "randbelow", lambda _n: next(drawn))
    taken = f"ORD-{utcnow():%Y%m%d}-000042"

    def take_the_number():
        with store.db() as other:
            other.add(Order(number=taken, channel="api", email="x@example.com", subtotal=0, tax=0, shipping=0, total=0))

    with racing_session("INSERT INTO orders", take_the_number) as session, session.begin():
        order = placement.create_order(session, tenant, [placement.OrderLine(store.product_id("PROD002"), 1)],
                                    channel=OrderChannel.API, contact=placement.OrderContact(email="b@example.com"))
    assert order.number.endswith("-000043")
    assert store.count(Order) == 2 and store.stock("PROD002") == 99
