"""Orders of a tenant database. An order keeps a snapshot of what was bought (SKU, name, unit
price), so it reads the same after the catalog changes."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.columns import new_uuid, utcnow
from core.tenancy.base import TenantBase


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CANCELLED = "CANCELLED"


class OrderChannel(StrEnum):
    STOREFRONT = "storefront"  # the shopper's cart: storefront pages and /api/checkout
    API = "api"  # B2B purchases through the purchase gateway


class PaymentMethod(StrEnum):
    CREDIT_CARD = "CreditCard"
    PAYPAL = "PayPal"
    CASH_ON_DELIVERY = "CashOnDelivery"


class Order(TenantBase):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("subtotal >= 0 AND tax >= 0 AND shipping >= 0 AND total >= 0", name="amounts_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    # ORD-YYYYMMDD-XXXXXX, unique within the tenant (its database).
    number: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.PENDING, index=True)
    email: Mapped[str] = mapped_column(String(254))
    # Required on the storefront; an API order carries what the customer record has.
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    shipping_address: Mapped[str | None] = mapped_column(Text)
    payment_method: Mapped[str | None] = mapped_column(String(32))
    subtotal: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    tax: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    shipping: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    customer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # The shopper session (cart) a checkout order came from: only it may see the confirmation.
    session_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", lazy="selectin", order_by="OrderItem.position")


class OrderItem(TenantBase):
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    quantity: Mapped[int]
    line_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    order: Mapped[Order] = relationship(back_populates="items")
