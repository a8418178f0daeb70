"""Redis and the RQ queues. Nothing connects at import time; the client is made per app."""
from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, current_app
from redis import Redis
from rq import Queue
from rq.job import Job

PROVISIONING = "provisioning"
PURCHASES = "purchases"
DEFAULT = "default"
ALL_QUEUES = (PROVISIONING, PURCHASES, DEFAULT)

# The jobs the domain queues, by dotted name: RQ imports them in the worker, so the domain never
# imports the jobs package (which imports the domain).
PROVISION_TENANT_JOB = "jobs.provisioning.provision_tenant_job"
PROCESS_PURCHASE_JOB = "jobs.purchases.process_purchase_job"


def redis_client(app: Flask | None = None) -> Redis:
    """The Redis client of `app` (the current app by default), made on first use."""
    app = app or current_app
    client = app.extensions.get("storefleet.redis")
    if client is None:
        client = app.extensions["storefleet.redis"] = Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
        )
    return client


def queue(name: str) -> Queue:
    return Queue(name, connection=redis_client())


def _job_statuses(job_ids: Iterable[str]) -> dict[str, bytes | None]:
    """Each job's RQ status as Redis holds it (None: Redis holds no such job), in one round trip."""
    ids = list(job_ids)
    if not ids:
        return {}
    with redis_client().pipeline(transaction=False) as batch:
        for job_id in ids:
            batch.hget(Job.key_for(job_id), "status")
        return dict(zip(ids, batch.execute()))


def unsettled_jobs(job_ids: Iterable[str]) -> set[str]:
    """The ids among `job_ids` whose job will not run again by itself: missing from Redis (see
    missing_jobs), or failed, its retries used up (RQ keeps it in the failed registry for an
    operator). One round trip for all of them."""
    return {job_id for job_id, status in _job_statuses(job_ids).items() if status is None or status == b"failed"}


def count_recovery(job_id: str) -> int:
    """How many times the recovery sweep has queued `job_id` again, this one included (kept a day)."""
    key = f"storefleet:recovered:{job_id}"
    with redis_client().pipeline(transaction=True) as batch:
        batch.incr(key)
        batch.expire(key, 86400)
        count, _ = batch.execute()
    return int(count)


def missing_jobs(job_ids: Iterable[str]) -> set[str]:
    """The ids among `job_ids` whose job Redis does not hold: never queued (a crash between a
    commit and its enqueue), or lost with Redis's data. One round trip for all of them. A job
    that is queued, running, finished or failed is not missing: RQ retries or keeps those."""
    return {job_id for job_id, status in _job_statuses(job_ids).items() if status is None}