"""Purchases through the purchase gateway, processed by the orchestrator job (tenant database)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.columns import new_uuid, utcnow
from core.tenancy.base import TenantBase


class PurchaseStatus(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    PARTIALLY_COMPLETED = "PARTIALLY_COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class ItemStatus(StrEnum):
    PENDING = "PENDING"
    RESERVED = "RESERVED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    NOT_FOUND = "NOT_FOUND"
    # The store cannot take the line: its total is more than an order can hold, or the purchase
    # could not be processed at all (the purchase's message says why).
    REJECTED = "REJECTED"
    RELEASED = "RELEASED"


class Purchase(TenantBase):
    __tablename__ = "purchases"
    __table_args__ = (UniqueConstraint("customer_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default=PurchaseStatus.PENDING, index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list["PurchaseItem"]] = relationship(back_populates="purchase", order_by="PurchaseItem.position",
                                                       cascade="all, delete-orphan", lazy="selectin")


class PurchaseItem(TenantBase):
    __tablename__ = "purchase_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    purchase_id: Mapped[str] = mapped_column(ForeignKey("purchases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    product_key: Mapped[str] = mapped_column(String(64))  # as the customer sent it: UUID or SKU
    product_id: Mapped[str | None] = mapped_column(String(36))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.PENDING)

    purchase: Mapped[Purchase] = relationship(back_populates="items")
