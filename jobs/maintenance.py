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
