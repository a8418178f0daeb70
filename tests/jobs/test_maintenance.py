"""The periodic jobs of `python -m jobs.cron`: what the scheduler registers, and the purge of
old Idempotency-Key records in every store."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text, update

from tests.support.shop import shop  # noqa: F401  (fixture)


def _records(app, slug) -> list[str]:
    with app.app_context():
        from core.tenancy.admin import get_tenant
        from core.unit_of_work import own_transaction

        with own_transaction(get_tenant(slug).db_url, write=False) as session:
            return list(session.scalars(text("SELECT key FROM idempotency_records ORDER BY key")))


def test_the_scheduler_queues_the_sweep_and_the_purge(app):
    from jobs.cron import PURGE_INTERVAL_SECONDS, build_scheduler

    jobs = {job.func_name: job for job in build_scheduler(app).get_jobs()}
    assert jobs["jobs.maintenance.requeue_lost_jobs_job"].interval == app.config["RECOVERY_INTERVAL_SECONDS"]
    assert jobs["jobs.maintenance.purge_idempotency_records_job"].interval == PURGE_INTERVAL_SECONDS
    assert {job.queue_name for job in jobs.values()} == {"default"}


def test_purge_deletes_records_past_the_retention_in_every_store(app, shop, tmp_path):
    first, second, broken = shop(), shop(), shop()
    for store, key in ((first, "old-1"), (first, "new-1"), (second, "old-2")):
        response = store.place_order(store.cart_with(("PROD002", 1)), key)
        assert response.status_code == 200, response.get_json()
    retention = timedelta(hours=app.config["IDEMPOTENCY_RETENTION_HOURS"])
    with app.app_context():
        from core.extensions import db
        from core.idempotency.models import IdempotencyRecord
        from core.tenancy.admin import get_tenant
        from core.columns import utcnow
        from core.tenancy.models import Tenant
        from core.unit_of_work import own_transaction

        for store in (first, second):
            with own_transaction(get_tenant(store.slug).db_url) as session:
                session.execute(update(IdempotencyRecord).where(IdempotencyRecord.key.like("old-%"))
                                .values(created_at=utcnow() - retention - timedelta(minutes=1)))
        db.session.execute(update(Tenant).where(Tenant.slug == broken.slug).values(
            db_url=f"sqlite:///{tmp_path / 'no-such-folder' / 'tenant.db'}"))
        db.session.commit()

        from jobs.maintenance import purge_idempotency_records_job

        result = purge_idempotency_records_job()
    assert result == {"purged": {first.slug: 1, second.slug: 1}, "unreachable": [broken.slug]}
    assert _records(app, first.slug) == ["new-1"] and _records(app, second.slug) == []
