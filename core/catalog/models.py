"""Catalog tables of a tenant database: products and categories."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Column, Computed, ForeignKey, Index, Integer, Numeric,
                        String, Table, Text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.columns import new_uuid, utcnow
from core.tenancy.base import TenantBase

# final_price = price × (1 − discount) rounded half-up to cents (core.money.final_price), computed
# by the database in integers. SQLite keeps NUMERIC values as binary floats, where 39342.50 ×
# (1 − 0.9140) is 3383.45499…, so round(…, 2) gives 3383.45 where the exact 3383.455 makes
# 3383.46. Here price (two places) becomes whole cents and discount (four places) whole basis
# points, each rounded to the integer it stands for (exact in PostgreSQL's numeric; a SQLite float
# is within far less than half a unit of it); cents × (10000 − bp) is then an exact integer, and
# adding half the divisor before the integer division by 10000 rounds half-up, as neither factor
# is ever negative (the CHECK constraints). At most 999999999999 × 10000 + 5000 < 2^63: no
# overflow. Dividing those cents by 100.0 gives PostgreSQL an exact numeric (stored as
# numeric(12, 2)) and SQLite the float nearest to it, which SQLAlchemy's Numeric(12, 2) reads
# back as the Decimal of those cents. One text for both dialects; migration 0005 holds a copy.
FINAL_PRICE_SQL = ("(CAST(round(price * 100) AS BIGINT) * (10000 - CAST(round(discount * 10000) AS BIGINT)) + 5000)"
                   " / 10000 / 100.0")

product_categories = Table(
    "product_categories",
    TenantBase.metadata,
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True),
)


# One row, (1, epoch, revision): the database raises `revision` (triggers of tenant migration 0006)
# in every transaction that may change which products a catalog listing counts: products added,
# removed, (de)activated, renamed or repriced, links to categories made or removed. A change of
# stock alone does not raise it. `epoch` is drawn at random when the table is made, so a database
# dropped and made again under the same name never repeats an (epoch, revision) pair.
# core.catalog.listing keeps its counts by it.
catalog_revision = Table(
    "catalog_revision",
    TenantBase.metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("epoch", String(32), nullable=False),
    Column("revision", BigInteger, nullable=False),
)


class Category(TenantBase):
    __tablename__ = "categories"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Product(TenantBase):
    """A product of the catalog. Invariants kept by the database: stock ≥ 0, price ≥ 0,
    0 ≤ discount ≤ 1, a unique SKU, and final_price = price × (1 − discount) in cents, half-up,
    on every write of price or discount, through the ORM or not."""

    __tablename__ = "products"
    # The ORM reads the generated final_price back in the INSERT or UPDATE itself (RETURNING),
    # so it is never stale after a flush and never costs a SELECT.
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("discount >= 0 AND discount <= 1", name="discount_range"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        Index("ix_products_active_final_price", "is_active", "final_price"),
        Index("ix_products_active_name", "is_active", "name"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    discount: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0"))
    # price × (1 − discount), generated and stored by the database (FINAL_PRICE_SQL), so price
    # filters run in the index and no writer can store another value.
    final_price: Mapped[Decimal] = mapped_column(Numeric(12, 2), Computed(FINAL_PRICE_SQL, persisted=True))
    stock: Mapped[int] = mapped_column(default=0)
    low_stock_threshold: Mapped[int] = mapped_column(default=10)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    images: Mapped[list] = mapped_column(JSON, default=list)
    dynamic_attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    # {"color": {"required": true, "values": ["red", "blue"]}, "engraving": {"required": false}}
    customization_options: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    categories: Mapped[list[Category]] = relationship(secondary=product_categories, lazy="selectin",
                                                      order_by=Category.name)

