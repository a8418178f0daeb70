"""Recovery of work whose job Redis no longer holds.

A PENDING purchase is committed before its orchestrator job is queued, and a Queued tenant
before its provisioning job: a process that dies between the two, or a Redis that loses its
data (one without persistence, restarted), leaves a row waiting for a job that does not exist.
The sweep finds such rows — older than a grace period, their job missing from Redis — and
queues the job again. It never makes anything run twice: both jobs do nothing for a row that
is no longer waiting, so a job queued by the sweep beside one that did exist after all only
finds the work done. A job that is queued or running is left to RQ, but one whose worker died
is handed back to RQ's retries as soon as its heartbeat has expired, not after RQ's 10-minute
maintenance.

A customer made inactive or deleted has its API clients revoked by the same request, in the
control database after the store's commit; should that follow-up be lost, the sweep revokes
them (core.customers.services.revoke_lapsed_clients).

A purchase's job that failed after its retries (its database was down for longer than they
waited, say) is settled too: queued again, up to MAX_RECOVERIES times, then the purchase ends
FAILED with the reason in its message, nothing reserved (the orchestrator's work is one
transaction, so a failed run left nothing behind). No purchase stays PENDING for good.

`python -m jobs.cron` runs the sweep every RECOVERY_INTERVAL_SECONDS; `flask requeue-lost-jobs`
runs it once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from rq.registry import FailedJobRegistry, StartedJobRegistry

from core.columns import utcnow
from core.customers.services import revoke_lapsed_clients
from core.extensions import db
from core.purchases.models import PurchaseStatus
from core.purchases.services import enqueue_processing, pending_purchase_ids, purchase_job_id, reject_purchase
from core.queues import PROVISIONING, PURCHASES, count_recovery, missing_jobs, redis_client, unsettled_jobs
from core.tenancy.models import Tenant
from core.tenancy.provisioning import enqueue_provisioning, provisioning_job_id, stalled_tenant_ids
from core.tenancy.stores import visit_stores

log = logging.getLogger(__name__)

# Purchases looked at per tenant and sweep: a backlog larger than this is recovered over several.
PURCHASES_PER_SWEEP = 1000
# How many times the sweep queues a purchase's failed or lost job again before ending it FAILED.
MAX_RECOVERIES = 3


@dataclass
class Recovered:
    """What one sweep queued again, and the tenants it could not look into."""

    tenants: list[str] = field(default_factory=list)  # slugs whose provisioning job was queued again
    purchases: dict[str, int] = field(default_factory=dict)  # slug → purchases whose job was queued again
    unreachable: list[str] = field(default_factory=list)  # slugs whose database could not be read
    failed: int = 0  # purchases ended FAILED after MAX_RECOVERIES
    revoked: int = 0  # clients of customers no longer active, revoked (customers.revoke_lapsed_clients)


def requeue_lost_jobs(grace: timedelta | None = None) -> Recovered:
    """Queue again the provisioning and purchase jobs that Redis lost (see the module's doc):
    only for rows older than `grace` (default RECOVERY_GRACE_SECONDS), so a job that is
    being queued right now is never taken for lost. A tenant whose database cannot be read is
    reported and skipped; the others are still swept."""
    if grace is None:
        grace = timedelta(seconds=current_app.config["RECOVERY_GRACE_SECONDS"])
    before = utcnow() - grace
    recovered = Recovered()
    # A job whose worker died stays "started" until its heartbeat expires (90 s); RQ's own
    # maintenance looks for such jobs every 10 minutes, the sweep every RECOVERY_INTERVAL_SECONDS:
    # each is retried (or, its retries used up, failed, which the sweep settles below).
    for name in (PROVISIONING, PURCHASES):
        StartedJobRegistry(name, connection=redis_client()).cleanup()

    stalled = stalled_tenant_ids(before)
    lost = missing_jobs(provisioning_job_id(tenant_id) for tenant_id in stalled)
    for tenant_id in stalled:
        if provisioning_job_id(tenant_id) in lost:
            enqueue_provisioning(tenant_id)
            recovered.tenants.append(db.session.get(Tenant, tenant_id).slug)

    def waiting_purchases(session):
        return pending_purchase_ids(session, before, PURCHASES_PER_SWEEP)

    waiting, recovered.unreachable = visit_stores(waiting_purchases)
    given_up: list[str] = []
    for slug, purchase_ids in waiting.items():
        unsettled = unsettled_jobs(purchase_job_id(slug, purchase_id) for purchase_id in purchase_ids)
        enqueue = enqueue_processing(slug)
        failed = FailedJobRegistry(PURCHASES, connection=redis_client())
        for purchase_id in purchase_ids:
            job_id = purchase_job_id(slug, purchase_id)
            if job_id not in unsettled:
                continue
            if count_recovery(job_id) > MAX_RECOVERIES:
                given_up.append(purchase_id)
                continue
            failed.remove(job_id)  # the job is queued again under its id
            enqueue(purchase_id)
            recovered.purchases[slug] = recovered.purchases.get(slug, 0) + 1
    if given_up:
        recovered.failed = sum(visit_stores(lambda session: _give_up(session, given_up), write=True)[0].values())
    recovered.revoked, unreachable = revoke_lapsed_clients()
    recovered.unreachable += [slug for slug in unreachable if slug not in recovered.unreachable]
    for slug in recovered.tenants:
        log.warning("recovery: provisioning job of tenant %s was lost; queued again", slug)
    for slug, count in recovered.purchases.items():
        log.warning("recovery: %d purchase job(s) of tenant %s were lost or failed; queued again", count, slug)
    if recovered.revoked:
        log.warning("recovery: %d API client(s) of customers no longer active were still valid; revoked",
                    recovered.revoked)
    if recovered.failed:
        log.warning("recovery: %d purchase(s) failed after %d recoveries; ended FAILED", recovered.failed,
                    MAX_RECOVERIES)
    return recovered


def _give_up(session, purchase_ids: list[str]) -> int:
    """End FAILED those of `purchase_ids` that are this store's and still PENDING."""
    reason = f"it failed again after being queued {MAX_RECOVERIES} more times; nothing was reserved."
    return sum(reject_purchase(session, purchase_id, reason) == PurchaseStatus.FAILED for purchase_id in purchase_ids)
