"""Section 1 of multi-tenant-platform-api.md: init → confirm → status, over HTTP."""
from __future__ import annotations

import pytest

from tests.support.backends import on_both_backends

INIT = "/provision/tenants/init"
CONFIRM = "/provision/tenants/confirm"


def init(client, slug="my-store", name="My Awesome Store", plan="Premium"):
    return client.post(INIT, json={"slug": slug, "name": name, "plan": plan})


def queued(redis_conn) -> list[tuple]:
    """The arguments of the jobs waiting on the provisioning queue."""
    from rq import Queue

    return [job.args for job in Queue("provisioning", connection=redis_conn).jobs]


PENDING_STEPS = [("CreateDatabase", "Pending"), ("ApplyMigrations", "Pending"), ("SeedData", "Pending")]


def pending_record(name: str = "My Awesome Store", plan: str = "PREMIUM", status: str = "Pending") -> dict:
    """tenant_record (root conftest) of a store just initialised."""
    return {"name": name, "status": status, "plan": plan, "features": {}, "limits": {}, "steps": PENDING_STEPS,
            "users": [], "api_clients": []}


def test_init_returns_confirm_token_and_pending_tenant(client):
    response = init(client)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"provisioningId", "confirmToken", "next", "message"}
    assert body["next"] == "/provision/tenants/confirm"
    status = client.get(f"/provision/tenants/{body['provisioningId']}/status").get_json()
    assert status["status"] == "Pending"
    assert status["tenantSlug"] is None and status["dbName"] is None
    assert [s["step"] for s in status["steps"]] == ["CreateDatabase", "ApplyMigrations", "SeedData"]
    assert {s["status"] for s in status["steps"]} == {"Pending"}


@pytest.mark.parametrize("slug", ["ab", "My-Store", "-store", "store-", "my--store", "my_store", "a" * 64, "shop!"])
def test_init_refuses_bad_slug(client, tenant_slugs, slug):
    response = init(client, slug=slug)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "slug" in response.get_json()["errors"]
    assert tenant_slugs() == set()


@pytest.mark.parametrize("slug", ["admin", "api", "www", "static", "auth"])
def test_init_refuses_reserved_slug(client, tenant_slugs, slug):
    response = init(client, slug=slug)
    assert response.status_code == 400
    assert "reserved" in response.get_json()["errors"]["slug"][0]
    assert tenant_slugs() == set()


def test_init_refuses_unknown_plan(client, tenant_slugs):
    response = init(client, plan="Gold")
    assert response.status_code == 400
    assert "plan" in response.get_json()["errors"]
    assert tenant_slugs() == set()


def test_init_accepts_plan_case_insensitively(client, tenant_record):
    assert init(client, plan="enterprise").status_code == 200
    assert tenant_record("my-store") == pending_record(plan="ENTERPRISE")


def test_init_duplicate_slug_is_409(client, tenant_record, tenant_slugs):
    assert init(client).status_code == 200
    response = init(client, name="Usurper", plan="Basic")
    assert response.status_code == 409
    assert response.get_json()["title"] == "Conflict"
    assert tenant_slugs() == {"my-store"}
    assert tenant_record("my-store") == pending_record()


def backdate_tenant(app, provisioning_id: str, **delta) -> None:
    from datetime import timedelta

    from core.extensions import db
    from core.columns import utcnow
    from core.tenancy.models import Tenant

    with app.app_context():
        db.session.execute(db.update(Tenant).where(Tenant.id == provisioning_id)
                           .values(created_at=utcnow() - timedelta(**delta)))
        db.session.commit()


@on_both_backends
def test_a_slug_never_confirmed_is_free_again_once_its_token_expired(app, client, redis_conn, tenant_record):
    """The release compares timestamps in the database (timestamptz on PostgreSQL) and deletes
    the old tenant's steps with it."""
    ttl = app.config["CONFIRM_TOKEN_TTL_SECONDS"]
    first = init(client).get_json()
    backdate_tenant(app, first["provisioningId"], seconds=ttl - 30)
    assert init(client, name="Too Soon").status_code == 409  # its token can still be used
    assert tenant_record("my-store") == pending_record()

    backdate_tenant(app, first["provisioningId"], seconds=ttl + 1)
    second = init(client, name="Second Try")
    assert second.status_code == 200
    second = second.get_json()
    assert client.get(f"/provision/tenants/{first['provisioningId']}/status").status_code == 404
    status = client.get(f"/provision/tenants/{second['provisioningId']}/status").get_json()
    assert status["status"] == "Pending" and len(status["steps"]) == 3
    assert tenant_record("my-store") == pending_record("Second Try")
    with app.app_context():
        from core.extensions import db
        from core.tenancy.models import ProvisioningStep

        assert db.session.scalar(db.select(db.func.count()).select_from(ProvisioningStep)) == 3  # none left over
    confirmed = client.post(CONFIRM, headers={"Authorization": f"Bearer {second['confirmToken']}"})
    assert confirmed.status_code == 200
    assert queued(redis_conn) == [(second["provisioningId"],)]
    # The first, expired, token confirms nothing now.
    assert client.post(CONFIRM, headers={"Authorization": f"Bearer {first['confirmToken']}"}).status_code == 404
    assert queued(redis_conn) == [(second["provisioningId"],)]


def test_a_confirmed_tenant_keeps_its_slug_however_old(app, client, redis_conn, tenant_record):
    first = init(client).get_json()
    assert client.post(CONFIRM, headers={"Authorization": f"Bearer {first['confirmToken']}"}).status_code == 200
    backdate_tenant(app, first["provisioningId"], days=30)
    assert init(client, name="Newcomer").status_code == 409
    assert tenant_record("my-store") == pending_record(status="Queued")
    assert queued(redis_conn) == [(first["provisioningId"],)]


def test_init_missing_fields_lists_each(client, tenant_slugs):
    response = client.post(INIT, json={})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"slug", "name", "plan"}
    assert tenant_slugs() == set()


def test_confirm_queues_the_job_and_refuses_reuse(client, redis_conn):
    body = init(client).get_json()
    headers = {"Authorization": f"Bearer {body['confirmToken']}"}
    response = client.post(CONFIRM, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {
        "provisioningId": body["provisioningId"],
        "status": "QUEUED",
        "message": "Provisioning confirmed and queued for processing",
        "statusEndpoint": f"/provision/tenants/{body['provisioningId']}/status",
    }
    from rq import Queue

    queued = Queue("provisioning", connection=redis_conn).jobs
    assert [job.args for job in queued] == [(body["provisioningId"],)]
    assert client.get(response.get_json()["statusEndpoint"]).get_json()["status"] == "Queued"

    again = client.post(CONFIRM, headers=headers)
    assert again.status_code == 401
    assert len(Queue("provisioning", connection=redis_conn).jobs) == 1


def test_confirm_without_token_is_401(client, redis_conn, tenant_record):
    init(client)
    assert client.post(CONFIRM).status_code == 401
    assert tenant_record("my-store") == pending_record()
    assert queued(redis_conn) == []


def test_confirm_with_garbage_token_is_401(client, redis_conn, tenant_record):
    init(client)
    assert client.post(CONFIRM, headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401
    assert tenant_record("my-store") == pending_record()
    assert queued(redis_conn) == []


def test_confirm_with_expired_token_is_401(make_app, redis_conn):
    app = make_app(CONFIRM_TOKEN_TTL_SECONDS=-60)
    client = app.test_client()
    body = init(client).get_json()
    response = client.post(CONFIRM, headers={"Authorization": f"Bearer {body['confirmToken']}"})
    assert response.status_code == 401
    assert "expired" in response.get_json()["detail"]
    assert client.get(f"/provision/tenants/{body['provisioningId']}/status").get_json()["status"] == "Pending"
    assert queued(redis_conn) == []


def test_confirm_with_access_token_is_401(client, superadmin_headers, redis_conn, tenant_record):
    init(client)
    assert client.post(CONFIRM, headers=superadmin_headers).status_code == 401
    assert tenant_record("my-store") == pending_record()
    assert queued(redis_conn) == []


def test_confirm_token_is_not_an_access_token(client, tenant_slugs):
    token = init(client).get_json()["confirmToken"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/superadmin/tenants", headers=headers).status_code == 401
    created = client.post("/superadmin/tenants", headers=headers, json={"slug": "by-confirm", "name": "X",
                                                                         "planCode": "BASIC"})
    assert created.status_code == 401
    assert tenant_slugs() == {"my-store"}


def test_confirm_of_deleted_tenant_is_404(client, app, redis_conn, tenant_slugs):
    body = init(client).get_json()
    with app.app_context():
        from core.extensions import db
        from core.tenancy.models import Tenant

        db.session.delete(db.session.get(Tenant, body["provisioningId"]))
        db.session.commit()
    response = client.post(CONFIRM, headers={"Authorization": f"Bearer {body['confirmToken']}"})
    assert response.status_code == 404
    assert tenant_slugs() == set()
    assert queued(redis_conn) == []


def test_confirm_of_tenant_not_pending_is_400(client, app, redis_conn, tenant_record):
    body = init(client).get_json()
    with app.app_context():
        from core.extensions import db
        from core.tenancy.models import Tenant

        db.session.get(Tenant, body["provisioningId"]).status = "Failed"
        db.session.commit()
    response = client.post(CONFIRM, headers={"Authorization": f"Bearer {body['confirmToken']}"})
    assert response.status_code == 400
    assert tenant_record("my-store")["status"] == "Failed"
    assert queued(redis_conn) == []


def test_confirm_with_redis_down_is_503_and_token_still_usable(make_app, tmp_path, redis_conn):
    app = make_app(REDIS_URL=f"unix://{tmp_path / 'nothing-listens-here.sock'}")
    client = app.test_client()
    body = init(client).get_json()
    headers = {"Authorization": f"Bearer {body['confirmToken']}"}
    response = client.post(CONFIRM, headers=headers)
    assert response.status_code == 503
    status = client.get(f"/provision/tenants/{body['provisioningId']}/status").get_json()
    assert status["status"] == "Pending"
    # Redis is back (an app on the same data with a Redis that answers): the same token confirms.
    restored = make_app(app.config["DATA_DIR"]).test_client()
    assert restored.post(CONFIRM, headers=headers).status_code == 200
    assert restored.get(f"/provision/tenants/{body['provisioningId']}/status").get_json()["status"] == "Queued"
    assert queued(redis_conn) == [(body["provisioningId"],)]


def test_status_of_unknown_tenant_is_404(client):
    response = client.get("/provision/tenants/00000000-0000-4000-8000-000000000000/status")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
