"""Tenant migration 0005 makes products.final_price a generated column on a store that already
has products (SQLite and PostgreSQL): every row gets core.money.final_price of its price and
discount, every other value, key, constraint, index and referencing row is kept, and the
downgrade gives back a plain column holding the same values."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import MetaData, create_engine, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from core.money import final_price
from core.tenancy.migrations import downgrade_to, upgrade_to, upgrade_to_head
from tests.support.backends import scratch_database

D = Decimal
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
# sku: (price, discount, final_price as 0004 stored it)
PRODUCTS = {
    "HALF": ("10.05", "0.5", "5.03"),
    "FLOAT": ("39342.50", "0.9140", "3383.46"),  # 3383.455, which binary floats make 3383.4549…
    "EIGHTH": ("80.00", "0.1250", "70.00"),
    "FREE": ("19.99", "1", "0.00"),
    "FULL": ("49.99", "0", "49.99"),
    "MAX": ("9999999999.99", "0.5", "5000000000.00"),  # 4999999999.995 → …5000000000.00
    # Its discount changed by a bulk UPDATE, which the 0004 mapper hook never saw.
    "STALE": ("30.00", "0.2000", "30.00"),
}
REFERENCING = ("product_categories", "cart_items", "order_items", "provisioned_products")


def _id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _fill(conn) -> None:
    """A store at 0004: products, their categories, a cart, an order and a provisioned product."""
    tables = MetaData()
    tables.reflect(conn)
    t = tables.tables
    conn.execute(t["categories"].insert(), [
        {"id": _id(name), "name": name, "description": "", "is_active": True, "created_at": NOW}
        for name in ("Audio", "Video")])
    conn.execute(t["products"].insert(), [
        {"id": _id(sku), "sku": sku, "name": sku.title(), "description": f"The {sku}", "price": D(price),
         "discount": D(discount), "final_price": D(stored), "stock": 5, "low_stock_threshold": 10,
         "is_active": sku != "FREE", "images": [f"/static/{sku}.svg"], "dynamic_attributes": {"sku": sku},
         "customization_options": {}, "created_at": NOW, "updated_at": NOW}
        for sku, (price, discount, stored) in PRODUCTS.items()])
    conn.execute(t["product_categories"].insert(), [
        {"product_id": _id(sku), "category_id": _id(category)}
        for sku, category in (("HALF", "Audio"), ("FLOAT", "Audio"), ("FLOAT", "Video"), ("MAX", "Video"))])
    conn.execute(t["carts"].insert(), [{"id": _id("cart"), "session_id": _id("session"), "created_at": NOW,
                                        "updated_at": NOW}])
    conn.execute(t["cart_items"].insert(), [
        {"id": _id("cart item"), "cart_id": _id("cart"), "product_id": _id("HALF"), "quantity": 2,
         "unit_price": D("5.03"), "created_at": NOW, "updated_at": NOW}])
    conn.execute(t["orders"].insert(), [
        {"id": _id("order"), "number": "ORD-20261201-AAAAAA", "channel": "storefront", "status": "PENDING",
         "email": "a@example.com", "subtotal": D("49.99"), "tax": D("7.50"), "shipping": D("10.00"),
         "total": D("67.49"), "created_at": NOW, "updated_at": NOW}])
    conn.execute(t["order_items"].insert(), [
        {"id": _id("order item"), "order_id": _id("order"), "position": 0, "product_id": _id("FULL"), "sku": "FULL",
         "name": "Full", "unit_price": D("49.99"), "quantity": 1, "line_total": D("49.99")}])
    conn.execute(t["customers"].insert(), [
        {"id": _id("customer"), "name": "Acme", "contact_email": "b@example.com", "status": "ACTIVE",
         "created_at": NOW, "updated_at": NOW}])
    conn.execute(t["provisioned_products"].insert(), [
        {"id": _id("provisioned"), "customer_id": _id("customer"), "product_id": _id("EIGHTH"), "quantity": 1,
         "customization": {}, "created_at": NOW}])


def _rows(conn, table: str) -> list[dict]:
    tables = MetaData()
    tables.reflect(conn, only=[table])
    found = tables.tables[table]
    return [dict(row._mapping) for row in conn.execute(select(found).order_by(*found.primary_key.columns))]


def _schema(conn) -> dict:
    """What 0005 must keep of products: columns (name → type, nullability), keys, CHECK
    constraints, indexes, and the foreign keys of the tables that reference it."""
    inspector = inspect(conn)
    return {
        "columns": {c["name"]: (str(c["type"]), c["nullable"]) for c in inspector.get_columns("products")},
        "primary key": inspector.get_pk_constraint("products")["constrained_columns"],
        "unique": sorted((u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints("products")),
        "checks": sorted((c["name"], c["sqltext"]) for c in inspector.get_check_constraints("products")),
        "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                          for i in inspector.get_indexes("products")),
        "references": {table: sorted((tuple(fk["constrained_columns"]), fk["referred_table"],
                                      tuple(fk["referred_columns"]), fk["options"].get("ondelete"))
                                     for fk in inspector.get_foreign_keys(table))
                       for table in REFERENCING},
    }


def _generated(conn) -> list[str]:
    return [c["name"] for c in inspect(conn).get_columns("products") if "computed" in c]


def _final_prices(conn) -> dict[str, Decimal]:
    """sku → final_price, read through the reflected NUMERIC(12, 2) type (a Decimal of cents)."""
    return {row["sku"]: row["final_price"] for row in _rows(conn, "products")}


def _migrate_a_store_with_products(db_url: str) -> None:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        upgrade_to(engine, "0004")
        with engine.begin() as conn:
            _fill(conn)
        with engine.connect() as conn:
            schema_at_0004 = _schema(conn)
            products_at_0004 = _rows(conn, "products")
            referencing = {table: _rows(conn, table) for table in REFERENCING}

        upgrade_to_head(engine)
        with engine.connect() as conn:
            computed = _final_prices(conn)
            assert computed == {sku: final_price(D(price), D(discount))
                                for sku, (price, discount, _stored) in PRODUCTS.items()}
            assert computed["STALE"] == D("24.00") and computed["MAX"] == D("5000000000.00")
            assert all(value.as_tuple().exponent == -2 for value in computed.values())
            assert [{k: v for k, v in row.items() if k != "final_price"} for row in _rows(conn, "products")] == [
                {k: v for k, v in row.items() if k != "final_price"} for row in products_at_0004]
            assert {table: _rows(conn, table) for table in REFERENCING} == referencing
            assert _schema(conn) == schema_at_0004
            assert _generated(conn) == ["final_price"]
        with pytest.raises(IntegrityError):  # the CHECK constraints still hold
            with engine.begin() as conn:
                conn.execute(text("UPDATE products SET stock = -1 WHERE sku = 'HALF'"))

        downgrade_to(engine, "0004")
        with engine.connect() as conn:
            assert _final_prices(conn) == computed
            assert _generated(conn) == []
            assert _schema(conn) == schema_at_0004
            assert {table: _rows(conn, table) for table in REFERENCING} == referencing
        with engine.begin() as conn:  # a plain column again, as 0004's code writes it
            conn.execute(text("UPDATE products SET final_price = 1.00 WHERE sku = 'STALE'"))

        upgrade_to_head(engine)
        with engine.connect() as conn:
            assert _final_prices(conn) == computed
    finally:
        engine.dispose()


def test_upgrade_and_downgrade_of_a_store_with_products_on_sqlite(tmp_path):
    _migrate_a_store_with_products(f"sqlite:///{tmp_path / 'tenant.db'}")


@pytest.mark.postgres
def test_upgrade_and_downgrade_of_a_store_with_products_on_postgresql(postgres_url):
    with scratch_database(postgres_url, "sf_test_m0005") as url:
        _migrate_a_store_with_products(url)
