"""RQ entry points. Jobs are plain functions that take ids, reload rows and call the domain
services; each is safe to run twice."""
from __future__ import annotations

from contextlib import contextmanager

from flask import current_app, has_app_context

_app = None


@contextmanager
def job_context():
    """The app context a job runs in: the caller's when there is one (tests run jobs inline),
    else one app per worker process, with a fresh database session per job."""
    global _app
    if has_app_context():
        yield current_app
        return
    if _app is None:
        from core.app import create_app

        _app = create_app()
    with _app.app_context():
        from core.extensions import db

        try:
            yield _app
        finally:
            db.session.remove()
