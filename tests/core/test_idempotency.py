"""core.idempotency.services on a real tenant database: the work and its answer in one transaction,
replay, conflict, a running request, a raced key, the records of earlier releases."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from core.cart.models import Cart
from core.columns import utcnow
from core.errors import IdempotencyConflict, InsufficientStock, ValidationFailed
from core.idempotency.models import IdempotencyRecord, IdempotencyState
from core.idempotency.services import (STALE_AFTER, IdempotentRequest, StoredAnswer, caller_scope, key_state, request_fingerprint,
                                       run_once)
from tests.support.backends import on_both_backends, on_postgres


@pytest.fixture
def store(shop):
    return shop()


@pytest.fixture
def sessions(store):
    """Sessions on the store's database that commit only when told (a request's main one each),
    on connections of their own."""
    engine = create_engine(store.db_url, poolclass=NullPool)
    opened = []

    def open_session() -> Session:
        opened.append(Session(engine, expire_on_commit=False))
        return opened[-1]

    yield open_session
    for session in opened:
        session.close()
    engine.dispose()


@pytest.fixture
def main_session(sessions):
    return sessions()


def a_request(key: str = "key-1", fingerprint: str = "a" * 64) -> IdempotentRequest:
    return IdempotentRequest(scope=caller_scope("shop", session_id="s-1"), key=key, fingerprint=fingerprint)


def records(store) -> list[IdempotencyRecord]:
    with store.db() as session:
        return list(session.scalars(select(IdempotencyRecord)))


def test_request_fingerprint_is_canonical():
    one = request_fingerprint("post", "/x", {"a": 1, "b": {"c": [1, 2]}})
    assert one == request_fingerprint("POST", "/x", {"b": {"c": [1, 2]}, "a": 1})
    assert len(one) == 64
    assert one != request_fingerprint("POST", "/x", {"a": 2, "b": {"c": [1, 2]}})
    assert one != request_fingerprint("POST", "/y", {"a": 1, "b": {"c": [1, 2]}})


def test_caller_scope_is_the_tenant_and_the_token_subject_or_the_session():
    assert caller_scope("shop", subject="sf_abc", session_id="s-1") == "shop:sub:sf_abc"
    assert caller_scope("shop", session_id="s-1") == "shop:session:s-1"
    with pytest.raises(ValueError):
        caller_scope("shop")


def answer(body: str):
    return lambda: (200, body)


def a_cart(session: Session, n: int) -> None:
    """Work that writes a row in the request's transaction."""
    session.add(Cart(session_id=f"00000000-0000-4000-8000-{n:012d}"))
    session.flush()


@on_both_backends
def test_run_once_commits_the_work_with_its_answer_in_one_transaction(store, main_session):
    def work():
        a_cart(main_session, 1)
        return 200, '{"orderId": "o-1"}'

    assert run_once(main_session, a_request(), work) == StoredAnswer(200, '{"orderId": "o-1"}', replayed=False)
    assert store.count(Cart) == 1
    [record] = records(store)
    assert (record.scope, record.key, record.fingerprint) == (caller_scope("shop", session_id="s-1"), "key-1", "a" * 64)
    assert (record.state, record.response_status, record.response_body) == (
        IdempotencyState.COMPLETED, 200, '{"orderId": "o-1"}')
    assert record.completed_at is not None


@on_both_backends
def test_a_completed_key_replays_its_answer_without_running_and_refuses_another_request(store, main_session):
    calls = []

    def work():
        calls.append(1)
        return 200, '{"n": 1}'

    run_once(main_session, a_request(), work)
    assert run_once(main_session, a_request(), work) == StoredAnswer(200, '{"n": 1}', replayed=True)
    with pytest.raises(IdempotencyConflict, match="different request"):
        run_once(main_session, a_request(fingerprint="b" * 64), work)
    main_session.rollback()
    assert calls == [1] and len(records(store)) == 1


def test_keys_are_separate_per_scope_and_key(store, main_session):
    run_once(main_session, a_request("key-1"), answer("1"))
    assert run_once(main_session, a_request("key-2"), answer("2")).replayed is False
    other = IdempotentRequest(scope=caller_scope("shop", session_id="s-2"), key="key-1", fingerprint="a" * 64)
    assert run_once(main_session, other, answer("3")).replayed is False
    assert len(records(store)) == 3


@on_both_backends
def test_failed_work_is_rolled_back_and_stores_nothing_so_a_retry_runs(store, main_session):
    def work():
        a_cart(main_session, 2)
        raise InsufficientStock("Not enough stock.")

    with pytest.raises(InsufficientStock):
        run_once(main_session, a_request(), work)
    assert store.count(Cart) == 0 and records(store) == []
    assert run_once(main_session, a_request(), answer("{}")).replayed is False


@on_postgres
def test_a_request_while_the_first_with_its_key_runs_is_409_and_the_key_reads_as_running(store, sessions):
    first, second, reader = sessions(), sessions(), sessions()
    seen = []

    def work():
        a_cart(first, 3)
        with pytest.raises(IdempotencyConflict, match="still being processed"):
            run_once(second, a_request(), answer("second"))
        second.rollback()
        seen.append(key_state(reader, a_request().scope, "key-1"))
        reader.rollback()
        return 200, "first"

    assert run_once(first, a_request(), work).body == "first"
    assert seen == [(IdempotencyState.IN_PROGRESS, None)]
    # Once the first has committed, the key replays its answer; the lock went with its transaction.
    assert run_once(second, a_request(), answer("second")) == StoredAnswer(200, "first", replayed=True)
    assert key_state(reader, a_request().scope, "key-1") == (IdempotencyState.COMPLETED,
                                                              StoredAnswer(200, "first", replayed=True))
    assert store.count(Cart) == 1


@on_postgres
def test_a_key_committed_after_the_request_looked_rolls_its_work_back_and_answers_the_stored_one(store, main_session):
    """The first statement read no record, and a record of the key was committed before the
    INSERT (by a request whose statement began before this one's lock and committed before it
    was taken): the unique key decides, the stored answer stands."""
    def work():
        a_cart(main_session, 4)
        stored_by_another_request(store, "early")
        return 200, "late"

    assert run_once(main_session, a_request(), work) == StoredAnswer(200, "early", replayed=True)
    assert store.count(Cart) == 0
    assert [r.response_body for r in records(store)] == ["early"]


def stored_by_another_request(store, body: str) -> None:
    at = utcnow()
    with store.db() as session:
        session.add(IdempotencyRecord(scope=a_request().scope, key="key-1", fingerprint="a" * 64,
                                      state=IdempotencyState.COMPLETED, response_status=200, response_body=body,
                                      created_at=at, locked_at=at, completed_at=at))


def an_earlier_releases_claim(store, *, age: timedelta) -> None:
    """What a request of a release that committed its claim on its own left while it ran."""
    at = utcnow() - age
    with store.db() as session:
        session.add(IdempotencyRecord(scope=a_request().scope, key="key-1", fingerprint="a" * 64,
                                      state=IdempotencyState.IN_PROGRESS, created_at=at, locked_at=at))


@on_both_backends
def test_a_running_claim_of_an_earlier_release_is_409(store, main_session):
    an_earlier_releases_claim(store, age=STALE_AFTER - timedelta(seconds=10))
    with pytest.raises(IdempotencyConflict, match="still being processed"):
        run_once(main_session, a_request(), answer("{}"))
    main_session.rollback()
    assert key_state(main_session, a_request().scope, "key-1") == (IdempotencyState.IN_PROGRESS, None)


@on_both_backends
def test_a_claim_of_an_earlier_release_whose_process_died_is_taken_over(store, main_session):
    an_earlier_releases_claim(store, age=STALE_AFTER + timedelta(seconds=1))
    assert run_once(main_session, a_request(), answer('{"orderId": "o-2"}')).replayed is False
    [record] = records(store)
    assert (record.state, record.response_body) == (IdempotencyState.COMPLETED, '{"orderId": "o-2"}')


@on_postgres
def test_work_refused_because_another_request_with_the_key_did_it_answers_the_stored_answer(store, main_session):
    """Twenty retries at once on PostgreSQL: one looked before the first committed and took the
    lock after, then found the cart the first had emptied (ValidationFailed). It replays the
    first's answer instead of refusing."""
    def work():
        stored_by_another_request(store, "first")
        raise ValidationFailed("The cart is empty.")

    assert run_once(main_session, a_request(), work) == StoredAnswer(200, "first", replayed=True)


def test_refused_work_with_no_record_still_refuses(store, main_session):
    def work():
        raise ValidationFailed("The cart is empty.")

    with pytest.raises(ValidationFailed):
        run_once(main_session, a_request(), work)
    assert records(store) == []
