"""Idempotency-Key handling, after Stripe and the IETF httpapi draft, within the seed's codes.

A key belongs to one tenant and one caller (the scope). Its life:

1. claim: an `in_progress` record is inserted in its own short, committed transaction; the
   unique (scope, key) constraint decides which of several concurrent requests owns the key.
   A request that finds the key
   - completed, same fingerprint      → the stored answer is replayed;
   - completed, another fingerprint   → IdempotencyConflict (409);
   - in progress                      → IdempotencyConflict (409): never a second execution;
   - in progress for longer than STALE_AFTER (its process died) → it takes the claim over.
2. the work runs in the caller's main transaction, which also flips the record to `completed`
   with the answer — so the answer is stored if and only if the work is committed.
3. when the work fails (validation, stock, any error) the main transaction rolls back and the
   claim is deleted, so nothing is stored and a retry may proceed.
"""
from __future__ import annotations

import hashlib
import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import current_app
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from core.columns import new_uuid, utcnow
from core.errors import IdempotencyConflict
from core.idempotency.models import IdempotencyRecord, IdempotencyState
from core.statements import insert_or_skip
from core.tenancy.stores import visit_stores
from core.unit_of_work import commits

# A claim older than this belongs to a request whose process died; another request may take it.
STALE_AFTER = timedelta(minutes=5)

# Opens a session on the tenant database whose transaction commits when the block ends.
OpenSession = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class IdempotentRequest:
    """What identifies one logical request: the caller's scope, its key and its fingerprint."""

    scope: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Claim:
    """Ownership of a key; `locked_at` fences it (a request whose claim was taken over cannot
    complete it)."""

    record_id: str
    locked_at: datetime


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


@commits("the claim must exist, in its own transaction, before the work it guards begins")
def claim_key(open_session: OpenSession, request: IdempotentRequest, *, now: datetime | None = None,
              stale_after: timedelta = STALE_AFTER) -> Claim | StoredAnswer:
    """Own the key, or learn its stored answer. Runs and commits in its own transaction (so the
    caller's main transaction must not have begun writing yet): one INSERT … ON CONFLICT DO
    NOTHING claims a new key, and only a key already held is read. Raises IdempotencyConflict
    (409) when the key was used for another request or a request with it is still running."""
    now = now or utcnow()
    for _ in range(2):
        with open_session() as session:
            claimed = session.execute(
                insert_or_skip(session.get_bind().dialect, _records, (_records.c.scope, _records.c.key), _records.c.id),
                {"id": new_uuid(), "scope": request.scope, "key": request.key, "fingerprint": request.fingerprint,
                 "state": str(IdempotencyState.IN_PROGRESS), "response_status": None, "response_body": None,
                 "created_at": now, "locked_at": now, "completed_at": None}).scalar()
            if claimed is not None:
                return Claim(claimed, now)
            record = session.scalar(select(IdempotencyRecord).where(
                IdempotencyRecord.scope == request.scope, IdempotencyRecord.key == request.key))
            if record is not None:
                return _existing(session, record, request, now, stale_after)
            # Its holder failed and released it between the two statements: claim it again.
    raise IdempotencyConflict("A request with this Idempotency-Key is already being processed.")


_records = IdempotencyRecord.__table__


def _existing(session: Session, record: IdempotencyRecord, request: IdempotentRequest, now: datetime,
              stale_after: timedelta) -> Claim | StoredAnswer:
    if record.fingerprint != request.fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was already used for a different request.")
    if record.state == IdempotencyState.COMPLETED:
        return StoredAnswer(record.response_status, record.response_body, replayed=True)
    if record.locked_at > now - stale_after:
        raise IdempotencyConflict("A request with this Idempotency-Key is still being processed; "
                                  "retry once it has finished.")
    # The owner died mid-request (its transaction rolled back). Take over, unless another request
    # took over first: the update is conditional on the lock we saw.
    taken = session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record.id, IdempotencyRecord.state == IdempotencyState.IN_PROGRESS,
               IdempotencyRecord.locked_at == record.locked_at)
        .values(locked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise IdempotencyConflict("A request with this Idempotency-Key is still being processed.")
    return Claim(record.id, now)


def key_state(session: Session, scope: str, key: str) -> tuple[str | None, StoredAnswer | None]:
    """What became of a key in `scope`: (None, None) when no request holds it (never used, or
    its request failed and released it), ("in_progress", None) while its request runs, and
    ("completed", the stored answer marked replayed). Reads only; never claims the key."""
    record = session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.scope == scope, IdempotencyRecord.key == key))
    if record is None:
        return None, None
    if record.state != IdempotencyState.COMPLETED:
        return IdempotencyState.IN_PROGRESS, None
    return IdempotencyState.COMPLETED, StoredAnswer(record.response_status, record.response_body, replayed=True)


# Built once, on the table: it runs in every keyed place-order's stock-locking transaction, where
# building an ORM UPDATE each time cost more than sending it.
_COMPLETE = (update(_records)
             .where(_records.c.id == bindparam("record_id"), _records.c.state == str(IdempotencyState.IN_PROGRESS),
                    _records.c.locked_at == bindparam("claimed_at"))
             .values(state=str(IdempotencyState.COMPLETED), response_status=bindparam("status"),
                     response_body=bindparam("body"), completed_at=bindparam("now")))


def complete_claim(session: Session, claim: Claim, status: int, body: str) -> None:
    """Store the answer in the caller's (main) transaction: committed with the work or not at
    all. If the claim was taken over meanwhile, IdempotencyConflict makes the work roll back."""
    done = session.execute(_COMPLETE, {"record_id": claim.record_id, "claimed_at": claim.locked_at, "status": status,
                                       "body": body, "now": utcnow()}).rowcount
    if done != 1:
        raise IdempotencyConflict("This request's Idempotency-Key claim expired and was taken over by a retry.")


@commits("a failed request's claim is forgotten in its own transaction, so a retry may proceed")
def release_claim(open_session: OpenSession, claim: Claim) -> None:
    """Forget a claim whose work failed, in its own transaction, so a retry may proceed."""
    with open_session() as session:
        session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.id == claim.record_id, IdempotencyRecord.state == IdempotencyState.IN_PROGRESS,
                   IdempotencyRecord.locked_at == claim.locked_at)
            .execution_options(synchronize_session=False))


@commits("the answer is stored and committed with the work, or the claim released, before replying")
def run_once(session: Session, open_session: OpenSession, request: IdempotentRequest,
             work: Callable[[], tuple[int, str]]) -> StoredAnswer:
    """Run `work` at most once per key: claim the key, run `work` in `session` (the main
    transaction), store its (status, JSON body) and commit; or replay the stored answer. When
    `work` raises, its transaction is rolled back and the claim released before re-raising."""
    claim = claim_key(open_session, request)
    if isinstance(claim, StoredAnswer):
        return claim
    try:
        status, body = work()
        complete_claim(session, claim, status, body)
        session.commit()
    except BaseException:
        # Roll back first: on SQLite the main transaction holds the write lock the release needs.
        session.rollback()
        release_claim(open_session, claim)
        raise
    return StoredAnswer(status, body, replayed=False)


def purge_records(session: Session, created_before: datetime) -> int:
    """Delete the records created before `created_before` (a claim that old is a crashed one);
    returns how many. A key used again after its record is gone is a new request: it places a
    new order. Nothing else reads the records: an order keeps its own session_id."""
    return session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < created_before)).rowcount


def purge_expired_records() -> tuple[dict[str, int], list[str]]:
    """purge_records in every store, of the records older than IDEMPOTENCY_RETENTION_HOURS
    (run hourly by python -m jobs.cron). Returns {slug: records deleted} of the stores that had
    any, and the stores whose database could not be reached (the others are purged all the same)."""
    before = utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_RETENTION_HOURS"])
    purged, unreachable = visit_stores(lambda session: purge_records(session, before), write=True)
    return {slug: count for slug, count in purged.items() if count}, unreachable
