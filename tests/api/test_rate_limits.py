"""Per API client, per tenant rate limits from the plan, in Redis, across web processes."""
from __future__ import annotations

import logging

import httpx
import pytest
from limits import RateLimitItemPerMinute
from redis.connection import AbstractConnection

from tests.api.test_customers import BASE
from tests.support.clock import Clock
from web.ratelimit import LEASE_SECONDS, RateLimits, storage_uri


def partner_headers(client, superadmin_headers, slug: str) -> dict:
    creds = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=superadmin_headers,
                        json={"name": "p", "role": "partner"}).get_json()
    token = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                              "client_secret": creds["clientSecret"]}).get_json()["access_token"]
    return {"Authorization": f"Bearer {token}", "X-Tenant-Slug": slug}


def test_limit_from_plan_override_gives_429_problem_with_retry_after(client, create_tenant, superadmin_headers,
                                                                     redis_conn):
    slug = create_tenant()
    client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers,
                 json={"limits": {"apiRequestsPerMinute": 3}})
    headers = partner_headers(client, superadmin_headers, slug)
    statuses = [client.get(BASE, headers=headers).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    limited = client.get(BASE, headers=headers)
    assert limited.mimetype == "application/problem+json"
    assert limited.get_json()["status"] == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 60


def test_limits_are_per_client(client, create_tenant, superadmin_headers, redis_conn):
    slug = create_tenant()
    client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers,
                 json={"limits": {"apiRequestsPerMinute": 2}})
    first, second = (partner_headers(client, superadmin_headers, slug) for _ in range(2))
    assert [client.get(BASE, headers=first).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(BASE, headers=second).status_code == 200


def test_anonymous_calls_are_not_counted(client, create_tenant, superadmin_headers, redis_conn):
    slug = create_tenant()
    client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers,
                 json={"limits": {"apiRequestsPerMinute": 1}})
    assert {client.get("/api/features", headers={"X-Tenant-Slug": slug}).status_code for _ in range(4)} == {200}


def test_limit_holds_across_web_processes(app, client, create_tenant, superadmin_headers, redis_conn, live_server):
    slug = create_tenant()
    client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers,
                 json={"limits": {"apiRequestsPerMinute": 6}})
    headers = partner_headers(client, superadmin_headers, slug)
    server = live_server(app, workers=3)
    statuses = []
    # A new connection per request, so the requests spread over gunicorn's worker processes.
    for _ in range(12):
        response = httpx.get(f"{server.url}{BASE}", headers=headers, timeout=10)
        statuses.append(response.status_code)
    assert statuses.count(200) == 6 and statuses.count(429) == 6, statuses
    assert statuses[:6] == [200] * 6


def sent_to_redis(monkeypatch) -> list:
    """Every request this process sends to any Redis from now on (a pipeline is one)."""
    sent = []
    original = AbstractConnection.send_packed_command

    def send_packed_command(connection, command, *args, **kwargs):
        sent.append(command)
        return original(connection, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", send_packed_command)
    return sent


def test_a_client_calling_fast_shares_round_trips_and_every_request_was_counted_first(
        client, create_tenant, superadmin_headers, redis_conn, monkeypatch):
    """A lease counts several requests in one round trip (web.ratelimit); no X-RateLimit-*
    headers, which would each cost another."""
    slug = create_tenant()
    headers = partner_headers(client, superadmin_headers, slug)
    assert client.get(BASE, headers=headers).status_code == 200   # loads the script; keeps store, token, client
    sent = sent_to_redis(monkeypatch)
    responses = [client.get(BASE, headers=headers) for _ in range(30)]
    assert [r.status_code for r in responses] == [200] * 30
    assert not any(name.lower().startswith("x-ratelimit") for r in responses for name in r.headers.keys())
    limiter_trips = [command for command in sent if b"storefleet-rl" in bytes(b"".join(command))]
    assert 1 <= len(limiter_trips) <= 10, len(limiter_trips)
    assert len(sent) == len(limiter_trips)   # nothing else: the store, token and client are kept


@pytest.fixture
def limits(app, redis_conn):
    """A process's RateLimits on the app's Redis, on a clock the test moves."""
    clock = Clock()
    rate_limits = RateLimits(storage_uri(app.config["REDIS_URL"]), "storefleet-rl", clock=clock)
    return rate_limits, clock


def counted(redis_conn, limits_, subject: str, per_minute: int) -> int:
    stats = limits_.limiter.get_window_stats(RateLimitItemPerMinute(per_minute), "shop", subject)
    return per_minute - stats.remaining


def test_a_slow_client_leases_one_request_at_a_time_and_gets_exactly_its_limit(limits, redis_conn, monkeypatch):
    rate_limits, clock = limits
    sent = sent_to_redis(monkeypatch)
    answers = []
    for _ in range(8):
        clock.now += 2 * LEASE_SECONDS
        answers.append(rate_limits.admit("shop", "slow", 6))
    assert answers[:6] == [None] * 6 and all(0 < seconds <= 60 for seconds in answers[6:])
    assert counted(redis_conn, rate_limits, "slow", 6) == 6
    assert len([c for c in sent if b"storefleet-rl" in bytes(b"".join(c))]) >= 8   # one (or two) a request


def test_a_fast_client_in_one_process_gets_exactly_its_limit_in_few_round_trips(limits, redis_conn, monkeypatch):
    rate_limits, clock = limits
    sent = sent_to_redis(monkeypatch)
    answers = []
    for _ in range(1200):
        clock.now += 0.0005
        answers.append(rate_limits.admit("shop", "fast", 1000))
    assert answers.count(None) == 1000 and answers[:1000] == [None] * 1000
    assert counted(redis_conn, rate_limits, "fast", 1000) == 1000
    assert len([c for c in sent if b"storefleet-rl" in bytes(b"".join(c))]) < 1200 / 5


def test_a_lease_is_used_within_a_second_of_being_counted(limits, redis_conn):
    """What a lease held when its client slowed down is dropped, not let through later."""
    rate_limits, clock = limits
    for _ in range(50):
        clock.now += 0.001
        assert rate_limits.admit("shop", "bursty", 1000) is None
    before = counted(redis_conn, rate_limits, "bursty", 1000)
    assert before > 50   # the last lease holds requests not yet let through
    clock.now += LEASE_SECONDS
    assert rate_limits.admit("shop", "bursty", 1000) is None
    assert counted(redis_conn, rate_limits, "bursty", 1000) == before + 1   # a new lease of one


def test_without_redis_the_limits_lapse_with_one_warning(app, caplog):
    rate_limits = RateLimits("redis://127.0.0.1:1", "storefleet-rl")
    with caplog.at_level(logging.WARNING):
        assert [rate_limits.admit("shop", "c", 1) for _ in range(3)] == [None] * 3
    warnings = [r for r in caplog.records if "Rate limits lapse" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].exc_info is None


@pytest.mark.parametrize("token", ["invalid", "confirm"])
def test_a_token_that_is_no_client_s_logs_nothing_and_the_limits_still_hold(token, client, create_tenant,
                                                                           superadmin_headers, redis_conn, caplog,
                                                                           monkeypatch):
    """A token that fails verification, or a provisioning confirm token (no API client's), is the
    endpoint's to refuse, not an error of the limiter: nothing is logged above DEBUG, nothing is
    counted, and a client's calls beside them are limited as ever."""
    slug = create_tenant()
    client.patch(f"/superadmin/tenants/{slug}", headers=superadmin_headers,
                 json={"limits": {"apiRequestsPerMinute": 2}})
    partner = partner_headers(client, superadmin_headers, slug)
    bearer = "not-a-token"
    if token == "confirm":
        bearer = client.post("/provision/tenants/init", json={"slug": "confirming", "name": "C",
                                                              "plan": "Basic"}).get_json()["confirmToken"]
    sent = sent_to_redis(monkeypatch)
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        refused = [client.get(BASE, headers={"X-Tenant-Slug": slug, "Authorization": f"Bearer {bearer}"}).status_code
                   for _ in range(3)]
    assert set(refused) <= {401, 403} and len(set(refused)) == 1
    assert [(r.name, r.getMessage()) for r in caplog.records if r.levelno > logging.DEBUG] == []
    assert [command for command in sent if b"storefleet-rl" in bytes(b"".join(command))] == []
    assert [client.get(BASE, headers=partner).status_code for _ in range(3)] == [200, 200, 429]