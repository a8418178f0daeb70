"""The purchase orchestrator job, run by RQ workers on the `purchases` queue."""
from __future__ import annotations

from jobs import job_context


def process_purchase_job(tenant_slug: str, purchase_id: str) -> str:
    """Reserve the purchase's products and record the outcome in one tenant transaction; run
    again (a retry, a second delivery) it finds the purchase no longer PENDING and does nothing."""
    with job_context():
        from core.purchases.services import process_purchase
        from core.tenancy.admin import get_tenant
        from core.tenancy.resolve import engines

        tenant = get_tenant(tenant_slug)
        with engines().session(tenant.db_url, write=True) as session:
            return process_purchase(session, tenant, purchase_id)
