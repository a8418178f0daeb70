"""What the models of both databases share: UUID keys and timestamps, always timezone-aware UTC
(in Python and in the database)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_uuid() -> str:
    """A new primary key: a UUID's canonical text."""
    return str(uuid.uuid4())


class UtcDateTime(TypeDecorator):
    """A timestamp written in UTC and read back aware, on every database. PostgreSQL keeps a
    timestamptz; SQLite keeps text without an offset, which comes back naive and is UTC because
    only UTC is ever written (a naive value given is taken as UTC, an aware one converted)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=timezone.utc)


# The declarative bases map `Mapped[datetime]` to it (core.extensions, core.tenancy.base).
TYPE_ANNOTATIONS = {datetime: UtcDateTime()}
