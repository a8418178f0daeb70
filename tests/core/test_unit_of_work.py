"""core.unit_of_work.UnitOfWork: its sessions on a store database (a unit whose whole change is
one statement runs it in autocommit on a database server, and refuses an ordinary writing session
after it: its statements would each commit alone), and its one deciding commit."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from core.extensions import db
from core.tenancy.admin import get_tenant
from core.tenancy.models import Plan
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


class _LostConnection(OperationalError):
    def __init__(self):
        super().__init__("COMMIT", {}, Exception("server closed the connection unexpectedly"))


def _stock(app, slug: str) -> int:
    with app.app_context(), unit_of_work() as unit:
        return unit.tenant_db(get_tenant(slug)).scalar(text("SELECT stock FROM products WHERE sku = 'PROD001'"))


@on_both_backends
def test_once_the_store_committed_a_failing_follow_up_commit_leaves_the_work_standing(app, create_tenant,
                                                                                    monkeypatch, caplog):
    """One commit decides: the control database's commit after the store's cannot turn work done
    into an error (its follow-up is logged)."""
    slug = create_tenant()
    with app.app_context():
        with unit_of_work() as unit:
            unit.tenant_db(get_tenant(slug), write=True).execute(
                text("UPDATE products SET stock = 7 WHERE sku = 'PROD001'"))
            db.session.add(Plan(code="FOLLOWUP", name="Follow-up", features={}, limits={}))
            monkeypatch.setattr(db.session(), "commit", lambda: (_ for _ in ()).throw(_LostConnection()))
    assert _stock(app, slug) == 7
    assert "the work stands" in caplog.text


@on_both_backends
def test_a_failure_before_any_commit_rolls_everything_back_and_is_raised(app, create_tenant, monkeypatch):
    slug = create_tenant()
    with app.app_context():
        with pytest.raises(OperationalError), unit_of_work() as unit:
            session = unit.tenant_db(get_tenant(slug), write=True)
            session.execute(text("UPDATE products SET stock = 7 WHERE sku = 'PROD001'"))
            monkeypatch.setattr(session, "commit", lambda: (_ for _ in ()).throw(_LostConnection()))
    assert _stock(app, slug) == 50


@on_both_backends
def test_a_session_that_only_read_is_ended_without_deciding(app, create_tenant):
    slug = create_tenant()
    with app.app_context(), unit_of_work() as unit:
        unit.tenant_db(get_tenant(slug)).scalar(text("SELECT count(*) FROM products"))
        assert unit._writers() == [] and not unit.decided


@on_both_backends
def test_a_unit_after_one_that_committed_in_the_same_context_decides_on_its_own(app, create_tenant, monkeypatch):
    """A command runs several units in one app context, sharing its control session: what the
    first committed does not make a failure of the second's first commit a mere follow-up."""
    slug = create_tenant()
    with app.app_context():
        with unit_of_work():
            db.session.add(Plan(code="FIRST", name="First", features={}, limits={}))
        with pytest.raises(OperationalError), unit_of_work() as unit:
            session = unit.tenant_db(get_tenant(slug), write=True)
            session.execute(text("UPDATE products SET stock = 7 WHERE sku = 'PROD001'"))
            monkeypatch.setattr(session, "commit", lambda: (_ for _ in ()).throw(_LostConnection()))
    assert _stock(app, slug) == 50
