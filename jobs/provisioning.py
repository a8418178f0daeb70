"""The provisioning job, run by RQ workers on the `provisioning` queue."""
from __future__ import annotations

from core.tenancy.provisioning import provision_queued_tenant
from jobs import job_context


def provision_tenant_job(tenant_id: str) -> str:
    """Run the tenant's provisioning steps; a retry resumes safely (every step is idempotent)."""
    with job_context():
        return provision_queued_tenant(tenant_id)
