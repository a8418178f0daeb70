"""The purchase orchestrator job, run by RQ workers on the `purchases` queue."""
from __future__ import annotations

import logging

from sqlalchemy.exc import DataError

from core.errors import DomainError
from core.purchases.services import process_purchase, reject_purchase
from core.tenancy.directory import get_store
from jobs import job_context

log = logging.getLogger(__name__)


def process_purchase_job(tenant_slug: str, purchase_id: str) -> str:
    """Reserve the purchase's products and record the outcome in one tenant transaction; run
    again (a retry, a second delivery) it finds the purchase no longer PENDING and does nothing.

    An error that would be raised again on every retry — a rule of the domain (DomainError) or
    a value the database refuses (DataError) — ends the purchase FAILED, every product REJECTED
    and the reason in its message, in a transaction of its own: never PENDING for ever, and
    nothing for the recovery sweep to queue again. Any other error (a lost connection) raises,
    and RQ retries."""
    try:
        with job_context() as unit:
            tenant = get_store(tenant_slug)
            return process_purchase(unit.tenant_db(tenant, write=True), tenant, purchase_id)
    except (DomainError, DataError) as exc:
        reason = exc.detail if isinstance(exc, DomainError) else "the store's database refused a value of it."
        log.warning("purchase %s of %s rejected: %s", purchase_id, tenant_slug, exc)
        with job_context() as unit:
            return reject_purchase(unit.tenant_db(get_store(tenant_slug), write=True), purchase_id, reason) or "missing"
