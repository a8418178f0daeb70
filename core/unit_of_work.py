"""The unit of work: where the transactions of a request, a job or a command begin and end.

A request, a job or a command works in one UnitOfWork. It holds the control database's session
(Flask-SQLAlchemy's `db.session`) and the sessions it opened on store databases — one reading
and one writing session per database at most, each opened on first use — and ends them all
once: `commit()` (the store databases first, then the control database) or `rollback()`.

- Requests: `install(app)` commits the request's unit after an answer below 400 and rolls it
  back after any other; `current_unit()` is the request's unit.
- Jobs and commands: `with unit_of_work():` commits when the block returns and rolls back when
  it raises.

One commit decides. The sessions that wrote commit first, the store's before the control
database's; once one of them has committed (or a service's own commit, or a one-statement
session's statement, committed work), the unit's work is done and the answer stands: a later
commit or the end of a session that only read cannot turn it into an error (its failure is
logged; what such a follow-up writes must be idempotent or settled by a job, see
core.recovery). A failure before that commit leaves nothing done, and the request answers 503
when it was a lost connection (web.errors).

Services flush and never commit: the unit of work of their caller decides. The few that must
make part of their work durable before their unit ends say so with `@commits(reason)` (a job
must find the row it is queued for; provisioning progress must be visible while the steps run;
a keyed request's answer is stored and committed with its work before the reply).
tests/test_architecture.py refuses a commit or a rollback anywhere else. A transaction that is
not the caller's at all — one store's part of a sweep over every store — is an
`own_transaction`.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from flask import Flask, g
from sqlalchemy import Connection, TextClause, event
from sqlalchemy.orm import ORMExecuteState, Session

from core.extensions import db
from core.tenancy.engines import engines
from core.tenancy.models import Tenant

log = logging.getLogger(__name__)

_CURRENT = "unit_of_work"
ONE_STATEMENT = "storefleet.one_statement"
# A session's info: it wrote in its current transaction / work of it is committed.
_WROTE, _COMMITTED_WORK = "storefleet.wrote", "storefleet.committed_work"
F = TypeVar("F", bound=Callable)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executing(state: ORMExecuteState) -> None:
    statement = state.statement
    if state.is_insert or state.is_update or state.is_delete or (
            isinstance(statement, TextClause) and statement.text.lstrip()[:6].upper() != "SELECT"):
        session = state.session
        # A one-statement session runs in autocommit: its statement is committed work at once.
        session.info[_COMMITTED_WORK if session.info.get(ONE_STATEMENT) else _WROTE] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_WROTE, False):
        session.info[_COMMITTED_WORK] = True


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_WROTE, None)


def _wrote(session: Session) -> bool:
    """Whether `session` has uncommitted writes: flushed or Core statements, or pending objects."""
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


def commits(reason: str) -> Callable[[F], F]:
    """Mark a service that commits part of its work before its unit of work ends; `reason` says
    why it must (see the module's doc). The function itself is unchanged."""

    def mark(function: F) -> F:
        function.__commits__ = reason
        return function

    return mark


class UnitOfWork:
    """The sessions of one request, job or command, ended together (see the module's doc)."""

    def __init__(self) -> None:
        self._tenant_sessions: dict[tuple[str, bool], Session] = {}

    def tenant_db(self, tenant: Tenant, *, write: bool = False, one_statement: bool = False) -> Session:
        """This unit's session on `tenant`'s database, opened on first use, on a connection of
        its own (core.tenancy.engines) held until the unit ends. A writing session (write=True)
        takes SQLite's write lock when its transaction begins, so two writers queue instead of
        one failing when it upgrades a read lock. A read after the unit has begun writing goes
        to the writing session, so it sees the unit's own changes.

        `one_statement` (with write) is for a unit whose whole change to the store is one
        statement, correct alone (a conditional UPDATE of stock): on a database server it runs
        in autocommit, without the BEGIN and COMMIT round trips, and its commit is the unit's
        decision. Asking for an ordinary writing session of the store afterwards is an error:
        its statements would each commit alone."""
        session = self._tenant_sessions.get((tenant.db_url, True))
        if session is not None:
            if session.info.get(ONE_STATEMENT) and write:
                raise RuntimeError("this unit's session on the store runs one statement in autocommit: "
                                   "ask for one_statement before any other writing session")
            return session
        key = (tenant.db_url, write or one_statement)
        session = self._tenant_sessions.get(key)
        if session is None:
            connection = engines().connect(tenant.db_url, write=write or one_statement)
            session = self._tenant_sessions[key] = Session(connection, expire_on_commit=False)
            if one_statement and connection.dialect.name != "sqlite":
                connection.execution_options(isolation_level="AUTOCOMMIT")
                session.info[ONE_STATEMENT] = True
        return session

    def _sessions(self) -> list[Session]:
        """The unit's sessions: the stores' (in the order they were opened), then the control
        database's."""
        return [*self._tenant_sessions.values(), db.session()]

    def _writers(self) -> list[Session]:
        """The sessions to commit: the stores' writing sessions, and any other that wrote."""
        return [session for key, session in self._tenant_sessions.items() if key[1] or _wrote(session)] + (
            [db.session()] if _wrote(db.session()) else [])

    @property
    def decided(self) -> bool:
        """Whether work of this unit is committed (see the module's doc)."""
        return any(session.info.get(_COMMITTED_WORK) for session in self._sessions())

    def commit(self) -> None:
        """Commit the sessions that wrote (the stores' first, then the control database's), and
        end the ones that only read. Until work is committed a failure rolls everything back and
        is raised; after it, a failure is logged and the unit's work stands (see the module's doc)."""
        sessions, writers = self._sessions(), self._writers()
        for session in writers:
            decided = self.decided
            try:
                session.commit()
            except BaseException:
                if not decided:
                    self.rollback()
                    raise
                log.exception("a follow-up commit failed after the unit's work was committed; the work stands")
                break
        self._end_quietly(session for session in sessions if session not in writers or _wrote(session))

    def rollback(self) -> None:
        """Roll every session back; a session whose connection is lost ends anyway (logged)."""
        self._end_quietly(self._sessions())

    @staticmethod
    def _end_quietly(sessions) -> None:
        for session in sessions:
            try:
                session.rollback()
            except Exception:  # a lost connection: nothing of it was committed, and nothing is to be
                log.warning("rolling back a session failed", exc_info=True)

    def close(self) -> None:
        """Close the sessions and give their connections back to the pools. The control session
        outlives the unit (a command runs several in one app context): what it committed for
        this unit is forgotten, so the next unit decides on its own."""
        db.session().info.pop(_COMMITTED_WORK, None)
        sessions, self._tenant_sessions = list(self._tenant_sessions.values()), {}
        for session in sessions:
            connection = session.bind
            session.close()
            connection.close()

    def finish(self, *, ok: bool) -> None:
        """End the unit once: commit when `ok`, else roll back; then close its sessions."""
        try:
            self.commit() if ok else self.rollback()
        finally:
            self.close()


def current_unit() -> UnitOfWork:
    """The unit of work of this request, job or command (made on first use)."""
    unit = g.get(_CURRENT)
    if unit is None:
        unit = g.unit_of_work = UnitOfWork()
    return unit


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """A job's or a command's unit of work: committed when the block returns, rolled back when
    it raises. Units do not nest (the control session is the app context's): a block inside
    another's sees its own store sessions, and the control session they share."""
    outer = g.pop(_CURRENT, None)
    unit = current_unit()
    try:
        yield unit
        unit.commit()
    except BaseException:
        unit.rollback()
        raise
    finally:
        unit.close()
        g.pop(_CURRENT, None)
        if outer is not None:
            g.unit_of_work = outer


@contextmanager
def own_transaction(bind: Connection | str, *, write: bool = True) -> Iterator[Session]:
    """A transaction of its own on a store database (a URL, whose connection is taken from its
    pool and given back afterwards, or a connection the caller holds), committed when the block
    returns and rolled back when it raises, whatever the caller's unit does."""
    if isinstance(bind, str):
        with engines().connect(bind, write=write) as connection, \
                own_transaction(connection, write=write) as session:
            yield session
        return
    if write and bind.dialect.name == "sqlite":
        bind.execution_options(sqlite_immediate=True)
    session = Session(bind, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _finish_request(response):
    """after_request: the request's one commit (an answer below 400) or rollback (any other)."""
    unit = g.pop(_CURRENT, None) or UnitOfWork()
    unit.finish(ok=response.status_code < 400)
    return response


def _discard(_exc) -> None:
    """teardown: a unit left open (the request ended by an exception) is rolled back and closed."""
    unit = g.pop(_CURRENT, None)
    if unit is not None:
        unit.finish(ok=False)


def install(app: Flask) -> None:
    """Bind a unit of work to each of `app`'s requests (see the module's doc)."""
    app.after_request(_finish_request)
    app.teardown_appcontext(_discard)
