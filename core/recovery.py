"""Recovery of work whose job Redis no longer holds.

A PENDING purchase is committed before its orchestrator job is queued, and a Queued tenant
before its provisioning job: a process that dies between the two, or a Redis that loses its
data (one without persistence, restarted), leaves a row waiting for a job that does not exist.
The sweep finds such rows — older than a grace period, their job missing from Redis — and
queues the job again. It never makes anything run twice: both jobs do nothing for a row that
is no longer waiting, so a job queued by the sweep beside one that did exist after all only
finds the work done. A job that is queued, running, or failed after its retries (RQ's failed
registry, for an operator: `rq requeue`) is left to RQ.

`python -m jobs.cron` runs the sweep every RECOVERY_INTERVAL_SECONDS; `flask requeue-lost-jobs`
runs it once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app

from core.columns import utcnow
from core.extensions import db
from core.purchases.services import enqueue_processing, pending_purchase_ids, purchase_job_id
from core.queues import missing_jobs
from core.tenancy.models import Tenant
from core.tenancy.provisioning import enqueue_provisioning, provisioning_job_id, stalled_tenant_ids
from core.tenancy.stores import visit_stores

log = logging.getLogger(__name__)

# Purchases looked at per tenant and sweep: a backlog larger than this is recovered over several.
PURCHASES_PER_SWEEP = 1000


@dataclass
class Recovered:
    """What one sweep queued again, and the tenants it could not look into."""

    tenants: list[str] = field(default_factory=list)  # slugs whose provisioning job was queued again
    purchases: dict[str, int] = field(default_factory=dict)  # slug → purchases whose job was queued again
    unreachable: list[str] = field(default_factory=list)  # slugs whose database could not be read


def requeue_lost_jobs(grace: timedelta | None = None) -> Recovered:
    """Queue again the provisioning and purchase jobs that Redis lost (see the module's doc):
    only for rows older than `grace` (default RECOVERY_GRACE_SECONDS), so a job that is
    being queued right now is never taken for lost. A tenant whose database cannot be read is
    reported and skipped; the others are still swept."""
    if grace is None:
        grace = timedelta(seconds=current_app.config["RECOVERY_GRACE_SECONDS"])
    before = utcnow() - grace
    recovered = Recovered()

    stalled = stalled_tenant_ids(before)
    lost = missing_jobs(provisioning_job_id(tenant_id) for tenant_id in stalled)
    for tenant_id in stalled:
        if provisioning_job_id(tenant_id) in lost:
            enqueue_provisioning(tenant_id)
            recovered.tenants.append(db.session.get(Tenant, tenant_id).slug)

    def waiting_purchases(session):
        return pending_purchase_ids(session, before, PURCHASES_PER_SWEEP)

    waiting, recovered.unreachable = visit_stores(waiting_purchases)
    for slug, purchase_ids in waiting.items():
        lost = missing_jobs(purchase_job_id(slug, purchase_id) for purchase_id in purchase_ids)
        enqueue = enqueue_processing(slug)
        for purchase_id in purchase_ids:
            if purchase_job_id(slug, purchase_id) in lost:
                enqueue(purchase_id)
        if lost:
            recovered.purchases[slug] = len(lost)
    for slug in recovered.tenants:
        log.warning("recovery: provisioning job of tenant %s was lost; queued again", slug)
    for slug, count in recovered.purchases.items():
        log.warning("recovery: %d purchase job(s) of tenant %s were lost; queued again", count, slug)
    return recovered
