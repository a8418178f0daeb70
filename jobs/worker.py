"""`python -m jobs.worker`: an RQ worker on the Storefleet queues, for the app in the environment.

Jobs run in the worker process itself (SimpleWorker) with one app per process: no fork per job,
so database engines and the Redis client are reused from job to job.
"""
from __future__ import annotations

import argparse
import logging
import time

from rq import SimpleWorker
from rq.worker import WorkerStatus

from core.config import ConfigError
from core.queues import ALL_QUEUES, redis_client
from jobs import worker_app

# A worker heartbeat that already promised at least as long a life, this recently, is not sent
# again: far below the 60 s of slack RQ keeps between a heartbeat's TTL and its next one.
HEARTBEAT_REUSE_SECONDS = 1.0


class StorefleetWorker(SimpleWorker):
    """SimpleWorker with fewer Redis round trips per job; RQ's protocol is otherwise untouched.

    RQ sends the worker's own heartbeat (HSET + two EXPIREs, three round trips) up to three times
    around every job — before and after each dequeue and after the job — and writes the worker's
    state even when it has not changed. On a short job those round trips cost more than the job's
    database work. Here a heartbeat outside a pipeline goes as one pipeline, and is skipped when
    one sent less than HEARTBEAT_REUSE_SECONDS ago already keeps the worker's keys alive at least
    as long; a state equal to the one last written is not written again.

    Nothing the retry of a crashed job relies on changes: an abandoned job is found by its
    execution's score in the StartedJobRegistry, which RQ sets in its own pipelines as before,
    and the job hash, the registries and the queue are written exactly as by SimpleWorker.

    Kept because it pays: bench/purchases.py --worker rq-simple runs RQ's stock SimpleWorker in
    the same harness; side by side (1000 purchases, SQLite, three runs each) the workers spent a
    median 8.0 ms of CPU per purchase against 9.6 ms, and Redis 0.6 ms against 0.9 ms.
    """

    _alive_until = 0.0  # time.monotonic() up to which the last heartbeat keeps the worker's keys
    _heartbeat_sent = float("-inf")

    def heartbeat(self, timeout=None, pipeline=None):
        timeout = timeout or self.worker_ttl + 60
        sent = time.monotonic()
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)
        elif sent - self._heartbeat_sent < HEARTBEAT_REUSE_SECONDS and self._alive_until >= sent + timeout - 1:
            return
        else:
            with self.connection.pipeline(transaction=False) as batch:
                super().heartbeat(timeout, pipeline=batch)
                batch.execute()
        # A pipelined heartbeat counts once its pipeline runs; RQ executes those right away.
        self._heartbeat_sent, self._alive_until = sent, sent + timeout

    def set_state(self, state, pipeline=None):
        if pipeline is None and state == self._state:
            return
        super().set_state(state, pipeline=pipeline)

    def execute_job(self, job, queue):
        """SimpleWorker.execute_job, with the IDLE state and the heartbeat that RQ sends after
        every job written in one pipeline instead of two round trips."""
        execution = self.prepare_execution(job)
        self.perform_job(job, queue, execution)
        with self.connection.pipeline(transaction=False) as batch:
            self.set_state(WorkerStatus.IDLE, pipeline=batch)
            self.heartbeat(pipeline=batch)
            batch.execute()


WORKER_CLASSES = {"storefleet": StorefleetWorker, "rq-simple": SimpleWorker}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("queues", nargs="*", default=list(ALL_QUEUES))
    parser.add_argument("--burst", action="store_true", help="Stop when the queues are empty.")
    parser.add_argument("--name", default=None)
    parser.add_argument("--worker-class", choices=sorted(WORKER_CLASSES), default="storefleet",
                        help="rq-simple: RQ's stock SimpleWorker, to measure what StorefleetWorker saves")
    args = parser.parse_args(argv)

    try:
        app = worker_app()
    except ConfigError as error:
        raise SystemExit(f"Storefleet cannot start: {error}") from None
    with app.app_context():
        connection = redis_client()
    # No app context is held while working: each job opens its own (jobs.job_context), so no
    # database session or transaction outlives the job that used it.
    worker = WORKER_CLASSES[args.worker_class](args.queues, connection=connection, name=args.name)
    logging.getLogger("rq.worker").setLevel(logging.INFO)
    # The scheduler queues a failed job's retry when its back-off is over (core.purchases); one
    # worker at a time runs it (RQ elects it by a lock in Redis).
    worker.work(burst=args.burst, with_scheduler=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
