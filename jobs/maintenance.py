"""Maintenance jobs, queued by the cron scheduler (`python -m jobs.cron`) on the `default` queue."""
from __future__ import annotations

from jobs import job_context


def requeue_lost_jobs_job() -> dict:
    """The recovery sweep (core.recovery): queue again the purchase and provisioning jobs Redis
    lost. Returns what it queued, kept as the job's result."""
    with job_context():
        from dataclasses import asdict

        from core.recovery import requeue_lost_jobs

        return asdict(requeue_lost_jobs())


def purge_idempotency_records_job() -> dict:
    """Delete every store's Idempotency-Key records older than IDEMPOTENCY_RETENTION_HOURS.
    Returns {slug: records deleted} of the stores that had any, and the stores it could not reach."""
    with job_context() as app:
        from datetime import timedelta

        from core.idempotency.services import purge_records
        from core.tenancy.base import utcnow
        from core.tenancy.stores import visit_stores

        before = utcnow() - timedelta(hours=app.config["IDEMPOTENCY_RETENTION_HOURS"])
        purged, unreachable = visit_stores(lambda session: purge_records(session, before), write=True)
        return {"purged": {slug: count for slug, count in purged.items() if count}, "unreachable": unreachable}
