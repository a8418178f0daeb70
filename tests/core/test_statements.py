"""core.statements: the dialects' own INSERT … ON CONFLICT DO NOTHING, compiled once per table
and dialect."""
from __future__ import annotations

import re

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from core.idempotency.models import IdempotencyRecord
from core.orders.models import Order
from core.statements import insert_or_skip

DIALECTS = {"sqlite": sqlite, "postgresql": postgresql}


@pytest.mark.parametrize("dialect_name", sorted(DIALECTS))
def test_an_insert_or_skip_is_the_dialects_own_and_compiled_once(dialect_name):
    dialect = DIALECTS[dialect_name].dialect()
    orders = Order.__table__
    statement = insert_or_skip(dialect, orders, (orders.c.number,), orders.c.id)
    assert insert_or_skip(dialect, orders, (orders.c.number,), orders.c.id) is statement
    assert statement.text.startswith("INSERT INTO orders (id, number, ")
    assert re.search(r"ON CONFLICT \(number\) DO NOTHING RETURNING (orders\.)?id$", statement.text)


@pytest.mark.parametrize("dialect_name", sorted(DIALECTS))
def test_each_table_and_conflict_has_its_own_statement(dialect_name):
    dialect = DIALECTS[dialect_name].dialect()
    records = IdempotencyRecord.__table__
    claim = insert_or_skip(dialect, records, (records.c.scope, records.c.key), records.c.id)
    assert re.search(r'ON CONFLICT \(scope, "?key"?\) DO NOTHING RETURNING (idempotency_records\.)?id$', claim.text)
    assert claim is not insert_or_skip(dialect, Order.__table__, (Order.__table__.c.number,), Order.__table__.c.id)
