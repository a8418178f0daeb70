"""Idempotency-Key handling, after Stripe and the IETF httpapi draft, within the seed's codes.

A key belongs to one tenant and one caller (the scope). A request with a key runs in the
caller's one transaction, which also decides the answer:

1. look: the transaction's first statement reads the key's record and, on PostgreSQL, takes a
   transaction-scoped advisory lock on the key without waiting (`pg_try_advisory_xact_lock`).
   - the lock is held by another transaction → IdempotencyConflict (409): a request with the
     key is still running, never a second execution;
   - a record with the same fingerprint → its stored answer is replayed, nothing is run;
   - a record with another fingerprint → IdempotencyConflict (409).
   On SQLite a writing transaction holds the database's write lock from its first statement, so
   a second request with the key waits for the first to end and then finds its answer.
2. the work runs in the same transaction, and the record is INSERTed with its answer just
   before the commit: the answer is stored if and only if the work is committed, and a request
   refused or failed stores nothing (its rollback also drops the lock).
3. a request that read no record and yet meets one at the INSERT (one with the key committed
   between its first statement and its lock) rolls its work back and answers from that record;
   so does one whose work was refused (a DomainError: the cart that request emptied is empty).

A record `in_progress` is what the releases before this design left while their request ran
(a claim committed on its own): younger than STALE_AFTER it is a running request (409), older
it belongs to a request whose process died and is taken over. A request of this design whose
process dies holds nothing afterwards: PostgreSQL ends its transaction, and the lock with it, when
its connection drops, so a retry is served at once (tests/postgres/test_killed_requests.py).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import current_app
from sqlalchemy import Integer, delete, select, text
from sqlalchemy.orm import Session

from core.columns import new_uuid, utcnow
from core.errors import DomainError, IdempotencyConflict
from core.idempotency.models import IdempotencyRecord, IdempotencyState
from core.locks import lock_id
from core.statements import insert_or_skip
from core.tenancy.stores import visit_stores
from core.unit_of_work import commits

# An `in_progress` record older than this belongs to a request whose process died (no request
# runs that long: gunicorn's worker timeout is 30 s), so its key is retryable within a minute.
STALE_AFTER = timedelta(minutes=1)

RUNNING = "A request with this Idempotency-Key is still being processed; retry once it has finished."
DIFFERENT = "This Idempotency-Key was already used for a different request."


@dataclass(frozen=True)
class IdempotentRequest:
    """What identifies one logical request: the caller's scope, its key and its fingerprint."""

    scope: str
    key: str
    fingerprint: str

    @property
    def lock_id(self) -> int:
        """The key's advisory lock on PostgreSQL: 64 bits of sha256 of scope and key (two keys of
        one store that clashed would only refuse one (409) while the other runs: 1 in 2**64 a
        pair)."""
        return lock_id(self.scope, self.key)


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: str
    replayed: bool


def caller_scope(tenant_slug: str, *, subject: str | None = None, session_id: str | None = None) -> str:
    """The scope of a key: the tenant and the caller — the token's subject when the caller
    authenticated, else the guest's session id."""
    if subject:
        return f"{tenant_slug}:sub:{subject}"
    if session_id:
        return f"{tenant_slug}:session:{session_id}"
    raise ValueError("an idempotency scope needs a token subject or a session id")


def request_fingerprint(method: str, path: str, payload: Any) -> str:
    """sha256 of the canonical request: method, path and a JSON-able payload (sorted keys, no
    whitespace), so the same request always has the same fingerprint."""
    canonical = json.dumps({"method": method.upper(), "path": path, "payload": payload},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


_records = IdempotencyRecord.__table__
_RECORD_COLUMNS = ("id", "fingerprint", "state", "response_status", "response_body", "locked_at")
# The key's record (or a row of NULLs) and, on PostgreSQL, whether this transaction now holds the
# key's advisory lock: one statement, the first of the keyed request's transaction.
_LOOK = {
    dialect: text(f"SELECT {owned} AS owned, {', '.join(f'r.{c}' for c in _RECORD_COLUMNS)} "
                  "FROM (SELECT 1) AS one LEFT JOIN idempotency_records AS r ON r.scope = :scope AND r.key = :key")
    .columns(owned=Integer, **{column: _records.c[column].type for column in _RECORD_COLUMNS})
    for dialect, owned in (("postgresql", "pg_try_advisory_xact_lock(:lock)::int"), ("sqlite", "1"))
}
# Whether a transaction holds the key's advisory lock, read in pg_locks without taking it.
_LOCK_HELD = text("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 "
                  "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                  "AND classid = CAST(:high AS oid) AND objid = CAST(:low AS oid))")


def _look(session: Session, request: IdempotentRequest):
    statement = _LOOK[session.get_bind().dialect.name]
    return session.execute(statement, {"lock": request.lock_id, "scope": request.scope, "key": request.key}).one()


def _answer(session: Session, row, request: IdempotentRequest, now: datetime) -> StoredAnswer | None:
    """What the key's record `row` (from _look) answers, or None when the work is to run: the
    stored answer, or IdempotencyConflict (409) for another request's key or a running one."""
    if not row.owned:
        raise IdempotencyConflict(RUNNING)
    if row.id is None:
        return None
    if row.fingerprint != request.fingerprint:
        raise IdempotencyConflict(DIFFERENT)
    if row.state == IdempotencyState.COMPLETED:
        return StoredAnswer(row.response_status, row.response_body, replayed=True)
    if row.locked_at > now - STALE_AFTER:
        raise IdempotencyConflict(RUNNING)
    # A claim of an earlier release whose request died: forget it, in this transaction.
    session.execute(delete(_records).where(_records.c.id == row.id))
    return None


@commits("the answer is stored and committed with the work before replying; a raced key rolls the work back")
def run_once(session: Session, request: IdempotentRequest, work: Callable[[], tuple[int, str]]) -> StoredAnswer:
    """Run `work` at most once per key, in `session`'s one transaction (which must hold nothing
    else of the caller's: a raced key rolls it back): replay the key's stored answer, or run `work`, store its (status, JSON body) with it
    and commit. When `work` raises, the transaction rolls back, nothing is stored, and the error
    goes on to the caller. See the module's doc for the 409s."""
    now = utcnow()
    answer = _answer(session, _look(session, request), request, now)
    if answer is not None:
        return answer
    try:
        status, body = work()
        stored = session.execute(
            insert_or_skip(session.get_bind().dialect, _records, (_records.c.scope, _records.c.key), _records.c.id),
            {"id": new_uuid(), "scope": request.scope, "key": request.key, "fingerprint": request.fingerprint,
             "state": str(IdempotencyState.COMPLETED), "response_status": status, "response_body": body,
             "created_at": now, "locked_at": now, "completed_at": utcnow()}).scalar()
        if stored is None:
            # Another request with the key committed after this one looked: its answer stands.
            session.rollback()
            answer = _answer(session, _look(session, request), request, now)
            if answer is None:  # it was released again meanwhile: the client may retry
                raise IdempotencyConflict(RUNNING)
            return answer
        session.commit()
    except DomainError:
        # Refused: perhaps only because another request with the key did the work meanwhile (it
        # committed after this one looked: the cart it emptied is empty now). Its answer stands.
        session.rollback()
        row = _look(session, request)
        if row.id is not None:
            return _answer(session, row, request, now)
        raise
    except BaseException:
        session.rollback()
        raise
    return StoredAnswer(status, body, replayed=False)


def key_state(session: Session, scope: str, key: str) -> tuple[str | None, StoredAnswer | None]:
    """What became of a key in `scope`: (None, None) when no request holds it (never used, or
    its request failed), ("in_progress", None) while its request runs, and ("completed", the
    stored answer marked replayed). Reads only; never takes the key's lock."""
    record = session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.scope == scope, IdempotencyRecord.key == key))
    if record is None:
        return (IdempotencyState.IN_PROGRESS, None) if _running(session, scope, key) else (None, None)
    if record.state != IdempotencyState.COMPLETED:
        return IdempotencyState.IN_PROGRESS, None
    return IdempotencyState.COMPLETED, StoredAnswer(record.response_status, record.response_body, replayed=True)


def _running(session: Session, scope: str, key: str) -> bool:
    """Whether a request with the key is running now: its transaction holds the key's advisory
    lock (PostgreSQL). On SQLite a running request holds the write lock, and nobody sees it run."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    unsigned = lock_id(scope, key) & 0xFFFFFFFFFFFFFFFF
    return bool(session.scalar(_LOCK_HELD, {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF}))


def purge_records(session: Session, created_before: datetime) -> int:
    """Delete the records created before `created_before`; returns how many. A key used again
    after its record is gone is a new request: it places a new order. Nothing else reads the
    records: an order keeps its own session_id."""
    return session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < created_before)).rowcount


def purge_expired_records() -> tuple[dict[str, int], list[str]]:
    """purge_records in every store, of the records older than IDEMPOTENCY_RETENTION_HOURS
    (run hourly by python -m jobs.cron). Returns {slug: records deleted} of the stores that had
    any, and the stores whose database could not be reached (the others are purged all the same)."""
    before = utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_RETENTION_HOURS"])
    purged, unreachable = visit_stores(lambda session: purge_records(session, before), write=True)
    return {slug: count for slug, count in purged.items() if count}, unreachable
