"""Catalog tables of a tenant database: products and categories."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, Column, ForeignKey, Index, Numeric, String, Table, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.columns import new_uuid, utcnow
from core.money import final_price
from core.tenancy.base import TenantBase

product_categories = Table(
    "product_categories",
    TenantBase.metadata,
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Category(TenantBase):
    __tablename__ = "categories"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Product(TenantBase):
    __tablename__ = "products"
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
    # price × (1 − discount), kept by the catalog service so price filters run in the index.
    final_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
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


@event.listens_for(Product, "before_insert")
@event.listens_for(Product, "before_update")
def _keep_final_price(_mapper, _connection, product: Product) -> None:
    """final_price is derived: every ORM write of a product recomputes it from price and discount
    (an unchanged value writes nothing). Bulk UPDATE statements must set it themselves."""
    if product.price is not None:
        discount = product.discount if product.discount is not None else Decimal("0")
        product.final_price = final_price(product.price, discount)
