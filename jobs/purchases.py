"""The purchase orchestrator job, run by RQ workers on the `purchases` queue."""
from __future__ import annotations

from core.purchases.services import process_purchase
from core.tenancy.directory import get_store
from jobs import job_context


def process_purchase_job(tenant_slug: str, purchase_id: str) -> str:
    """Reserve the purchase's products and record the outcome in one tenant transaction; run
    again (a retry, a second delivery) it finds the purchase no longer PENDING and does nothing."""
    with job_context() as unit:
        tenant = get_store(tenant_slug)
        return process_purchase(unit.tenant_db(tenant, write=True), tenant, purchase_id)
