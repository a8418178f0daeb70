"""Maintenance jobs, queued by the cron scheduler (`python -m jobs.cron`) on the `default` queue."""
from __future__ import annotations

from dataclasses import asdict

from core.idempotency.services import purge_expired_records
from core.recovery import requeue_lost_jobs
from jobs import job_context


def requeue_lost_jobs_job() -> dict:
    """The recovery sweep (core.recovery): queue again the purchase and provisioning jobs Redis
    lost. Returns what it queued, kept as the job's result."""
    with job_context():
        return asdict(requeue_lost_jobs())


def purge_idempotency_records_job() -> dict:
    """Delete every store's Idempotency-Key records older than IDEMPOTENCY_RETENTION_HOURS
    (core.idempotency.services.purge_expired_records). Returns {slug: records deleted} of the
    stores that had any, and the stores it could not reach."""
    with job_context():
        purged, unreachable = purge_expired_records()
        return {"purged": purged, "unreachable": unreachable}
