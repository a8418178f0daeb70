"""Redis and the RQ queues. Nothing connects at import time; the client is made per app."""
from __future__ import annotations

from flask import current_app
from redis import Redis
from rq import Queue

PROVISIONING = "provisioning"
PURCHASES = "purchases"
DEFAULT = "default"
ALL_QUEUES = (PROVISIONING, PURCHASES, DEFAULT)


def redis_client() -> Redis:
    app = current_app
    client = app.extensions.get("storefleet.redis")
    if client is None:
        client = app.extensions["storefleet.redis"] = Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
        )
    return client


def queue(name: str) -> Queue:
    return Queue(name, connection=redis_client())
