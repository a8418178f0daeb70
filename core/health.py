"""Health checks of the parts every request depends on: the control database and Redis."""
from __future__ import annotations

from datetime import datetime, timezone

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.extensions import db
from core.queues import redis_client


def _check(probe) -> dict:
    try:
        probe()
    except (SQLAlchemyError, RedisError, OSError) as exc:
        return {"status": "Unhealthy", "error": type(exc).__name__}
    return {"status": "Healthy"}


def _ping_control_database() -> None:
    # On a connection of its own: a failed ping leaves the request's session untouched.
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def health_report() -> dict:
    """{"status": "Healthy"|"Unhealthy", "timestamp", "checks": {name: {"status", "error"?}}}."""
    checks = {
        "controlDatabase": _check(_ping_control_database),
        "redis": _check(lambda: redis_client().ping()),
    }
    healthy = all(check["status"] == "Healthy" for check in checks.values())
    return {
        "status": "Healthy" if healthy else "Unhealthy",
        "timestamp": datetime.now(timezone.utc),
        "checks": checks,
    }
