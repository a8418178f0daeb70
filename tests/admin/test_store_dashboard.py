"""The dashboard: orders and revenue of the last 30 days (SQL aggregation in core daily_sales,
on SQLite and PostgreSQL), drawn as SVG with a table, and the products to restock first."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from core.columns import utcnow
from core.orders.reports import daily_sales
from tests.support.backends import dialect_of, on_both_backends
from tests.support.store_admin import store_admin  # noqa: F401  (fixture)


def days_ago(days: int, hour: int = 12) -> datetime:
    today = utcnow().date() - timedelta(days=days)
    return datetime(today.year, today.month, today.day, hour, 30, tzinfo=timezone.utc)


@on_both_backends
def test_daily_sales_counts_each_day_and_leaves_cancelled_orders_out_of_revenue(store_admin):
    store_admin.place_order(("PROD001", 1), placed_at=days_ago(0, hour=0))      # 71.99 + tax 10.80 + ship 10.00
    store_admin.place_order(("PROD002", 2), placed_at=days_ago(0, hour=23))     # 59.98 + 9.00 + 10.00
    cancelled = store_admin.place_order(("PROD003", 1), placed_at=days_ago(0))  # 127.49 …, cancelled
    store_admin.cancel(cancelled)
    store_admin.place_order(("PROD004", 1), channel="api", placed_at=days_ago(29))  # 49.99 + 7.50 + 10.00
    store_admin.place_order(("PROD005", 1), placed_at=days_ago(30))                 # outside the window
    with store_admin.db() as session:
        if dialect_of(store_admin.app) == "postgresql":
            # 23:30 UTC is the next day in Tokyo: the days must be UTC ones whatever the session's zone.
            session.execute(text("SET LOCAL TIME ZONE 'Asia/Tokyo'"))
        report = daily_sales(session, 30)
    assert len(report.days) == 30
    assert report.days[-1].day == utcnow().date() and report.days[0].day == utcnow().date() - timedelta(days=29)
    today, first = report.days[-1], report.days[0]
    assert (today.orders, today.cancelled, today.revenue) == (3, 1, D("171.77"))
    assert (first.orders, first.cancelled, first.revenue) == (1, 0, D("67.49"))
    assert all((d.orders, d.revenue) == (0, D("0.00")) for d in report.days[1:-1])
    assert (report.orders, report.cancelled, report.revenue) == (4, 1, D("239.26"))
    assert isinstance(today.revenue, D) and isinstance(report.revenue, D)


def test_daily_sales_refuses_a_silly_window(store_admin):
    from core.errors import ValidationFailed

    with store_admin.db() as session, pytest.raises(ValidationFailed):
        daily_sales(session, 0)


def test_the_dashboard_draws_the_last_30_days_with_a_table_and_totals(store_admin):
    store_admin.place_order(("PROD001", 1), placed_at=days_ago(2))
    cancelled = store_admin.place_order(("PROD002", 1), placed_at=days_ago(2))
    store_admin.cancel(cancelled)
    html = store_admin.get("/admin/dashboard").get_data(as_text=True)
    assert '<dd id="orders-total">2</dd>' in html and '<dd id="revenue-total">$92.79</dd>' in html
    assert html.count('role="img"') == 2 and 'aria-labelledby="revenue-chart-title revenue-chart-desc"' in html
    assert len(re.findall(r"<rect ", html)) == 60
    day = days_ago(2).date()
    assert f"<title>{day:%b} {day.day}: $92.79</title>" in html
    assert (f'<tr><th scope="row">{day.isoformat()}</th><td>2</td><td>1</td><td>$92.79</td></tr>') in html
    assert "cdn" not in html.lower()


def test_the_dashboard_lists_out_of_stock_products_first_then_low_stock(store_admin, create_product):
    create_product(store_admin.slug, "Almost Gone", sku="LOW-1", quantity=2, low_stock_threshold=5)
    create_product(store_admin.slug, "Sold Out", sku="ZERO-1", quantity=0)
    create_product(store_admin.slug, "Retired", sku="ZERO-2", quantity=0, is_active=False)
    create_product(store_admin.slug, "Plenty", sku="OK-1", quantity=5, low_stock_threshold=5)
    html = store_admin.get("/admin/dashboard").get_data(as_text=True)
    table = html[html.index('id="restock-table"'):]
    names = re.findall(r'<th scope="row"><a href="/admin/products/[^"]+">([^<]+)</a>', table)
    assert names == ["Retired", "Sold Out", "Almost Gone"]
    assert table.count("out of stock") == 2 and "low stock" in table
    assert "Plenty" not in table


def test_the_dashboard_says_when_nothing_needs_restocking(store_admin):
    assert "Every product is at or above its low-stock threshold." in store_admin.get("/admin/dashboard").get_data(
        as_text=True)
