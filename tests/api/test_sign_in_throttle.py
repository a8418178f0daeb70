"""Sign-in throttling (core.auth.throttle) through /auth/token: failures slow the guesser down,
by account from an address and by address, with back-off; no stranger can lock an owner out; an
unknown account is answered exactly as a known one; the endpoint takes at most
AUTH_TOKEN_REQUESTS_PER_MINUTE requests a minute from one address. Behind the proxy
(PROXY_COUNT=1) the address is the one X-Forwarded-For gives."""
from __future__ import annotations

import uuid

from core.auth import throttle
from tests.conftest import SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD

GUESSER, OWNER = "203.0.113.7", "198.51.100.20"


def password_grant(client, username: str, password: str, address: str, **headers):
    return client.post("/auth/token", json={"grant_type": "password", "username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def fail(client, username: str, times: int, address: str = GUESSER) -> None:
    for _ in range(times):
        assert password_grant(client, username, "wrong-password", address).status_code == 401


def test_failures_make_the_guessing_address_wait_for_that_account_while_its_owner_signs_in(client):
    fail(client, SUPERADMIN_EMAIL, throttle.PAIR.free + 1)
    refused = password_grant(client, SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD, GUESSER)  # even the right password
    assert refused.status_code == 429
    assert refused.get_json()["detail"] == f"Too many sign-in attempts; try again in {throttle.PAIR.first} seconds."
    assert 1 <= int(refused.headers["Retry-After"]) <= throttle.PAIR.first
    # The owner, from elsewhere, is not locked out by the stranger.
    assert password_grant(client, SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD, OWNER).status_code == 200


def test_an_unknown_account_is_throttled_exactly_as_a_known_one(client):
    unknown = f"{uuid.uuid4().hex[:8]}@example.com"
    for account in (SUPERADMIN_EMAIL, unknown):
        fail(client, account, throttle.PAIR.free + 1)
    known_answer = password_grant(client, SUPERADMIN_EMAIL, "wrong-password", GUESSER)
    unknown_answer = password_grant(client, unknown, "wrong-password", GUESSER)
    assert known_answer.status_code == unknown_answer.status_code == 429
    assert known_answer.get_json()["detail"] == unknown_answer.get_json()["detail"]


def test_a_refused_attempt_does_not_count_and_the_wait_doubles_with_each_failure(client, app, redis_conn):
    fail(client, SUPERADMIN_EMAIL, throttle.PAIR.free + 1)
    assert password_grant(client, SUPERADMIN_EMAIL, "wrong-password", GUESSER).status_code == 429
    with app.app_context():
        failures, wait = throttle._keys(throttle.PAIR, throttle._counters(SUPERADMIN_EMAIL, GUESSER)[0][1])
    assert int(redis_conn.get(failures)) == throttle.PAIR.free + 1   # the refused attempt was not counted
    redis_conn.delete(wait)                                          # the wait is over
    fail(client, SUPERADMIN_EMAIL, 1)
    assert throttle.PAIR.first < redis_conn.ttl(wait) <= 2 * throttle.PAIR.first


def test_a_success_forgives_the_account_its_failures(client):
    fail(client, SUPERADMIN_EMAIL, throttle.PAIR.free)
    assert password_grant(client, SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD, GUESSER).status_code == 200
    fail(client, SUPERADMIN_EMAIL, throttle.PAIR.free)   # counted from zero again: no wait yet


def test_an_address_spraying_many_accounts_waits_for_every_account(client):
    for _ in range(throttle.ADDRESS.free + 1):
        fail(client, f"{uuid.uuid4().hex[:8]}@example.com", 1)
    fresh = f"{uuid.uuid4().hex[:8]}@example.com"
    assert password_grant(client, fresh, "wrong-password", GUESSER).status_code == 429
    assert password_grant(client, fresh, "wrong-password", OWNER).status_code == 401


def test_client_secrets_are_throttled_as_passwords_are(client, store):
    credentials = store.credentials("partner")
    for _ in range(throttle.PAIR.free + 1):
        wrong = client.post("/auth/token", data={"grant_type": "client_credentials", "client_id": credentials["clientId"],
                                                 "client_secret": "wrong"}, environ_base={"REMOTE_ADDR": GUESSER})
        assert wrong.status_code == 401
    right = {"grant_type": "client_credentials", "client_id": credentials["clientId"],
             "client_secret": credentials["clientSecret"]}
    assert client.post("/auth/token", data=right, environ_base={"REMOTE_ADDR": GUESSER}).status_code == 429
    assert client.post("/auth/token", data=right, environ_base={"REMOTE_ADDR": OWNER}).status_code == 200


def test_the_token_endpoint_takes_a_bounded_number_of_requests_a_minute_from_one_address(make_app):
    app = make_app(AUTH_TOKEN_REQUESTS_PER_MINUTE=3)
    client = app.test_client()
    answers = [password_grant(client, SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD, GUESSER) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert password_grant(client, SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD, OWNER).status_code == 200


def test_behind_the_proxy_the_address_is_the_forwarded_one(make_app):
    client = make_app(PROXY_COUNT=1).test_client()
    proxy = "127.0.0.1"
    for _ in range(throttle.PAIR.free + 1):
        assert password_grant(client, SUPERADMIN_EMAIL, "wrong", proxy, **{"X-Forwarded-For": GUESSER}).status_code == 401
    assert password_grant(client, SUPERADMIN_EMAIL, "wrong", proxy, **{"X-Forwarded-For": GUESSER}).status_code == 429
    assert password_grant(client, SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD, proxy,
                          **{"X-Forwarded-For": OWNER}).status_code == 200
