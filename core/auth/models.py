"""Control-database models of who may act: users (super admins, store admins) and API clients."""
from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.columns import new_uuid, utcnow
from core.extensions import db
from core.tenancy.models import Tenant


class Role(StrEnum):
    SUPERADMIN = "superadmin"
    STORE_ADMIN = "store_admin"
    PARTNER = "partner"
    CUSTOMER = "customer"
    SERVICE = "service"


USER_ROLES = (Role.SUPERADMIN, Role.STORE_ADMIN)
CLIENT_ROLES = (Role.PARTNER, Role.CUSTOMER, Role.STORE_ADMIN, Role.SERVICE)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    is_active_user: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised at sign-out: the login id carries it, so every copy of the session ends (get_id).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tenant: Mapped[Tenant | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.is_active_user

    def get_id(self) -> str:
        # The login id carries a digest of the password hash and the session version, so a
        # password change or a sign-out ends every session signed in before it.
        digest = hashlib.sha256(f"{self.session_version}:{self.password_hash}".encode()).hexdigest()[:16]
        return f"{self.id}:{digest}"


class ApiClient(db.Model):
    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    client_id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tenant: Mapped[Tenant] = relationship()
