"""Per API client, per tenant rate limits from the plan, in Redis, across web processes."""
from __future__ import annotations

import httpx

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
