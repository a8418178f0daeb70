"""Customers of a store (B2B companies provisioned by partners), in the tenant database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.columns import new_uuid, utcnow
from core.tenancy.base import TenantBase


class CustomerStatus:
    ACTIVE = "active"
    INACTIVE = "inactive"
    # Deleted (services.delete_customer): a row without personal data, kept so that the orders,
    # purchases and provisioned products that name it still do; to the API it no longer exists.
    DELETED = "deleted"


class Customer(TenantBase):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(200))  # the company name
    address: Mapped[str | None] = mapped_column(Text)
    # Stored lower-cased; unique among the store's customers.
    contact_email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    external_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(16), default=CustomerStatus.ACTIVE, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
