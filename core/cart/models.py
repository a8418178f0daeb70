"""Shopping carts of a tenant database: one cart per shopper session, one line per product."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.catalog.models import Product
from core.columns import new_uuid, utcnow
from core.money import to_money
from core.tenancy.base import TenantBase


class Cart(TenantBase):
    __tablename__ = "carts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    # The shopper's X-Session-Id (a UUID, stored in its canonical lower-case form).
    session_id: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list["CartItem"]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", lazy="selectin",
        order_by="(CartItem.created_at, CartItem.id)")

    @property
    def item_count(self) -> int:
        """The sum of all quantities (CartDto.itemCount; the plan's maxCartItems counts this)."""
        return sum(item.quantity for item in self.items)


class CartItem(TenantBase):
    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("cart_id", "product_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int]
    # The product's finalPrice when the shopper was last shown the line (added or changed it, took
    # a quote, or confirmed a checkout page): an order is placed only when it is still the
    # product's price (core.orders.pricing).
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    cart: Mapped[Cart] = relationship(back_populates="items")
    product: Mapped[Product] = relationship(lazy="joined", innerjoin=True)

    @property
    def current_price(self) -> Decimal:
        """What one unit of the line costs now: its product's finalPrice."""
        return to_money(self.product.final_price)

    @property
    def previous_price(self) -> Decimal | None:
        """The price the shopper was last shown, when the product's price has changed since."""
        return None if self.unit_price == self.current_price else self.unit_price
