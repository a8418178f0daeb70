"""core.idempotency.services on a real tenant database: claim, replay, conflict, takeover, release."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from core.cart.models import Cart
from core.columns import utcnow
from core.errors import IdempotencyConflict, InsufficientStock
from core.idempotency.models import IdempotencyRecord, IdempotencyState
from core.idempotency.services import (Claim, IdempotentRequest, StoredAnswer, caller_scope, claim_key,
                                       complete_claim, release_claim, request_fingerprint, run_once)
from tests.support.backends import on_both_backends


@pytest.fixture
def store(shop):
    return shop()


@pytest.fixture
def main_session(store):
    """A session on the store's database that commits only when told (a request's main one)."""
    engine = create_engine(store.db_url, poolclass=NullPool)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


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


def test_claim_key_claims_a_new_key_in_its_own_transaction(store):
    claim = claim_key(store.db, a_request())
    assert isinstance(claim, Claim)
    [record] = records(store)
    assert (record.id, record.state, record.response_body) == (claim.record_id, IdempotencyState.IN_PROGRESS, None)


def test_claim_key_while_it_is_claimed_is_409(store):
    claim_key(store.db, a_request())
    with pytest.raises(IdempotencyConflict, match="still being processed"):
        claim_key(store.db, a_request())
    with pytest.raises(IdempotencyConflict, match="different request"):
        claim_key(store.db, a_request(fingerprint="b" * 64))
    assert len(records(store)) == 1


def test_a_completed_key_replays_its_answer_and_refuses_another_request(store, main_session):
    answer = run_once(main_session, store.db, a_request(), lambda: (200, '{"orderId": "o-1"}'))
    assert answer == StoredAnswer(200, '{"orderId": "o-1"}', replayed=False)

    assert claim_key(store.db, a_request()) == StoredAnswer(200, '{"orderId": "o-1"}', replayed=True)
    with pytest.raises(IdempotencyConflict, match="different request"):
        claim_key(store.db, a_request(fingerprint="b" * 64))
    [record] = records(store)
    assert record.state == IdempotencyState.COMPLETED and record.completed_at is not None


def test_keys_are_separate_per_scope_and_key(store):
    assert isinstance(claim_key(store.db, a_request("key-1")), Claim)
    assert isinstance(claim_key(store.db, a_request("key-2")), Claim)
    other = IdempotentRequest(scope=caller_scope("shop", session_id="s-2"), key="key-1", fingerprint="a" * 64)
    assert isinstance(claim_key(store.db, other), Claim)


@on_both_backends
def test_a_stale_claim_is_taken_over_and_its_first_owner_can_no_longer_complete(store, main_session):
    first = claim_key(store.db, a_request(), now=utcnow() - timedelta(minutes=6))
    second = claim_key(store.db, a_request())
    assert isinstance(second, Claim) and second.record_id == first.record_id and second.locked_at > first.locked_at

    with pytest.raises(IdempotencyConflict, match="taken over"):
        complete_claim(main_session, first, 200, "{}")
    main_session.rollback()
    release_claim(store.db, first)  # the old owner's release does not remove the new claim
    assert [r.state for r in records(store)] == [IdempotencyState.IN_PROGRESS]

    complete_claim(main_session, second, 200, '{"orderId": "o-2"}')
    main_session.commit()
    assert claim_key(store.db, a_request()).body == '{"orderId": "o-2"}'


def test_a_fresh_claim_is_not_taken_over(store):
    claim_key(store.db, a_request(), now=utcnow() - timedelta(minutes=4))
    with pytest.raises(IdempotencyConflict):
        claim_key(store.db, a_request())


def test_run_once_commits_the_work_with_the_answer(store, main_session):
    def work():
        main_session.add(Cart(session_id="00000000-0000-4000-8000-000000000001"))
        main_session.flush()
        return 200, "{}"

    run_once(main_session, store.db, a_request(), work)
    assert store.count(Cart) == 1


def test_run_once_rolls_back_failed_work_and_releases_the_claim(store, main_session):
    def work():
        main_session.add(Cart(session_id="00000000-0000-4000-8000-000000000002"))
        main_session.flush()
        raise InsufficientStock("Not enough stock.")

    with pytest.raises(InsufficientStock):
        run_once(main_session, store.db, a_request(), work)
    assert store.count(Cart) == 0 and records(store) == []
    # The key is free again: the retry runs.
    assert run_once(main_session, store.db, a_request(), lambda: (200, "{}")).replayed is False


def test_run_once_replays_without_running_the_work(store, main_session):
    calls = []

    def work():
        calls.append(1)
        return 200, '{"n": 1}'

    run_once(main_session, store.db, a_request(), work)
    assert run_once(main_session, store.db, a_request(), work) == StoredAnswer(200, '{"n": 1}', replayed=True)
    assert calls == [1]
    with store.db() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1
