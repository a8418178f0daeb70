"""`python -m jobs.worker`: an RQ worker on the Storefleet queues, for the app in the environment.

Jobs run in the worker process itself (SimpleWorker) with one app per process: no fork per job,
so database engines and the Redis client are reused from job to job.
"""
from __future__ import annotations

import argparse
import logging

from rq import SimpleWorker

from core.queues import ALL_QUEUES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("queues", nargs="*", default=list(ALL_QUEUES))
    parser.add_argument("--burst", action="store_true", help="Stop when the queues are empty.")
    parser.add_argument("--name", default=None)
    args = parser.parse_args(argv)

    import jobs
    from core.app import create_app
    from core.queues import redis_client

    app = create_app()
    jobs._app = app
    with app.app_context():
        connection = redis_client()
    # No app context is held while working: each job opens its own (jobs.job_context), so no
    # database session or transaction outlives the job that used it.
    worker = SimpleWorker(args.queues, connection=connection, name=args.name)
    logging.getLogger("rq.worker").setLevel(logging.INFO)
    worker.work(burst=args.burst, with_scheduler=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
