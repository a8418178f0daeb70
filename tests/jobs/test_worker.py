"""jobs.worker.StorefleetWorker: the heartbeats it leaves out never shorten the worker's life."""
from __future__ import annotations

from jobs.worker import StorefleetWorker


def test_heartbeat_after_a_job_restores_the_idle_ttl(redis_conn):
    """RQ shortens the worker's TTL to the job's timeout + 60 s while a job runs; the heartbeat
    after the job must bring it back above RQ's blocking dequeue (worker_ttl - 15 s), even though
    the worker has just sent one."""
    worker = StorefleetWorker(["purchases"], connection=redis_conn)
    worker.register_birth()
    try:
        with redis_conn.pipeline() as pipeline:  # as RQ's prepare_job_execution does
            worker.heartbeat(180, pipeline=pipeline)
            pipeline.execute()
        assert redis_conn.ttl(worker.key) <= 180
        worker.heartbeat()
        assert redis_conn.ttl(worker.key) > worker.worker_ttl - 15
    finally:
        worker.register_death()


def test_unchanged_state_is_not_rewritten_but_a_new_one_is(redis_conn):
    worker = StorefleetWorker(["purchases"], connection=redis_conn)
    worker.register_birth()
    try:
        worker.set_state("idle")
        assert redis_conn.hget(worker.key, "state") == b"idle"
        worker.set_state("busy")
        assert redis_conn.hget(worker.key, "state") == b"busy"
        redis_conn.hset(worker.key, "state", "idle")
        worker.set_state("busy")  # the worker last wrote "busy": nothing is sent
        assert redis_conn.hget(worker.key, "state") == b"idle"
    finally:
        worker.register_death()
