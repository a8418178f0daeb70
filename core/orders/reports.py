"""The store's sales figures, aggregated in SQL: orders and revenue per UTC day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import BigInteger, case, cast, func, select
from sqlalchemy.orm import Session

from core.columns import utcnow
from core.errors import ValidationFailed
from core.money import to_money
from core.orders.models import Order, OrderStatus
from core.orders.pricing import ZERO


@dataclass(frozen=True)
class DaySales:
    """One UTC day: the orders placed (cancelled ones included) and the revenue of those not
    cancelled."""

    day: date
    orders: int
    cancelled: int
    revenue: Decimal


@dataclass(frozen=True)
class SalesReport:
    days: list[DaySales]

    @property
    def orders(self) -> int:
        return sum(day.orders for day in self.days)

    @property
    def cancelled(self) -> int:
        return sum(day.cancelled for day in self.days)

    @property
    def revenue(self) -> Decimal:
        return sum((day.revenue for day in self.days), ZERO)


def _utc_day(session: Session, column):
    """The UTC calendar day of a timestamp column, in SQL. PostgreSQL keeps timestamptz and
    would take the session's time zone; SQLite stores UTC text, whose date() is the day."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def daily_sales(session: Session, days: int = 30, *, today: date | None = None) -> SalesReport:
    """Orders and revenue of each of the last `days` UTC days up to today, oldest first, every
    day present (a day without orders counts 0). Aggregated in SQL in one grouped statement;
    revenue is summed in whole cents (exact on SQLite, whose numbers are binary floats, as on
    PostgreSQL) and excludes cancelled orders; money comes back as Decimal."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise ValidationFailed.field("days", "days must be an integer from 1 to 366.")
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=timezone.utc)
    until = datetime.combine(today + timedelta(days=1), time.min, tzinfo=timezone.utc)
    day = _utc_day(session, Order.created_at).label("day")
    cancelled = Order.status == OrderStatus.CANCELLED
    cents = cast(func.round(Order.total * 100), BigInteger)
    rows = session.execute(
        select(day, func.count().label("orders"),
               func.sum(case((cancelled, 1), else_=0)).label("cancelled"),
               func.sum(case((cancelled, 0), else_=cents)).label("cents"))
        .where(Order.created_at >= since, Order.created_at < until)
        .group_by(day)
    ).all()
    by_day = {date.fromisoformat(str(row.day)): row for row in rows}
    report = []
    for offset in range(days):
        current = first + timedelta(days=offset)
        row = by_day.get(current)
        if row is None:
            report.append(DaySales(current, 0, 0, ZERO))
        else:
            report.append(DaySales(current, int(row.orders), int(row.cancelled or 0),
                                   to_money(Decimal(int(row.cents or 0)) / 100)))
    return SalesReport(report)
