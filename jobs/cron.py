"""`python -m jobs.cron`: RQ's cron scheduler with Storefleet's periodic jobs.

It only queues jobs (the recovery sweep, on the `default` queue, every
RECOVERY_INTERVAL_SECONDS, and once at start); the workers run them. One is enough for the
whole deployment, and a second is harmless: the sweep queues only jobs Redis does not hold.
"""
from __future__ import annotations

import logging

from rq.cron import CronScheduler

from core.queues import DEFAULT


def build_scheduler(app) -> CronScheduler:
    from core.queues import redis_client
    from jobs.maintenance import requeue_lost_jobs_job

    with app.app_context():
        scheduler = CronScheduler(connection=redis_client(), logging_level=logging.INFO)
    # The sweep's answer is small and only of interest for a while: kept an hour.
    scheduler.register(requeue_lost_jobs_job, DEFAULT, interval=app.config["RECOVERY_INTERVAL_SECONDS"],
                       job_timeout=300, result_ttl=3600)
    return scheduler


def main() -> int:
    from core.app import create_app

    build_scheduler(create_app()).start()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
