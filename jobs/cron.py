"""`python -m jobs.cron`: RQ's cron scheduler with Storefleet's periodic jobs.

It only queues jobs, on the `default` queue, each once at start and then: the recovery sweep
every RECOVERY_INTERVAL_SECONDS, the purge of old idempotency records every hour. The workers
run them. One scheduler is enough for the whole deployment, and a second is harmless: the sweep
queues only jobs Redis does not hold, and a purge run twice deletes nothing more.
"""
from __future__ import annotations

import logging

from rq.cron import CronScheduler

from core.config import ConfigError
from core.queues import DEFAULT, redis_client
from jobs.maintenance import purge_idempotency_records_job, requeue_lost_jobs_job
from storefleet.app import create_app

PURGE_INTERVAL_SECONDS = 3600


def build_scheduler(app) -> CronScheduler:
    with app.app_context():
        scheduler = CronScheduler(connection=redis_client(), logging_level=logging.INFO)
    # The sweep's answer is small and only of interest for a while: kept an hour.
    scheduler.register(requeue_lost_jobs_job, DEFAULT, interval=app.config["RECOVERY_INTERVAL_SECONDS"],
                       job_timeout=300, result_ttl=3600)
    scheduler.register(purge_idempotency_records_job, DEFAULT, interval=PURGE_INTERVAL_SECONDS,
                       job_timeout=600, result_ttl=24 * 3600)
    return scheduler


def main() -> int:
    try:
        app = create_app()
    except ConfigError as error:
        raise SystemExit(f"Storefleet cannot start: {error}") from None
    build_scheduler(app).start()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
