"""RQ entry points. Jobs are plain functions that take ids, reload rows and call the domain
services, each in a unit of work of its own; each is safe to run twice."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import Flask, has_app_context

from core.extensions import db
from core.unit_of_work import UnitOfWork, unit_of_work
from storefleet.app import create_app

_app: Flask | None = None


def worker_app() -> Flask:
    """The one app of this worker process, made on first use (python -m jobs.worker makes it at
    start-up)."""
    global _app
    if _app is None:
        _app = create_app()
    return _app


@contextmanager
def job_context() -> Iterator[UnitOfWork]:
    """The unit of work a job runs in (committed when the job returns, rolled back when it
    raises), in the caller's app context when there is one (tests run jobs inline), else in the
    worker's app with a fresh database session per job."""
    if has_app_context():
        with unit_of_work() as unit:
            yield unit
        return
    with worker_app().app_context():
        try:
            with unit_of_work() as unit:
                yield unit
        finally:
            db.session.remove()
