"""Per API client, per tenant rate limits from the plan, in Redis, across web processes."""
from __future__ import annotations

import logging

import httpx
from redis.connection import AbstractConnection

from tests.api.test_customers import BASE


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


def test_a_counted_request_costs_one_redis_round_trip(client, create_tenant, superadmin_headers, redis_conn,
                                                      monkeypatch):
    """The sliding window counter's script and nothing else: no X-RateLimit-* headers, which
    would each cost another round trip."""
    slug = create_tenant()
    headers = partner_headers(client, superadmin_headers, slug)
    assert client.get(BASE, headers=headers).status_code == 200   # loads the script; keeps store, token, client
    sent = sent_to_redis(monkeypatch)
    responses = [client.get(BASE, headers=headers) for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert not any(name.lower().startswith("x-ratelimit") for r in responses for name in r.headers.keys())
    assert len(sent) == 5


def test_an_invalid_token_logs_no_rate_limit_error(client, create_tenant, redis_conn, caplog, monkeypatch):
    """A token that fails verification is the endpoint's to refuse (401), not an error of the
    limiter: nothing is logged at ERROR, and nothing is counted."""
    slug = create_tenant()
    sent = sent_to_redis(monkeypatch)
    with caplog.at_level(logging.INFO):
        refused = client.get(BASE, headers={"X-Tenant-Slug": slug, "Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [command for command in sent if b"storefleet-rl" in bytes(b"".join(command))] == []
