"""GET /health with a check per dependency; one down → 503 naming it."""
from __future__ import annotations


def test_health_is_healthy(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "Healthy"
    assert body["timestamp"].endswith("Z")
    assert body["checks"] == {"controlDatabase": {"status": "Healthy"}, "redis": {"status": "Healthy"}}


def test_redis_down_is_503_naming_redis(make_app, tmp_path):
    app = make_app(REDIS_URL=f"unix://{tmp_path / 'no-redis.sock'}")
    response = app.test_client().get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "Unhealthy"
    assert body["checks"]["redis"]["status"] == "Unhealthy"
    assert body["checks"]["controlDatabase"]["status"] == "Healthy"


def test_control_database_down_is_503_naming_it(make_app, tmp_path):
    missing = tmp_path / "no-such-dir" / "control.db"
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing}")
    response = app.test_client().get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["controlDatabase"]["status"] == "Unhealthy"
    assert body["checks"]["redis"]["status"] == "Healthy"
