"""A signed-in store admin driving the store-admin portal through the Flask test client, and
direct helpers on its store's database (orders, customers) for setting up a scene.

The fixtures are imported by the test modules that use them (tests/admin/test_store_*.py)."""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from core.catalog.models import Product
from core.orders.models import Order
from tests.admin.conftest import STORE_ADMIN_PASSWORD
from tests.support.html import csrf_token

UUID_IN_PATH = re.compile(r"/admin/(?:products|orders)/([0-9a-f-]{36})")


class StoreAdmin:
    """A store admin signed in on its store's host."""

    def __init__(self, app, client, slug: str, host: str, email: str, tenant_db):
        self.app, self.client, self.slug, self.host, self.email = app, client, slug, host, email
        self.base = f"http://{host}"
        self._tenant_db = tenant_db
        self._token: str | None = None

    # --- HTTP ---------------------------------------------------------------------------------
    def get(self, path: str, **kwargs):
        return self.client.get(path, base_url=self.base, **kwargs)

    def htmx_get(self, path: str, **kwargs):
        return self.get(path, headers={"HX-Request": "true"}, **kwargs)

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = csrf_token(self.get("/admin/dashboard").get_data(as_text=True))
        return self._token

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, htmx: bool = False,
             headers: dict | None = None, **kwargs):
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf_token", self.token)
        headers = {**({"HX-Request": "true"} if htmx else {}), **(headers or {})}
        return self.client.post(path, base_url=self.base, data=body, headers=headers, **kwargs)

    # --- the store's database -----------------------------------------------------------------
    def db(self):
        return self._tenant_db(self.slug)

    def product(self, sku: str) -> Product:
        with self.db() as session:
            return session.scalar(select(Product).where(Product.sku == sku))

    def stock(self, sku: str) -> int:
        return self.product(sku).stock

    def order(self, order_id: str) -> Order:
        with self.db() as session:
            return session.get(Order, order_id)

    def place_order(self, *lines: tuple[str, int], channel: str = "storefront", email: str = "buyer@example.com",
                    placed_at: datetime | None = None) -> str:
        """A PENDING order of (sku, quantity) lines through core create_order (stock taken);
        `placed_at` back-dates it. Returns its id."""
        from core.orders.placement import OrderContact, OrderLine, create_order
        from core.tenancy.admin import get_tenant

        with self.db() as session:
            ids = dict(session.execute(select(Product.sku, Product.id)).all())
            with self.app.app_context():
                tenant = get_tenant(self.slug)
            order = create_order(session, tenant, [OrderLine(ids[sku], quantity) for sku, quantity in lines],
                                 channel=channel, contact=OrderContact(email=email, phone="+14155550100",
                                                                       shipping_address="1 Main St",
                                                                       payment_method="CreditCard"))
            if placed_at is not None:
                session.execute(update(Order).where(Order.id == order.id).values(created_at=placed_at))
            return order.id

    def cancel(self, order_id: str) -> None:
        from core.orders.lifecycle import cancel_order
        from core.orders.queries import get_order

        with self.db() as session:
            cancel_order(session, get_order(session, order_id))

    def add_customer(self, name: str = "Acme Corp", *, active: bool = True) -> str:
        from core.customers.services import CustomerData, create_customer
        from core.tenancy.admin import get_tenant

        with self.db() as session:
            with self.app.app_context():
                tenant = get_tenant(self.slug)
            customer = create_customer(session, tenant, CustomerData(
                name=name, contact_email=f"{uuid.uuid4().hex[:8]}@customer.example.com"))
            if not active:
                customer.status = "inactive"
            return customer.id


@pytest.fixture
def store_admin(app, client, sign_in, shop_with_admin, tenant_db) -> StoreAdmin:
    """A store (seeded with PROD001–PROD005) and its admin, signed in."""
    response = sign_in(shop_with_admin.host, shop_with_admin.admin_email, STORE_ADMIN_PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return StoreAdmin(app, client, shop_with_admin.slug, shop_with_admin.host, shop_with_admin.admin_email,
                      tenant_db)


@pytest.fixture
def other_store(app, create_tenant, tenant_db, store_host) -> SimpleNamespace:
    """A second store with a product, a pending order and an API client (none of the first's)."""
    from core.auth.services import create_api_client
    from core.extensions import db
    from core.tenancy.admin import get_tenant

    slug = create_tenant(name="Other Store")
    other = StoreAdmin(app, None, slug, store_host(slug), "", tenant_db)
    order_id = other.place_order(("PROD002", 1))
    with app.app_context():
        client, _ = create_api_client(get_tenant(slug), "Other partner", "partner")
        db.session.commit()
        client_pk = client.id
    return SimpleNamespace(slug=slug, admin=other, product_id=other.product("PROD002").id, order_id=order_id,
                           client_pk=client_pk)
