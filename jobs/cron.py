"""`python -m jobs.cron`: RQ's cron scheduler with Storefleet's periodic jobs.

It only queues jobs, on the `default` queue, each once at start and then: the recovery sweep
every RECOVERY_INTERVAL_SECONDS, the purge of old idempotency records every hour. The workers
run them. One scheduler is enough for the whole deployment, and a second is harmless: the sweep
queues only jobs Redis does not hold, and a purge run twice deletes nothing more.

Redis going away does not stop it: the scheduler is started again once Redis answers (waiting
1 s, then twice as long each time, at most RECONNECT_MAX_SECONDS), and queues the sweep at once,
as at start: the moment after an outage is when lost work is most likely.
"""
from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError
from rq.cron import CronScheduler
from rq.exceptions import StopRequested

from core.config import ConfigError
from core.queues import DEFAULT, redis_client
from jobs.maintenance import purge_idempotency_records_job, requeue_lost_jobs_job
from storefleet.app import create_app

PURGE_INTERVAL_SECONDS = 3600
RECONNECT_MAX_SECONDS = 30

log = logging.getLogger(__name__)


def build_scheduler(app) -> CronScheduler:
    with app.app_context():
        scheduler = CronScheduler(connection=redis_client(), logging_level=logging.INFO)
    # The sweep's answer is small and only of interest for a while: kept an hour.
    scheduler.register(requeue_lost_jobs_job, DEFAULT, interval=app.config["RECOVERY_INTERVAL_SECONDS"],
                       job_timeout=300, result_ttl=3600)
    scheduler.register(purge_idempotency_records_job, DEFAULT, interval=PURGE_INTERVAL_SECONDS,
                       job_timeout=600, result_ttl=24 * 3600)
    return scheduler


def run(app) -> None:
    """Run the scheduler until a signal stops it, starting it again whenever Redis fails it."""
    delay = 1.0
    while True:
        scheduler, started = build_scheduler(app), time.monotonic()
        try:
            scheduler.start()  # returns when SIGTERM or SIGINT stops it
            return
        except RedisError as exc:
            if time.monotonic() - started > RECONNECT_MAX_SECONDS:
                delay = 1.0  # it had been running: a new outage starts the waits again
            log.warning("cron: Redis failed (%s); starting again in %.0f s", exc, delay)
        try:
            time.sleep(delay)  # the scheduler's own signal handlers still stop it here
        except (StopRequested, KeyboardInterrupt):
            return
        delay = min(delay * 2, RECONNECT_MAX_SECONDS)


def main() -> int:
    try:
        app = create_app()
    except ConfigError as error:
        raise SystemExit(f"Storefleet cannot start: {error}") from None
    run(app)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
