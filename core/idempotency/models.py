"""Idempotency records of a tenant database: one per (caller scope, Idempotency-Key)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.columns import new_uuid, utcnow
from core.tenancy.base import TenantBase


class IdempotencyState(StrEnum):
    # What a release before the single-transaction keys left while its request ran (or after it
    # died): its claim, committed on its own (see services). Records are written COMPLETED now.
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"  # the first answer is stored; later requests replay it


class IdempotencyRecord(TenantBase):
    __tablename__ = "idempotency_records"
    # The unique constraint decides which of two requests that both ran with a key stores its answer.
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    # The tenant and the caller: "<slug>:session:<X-Session-Id>" or "<slug>:sub:<token subject>".
    scope: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(255))
    # sha256 of the canonical request (method, path, session, validated body).
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=IdempotencyState.COMPLETED)
    response_status: Mapped[int | None]
    # The JSON document first sent, byte for byte, so a replay answers exactly the same.
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the key was taken: an in_progress record older than services.STALE_AFTER is abandoned.
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
