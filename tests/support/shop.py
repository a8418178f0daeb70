"""A store to shop in, for cart and checkout tests: its slug and database, request headers for a
shopper session, direct stock changes in its database, feature and limit overrides, tokens.

The fixtures are imported by the conftest.py of the test folders that use them (their names stay
clear of the root conftest's).
"""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.cart.models import Cart, CartItem
from core.catalog.models import Product
from core.extensions import db as control_db
from core.tenancy.admin import get_tenant
from core.tenancy.engines import engines_of
from core.unit_of_work import own_transaction

def place_order_body(key: str, **overrides) -> dict:
    """The seed's example PlaceOrderRequest (section 5.2) with `key` as idempotencyKey."""
    body = {"idempotencyKey": key, "email": "customer@example.com", "phone": "+1234567890",
            "shippingAddress": "123 Main St, City, State 12345, Country", "paymentMethod": "CreditCard"}
    body.update(overrides)
    return body


class Shop:
    """One Ready store, driven through a Flask test client (SQLite or PostgreSQL app)."""

    def __init__(self, app, client, slug: str, superadmin_headers: dict):
        self.app, self.client, self.slug = app, client, slug
        self._superadmin = superadmin_headers
        with app.app_context():
            self.db_url = get_tenant(slug).db_url
        with self.db() as session:
            self.products = dict(session.execute(select(Product.sku, Product.id)).all())

    # --- database ---------------------------------------------------------------------------
    @contextmanager
    def db(self) -> Iterator[Session]:
        """A session on the store's database, committed at the end: on a connection of the app's
        own engines, so a change is announced as the app's are (core.tenancy.changes)."""
        with engines_of(self.app).connect(self.db_url, write=True) as connection, \
                own_transaction(connection) as session:
            yield session

    def product_id(self, sku: str) -> str:
        return self.products[sku]

    def set_stock(self, sku: str, stock: int) -> None:
        with self.db() as session:
            session.execute(update(Product).where(Product.sku == sku).values(stock=stock))

    def stock(self, sku: str) -> int:
        with self.db() as session:
            return session.scalar(select(Product.stock).where(Product.sku == sku))

    def set_product(self, sku: str, **values) -> None:
        with self.db() as session:
            session.execute(update(Product).where(Product.sku == sku).values(**values))

    def count(self, model) -> int:
        with self.db() as session:
            return session.scalar(select(func.count()).select_from(model))

    def stocks(self) -> dict[str, int]:
        """Every product's stock by SKU."""
        with self.db() as session:
            return dict(session.execute(select(Product.sku, Product.stock)).all())

    def carts(self) -> dict[str, dict[str, int]]:
        """Every cart of the store as {session id: {sku: quantity}} (an empty cart is {})."""
        with self.db() as session:
            rows = session.execute(select(Cart.session_id, Product.sku, CartItem.quantity).select_from(Cart)
                                   .outerjoin(CartItem, CartItem.cart_id == Cart.id)
                                   .outerjoin(Product, Product.id == CartItem.product_id)).all()
        carts: dict[str, dict[str, int]] = {}
        for session_id, sku, quantity in rows:
            lines = carts.setdefault(session_id, {})
            if sku is not None:
                lines[sku] = quantity
        return carts

    # --- control database -------------------------------------------------------------------
    def set_tenant(self, **values) -> None:
        """Change the tenant row (tax_rate, flat_shipping, free_shipping_threshold, …)."""
        with self.app.app_context():
            tenant = get_tenant(self.slug)
            for name, value in values.items():
                setattr(tenant, name, value)
            control_db.session.commit()

    def configure(self, *, features: dict | None = None, limits: dict | None = None) -> None:
        """Override features or limits through the super-admin API."""
        body = {k: v for k, v in (("features", features), ("limits", limits)) if v is not None}
        response = self.client.patch(f"/superadmin/tenants/{self.slug}", headers=self._superadmin, json=body)
        assert response.status_code == 200, response.get_json()

    def token_headers(self, role: str = "partner", customer_id: str | None = None) -> dict:
        """Authorization headers of a new API client of this store."""
        body = {"name": f"{role} client", "role": role}
        if customer_id:
            body["customerId"] = customer_id
        created = self.client.post(f"/superadmin/tenants/{self.slug}/api-clients", headers=self._superadmin, json=body)
        assert created.status_code == 201, created.get_json()
        creds = created.get_json()
        token = self.client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                                      "client_secret": creds["clientSecret"]})
        assert token.status_code == 200, token.get_json()
        return {"Authorization": f"Bearer {token.get_json()['access_token']}"}

    # --- shopping ---------------------------------------------------------------------------
    def headers(self, session_id: str | None = None, **extra) -> dict:
        headers = {"X-Tenant-Slug": self.slug, "X-Session-Id": session_id or str(uuid.uuid4())}
        headers.update(extra)
        return headers

    def add(self, session_id: str, sku: str, quantity: int = 1) -> dict:
        response = self.client.post("/api/cart/items", headers=self.headers(session_id),
                                    json={"productId": self.product_id(sku), "quantity": quantity})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def cart_with(self, *lines: tuple[str, int]) -> str:
        """A new session whose cart holds `lines` of (sku, quantity); returns the session id."""
        session_id = str(uuid.uuid4())
        for sku, quantity in lines:
            self.add(session_id, sku, quantity)
        return session_id

    def place_order(self, session_id: str, key: str | None = None, headers: dict | None = None, **body):
        key = key or str(uuid.uuid4())
        return self.client.post("/api/checkout/place-order",
                                headers={**self.headers(session_id, **{"Idempotency-Key": key}), **(headers or {})},
                                json=place_order_body(key, **body))


@pytest.fixture
def shop(app, client, create_tenant, superadmin_headers):
    """Factory: a Ready SQLite store seeded with PROD001–PROD005, as a Shop."""

    def factory(plan_code: str = "PREMIUM") -> Shop:
        return Shop(app, client, create_tenant(plan_code=plan_code), superadmin_headers)

    return factory


@pytest.fixture
def pg_shop(pg_app, superadmin_headers_pg):
    """Factory: a Ready store on PostgreSQL, created with POST /superadmin/tenants, as a Shop."""

    def factory(plan_code: str = "PREMIUM") -> Shop:
        client = pg_app.test_client()
        slug = f"pg-shop-{uuid.uuid4().hex[:8]}"
        created = client.post("/superadmin/tenants", headers=superadmin_headers_pg,
                              json={"slug": slug, "name": "PG Shop", "planCode": plan_code})
        assert created.status_code == 201, created.get_json()
        return Shop(pg_app, client, slug, superadmin_headers_pg)

    return factory
