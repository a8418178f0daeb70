"""Control-database models of tenancy: plans, tenants and their provisioning steps."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.columns import new_uuid, utcnow
from core.extensions import db


class TenantStatus(StrEnum):
    PENDING = "Pending"
    QUEUED = "Queued"
    PROVISIONING = "Provisioning"
    SEEDING = "Seeding"
    READY = "Ready"
    FAILED = "Failed"
    SUSPENDED = "Suspended"


# A provisioning job still has work to do for a tenant in these (a retried job resumes from them;
# the portal's progress fragment polls while a tenant is in one). Every other status is settled.
PROVISIONING_STATUSES = frozenset({TenantStatus.QUEUED, TenantStatus.PROVISIONING, TenantStatus.SEEDING})
# Tenants that have a database: provisioned, whether open or suspended (migrations, sweeps).
PROVISIONED_STATUSES = frozenset({TenantStatus.READY, TenantStatus.SUSPENDED})


class StepName(StrEnum):
    CREATE_DATABASE = "CreateDatabase"
    APPLY_MIGRATIONS = "ApplyMigrations"
    SEED_DATA = "SeedData"


STEP_ORDER = (StepName.CREATE_DATABASE, StepName.APPLY_MIGRATIONS, StepName.SEED_DATA)


class StepStatus(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    SUCCESS = "Success"
    FAILED = "Failed"


class Plan(db.Model):
    __tablename__ = "plans"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    features: Mapped[dict] = mapped_column(JSON, default=dict)
    limits: Mapped[dict] = mapped_column(JSON, default=dict)


class Tenant(db.Model):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    slug: Mapped[str] = mapped_column(String(63), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    plan_code: Mapped[str] = mapped_column(ForeignKey("plans.code"))
    status: Mapped[str] = mapped_column(String(20), default=TenantStatus.PENDING)
    db_name: Mapped[str] = mapped_column(String(80))
    # Each tenant keeps its own URL, so tenants can be spread over database servers.
    db_url: Mapped[str] = mapped_column(Text)
    feature_overrides: Mapped[dict] = mapped_column(JSON, default=dict)
    limit_overrides: Mapped[dict] = mapped_column(JSON, default=dict)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), default=Decimal("0.15"))
    flat_shipping: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("10.00"))
    free_shipping_threshold: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("100.00"))
    # The jti of the one confirm token that may still be used; cleared when it is used.
    confirm_jti: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    plan: Mapped[Plan] = relationship(lazy="joined")
    steps: Mapped[list["ProvisioningStep"]] = relationship(
        back_populates="tenant", order_by="ProvisioningStep.position", cascade="all, delete-orphan"
    )

    def step(self, name: StepName) -> "ProvisioningStep":
        return next(s for s in self.steps if s.step == name)


class ProvisioningStep(db.Model):
    __tablename__ = "provisioning_steps"
    __table_args__ = (UniqueConstraint("tenant_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    position: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.PENDING)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    log: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)

    tenant: Mapped[Tenant] = relationship(back_populates="steps")
