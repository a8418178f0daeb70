"""Plans, feature flags and limits, and the per-tenant overrides a super admin sets."""
from __future__ import annotations

from core.errors import FeatureDisabled, LimitExceeded

FEATURES = (
    "catalog", "cart", "checkout", "guestCheckout", "categories", "push",
    "productProvisioning", "purchaseGateway", "customerProvisioning",
)
LIMITS = (
    "maxCartItems", "maxProductsPerOrder", "maxProducts", "maxCustomers",
    "provisioningQuotaPerCustomer", "apiRequestsPerMinute",
)

def snake_case(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def effective_features(tenant) -> dict[str, bool]:
    """The tenant's plan features with the super admin's overrides applied."""
    merged = {f: bool(tenant.plan.features.get(f, False)) for f in FEATURES}
    merged.update({k: bool(v) for k, v in (tenant.feature_overrides or {}).items() if k in FEATURES})
    return merged


def effective_limits(tenant) -> dict[str, int]:
    merged = {name: int(tenant.plan.limits[name]) for name in LIMITS if name in tenant.plan.limits}
    merged.update({k: int(v) for k, v in (tenant.limit_overrides or {}).items() if k in LIMITS})
    return merged


def require_feature(tenant, feature: str) -> None:
    """Raise FeatureDisabled (403) unless the tenant's plan, with overrides, enables `feature`."""
    if not effective_features(tenant).get(feature, False):
        raise FeatureDisabled(f"The '{feature}' feature is not enabled for this store.", feature=feature)


def check_limit(tenant, limit: str, wanted: int, error=LimitExceeded) -> None:
    """Raise `error` when `wanted` exceeds the tenant's limit named `limit`."""
    allowed = effective_limits(tenant).get(limit)
    if allowed is not None and wanted > allowed:
        raise error(f"The plan allows at most {allowed} ({limit}); this request needs {wanted}.",
                    limit=limit, allowed=allowed)
