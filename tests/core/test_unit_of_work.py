"""core.unit_of_work.UnitOfWork's sessions on a store database: a unit whose whole change is one
statement runs it in autocommit on a database server, and refuses an ordinary writing session
after it (its statements would each commit alone)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from core.tenancy.admin import get_tenant
from core.unit_of_work import unit_of_work
from tests.support.backends import on_both_backends, on_postgres


@on_postgres
def test_a_one_statement_session_is_autocommit_and_refuses_a_writing_session_after_it(app, create_tenant):
    slug = create_tenant()
    with app.app_context(), unit_of_work() as unit:
        tenant = get_tenant(slug)
        session = unit.tenant_db(tenant, one_statement=True)
        assert session.connection().connection.dbapi_connection.autocommit is True
        assert unit.tenant_db(tenant) is session   # a read goes to it: it sees the change
        with pytest.raises(RuntimeError, match="one statement"):
            unit.tenant_db(tenant, write=True)


@on_both_backends
def test_a_writing_session_opened_first_stays_transactional(app, create_tenant):
    slug = create_tenant()
    with app.app_context(), unit_of_work() as unit:
        tenant = get_tenant(slug)
        session = unit.tenant_db(tenant, write=True)
        assert unit.tenant_db(tenant, one_statement=True) is session
        session.execute(text("UPDATE products SET stock = stock + 1 WHERE sku = 'PROD001'"))
        session.rollback()
        assert session.scalar(text("SELECT stock FROM products WHERE sku = 'PROD001'")) == 50
