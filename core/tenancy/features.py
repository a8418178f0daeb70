"""Plans' feature flags and limits, and the per-tenant overrides a super admin sets.

The names are the API's (camelCase, as /api/features keys them); /public/tenant-config lists the
enabled features in snake_case.
"""
from __future__ import annotations

import re
from enum import StrEnum

from core.errors import FeatureDisabled, LimitExceeded


class Feature(StrEnum):
    CATALOG = "catalog"
    CART = "cart"
    CHECKOUT = "checkout"
    GUEST_CHECKOUT = "guestCheckout"
    CATEGORIES = "categories"
    PUSH = "push"
    PRODUCT_PROVISIONING = "productProvisioning"
    PURCHASE_GATEWAY = "purchaseGateway"
    CUSTOMER_PROVISIONING = "customerProvisioning"

    @property
    def snake_case(self) -> str:
        """'guestCheckout' → 'guest_checkout' (the name /public/tenant-config lists)."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.value).lower()


# A limit's largest value, as a quantity's (a 32-bit integer).
MAX_LIMIT = 2_147_483_647


class Limit(StrEnum):
    MAX_CART_ITEMS = "maxCartItems"
    MAX_PRODUCTS_PER_ORDER = "maxProductsPerOrder"
    MAX_PRODUCTS = "maxProducts"
    MAX_CUSTOMERS = "maxCustomers"
    PROVISIONING_QUOTA_PER_CUSTOMER = "provisioningQuotaPerCustomer"
    API_REQUESTS_PER_MINUTE = "apiRequestsPerMinute"


def effective_features(tenant) -> dict[Feature, bool]:
    """The tenant's plan features with the super admin's overrides applied, every feature named."""
    kept = getattr(tenant, "feature_flags", None)   # a Store works them out once (core.tenancy.directory)
    if kept is not None:
        return dict(kept)
    overrides = tenant.feature_overrides or {}
    plan = tenant.plan.features
    return {feature: bool(overrides[feature] if feature in overrides else plan.get(feature, False))
            for feature in Feature}


def effective_limits(tenant) -> dict[Limit, int]:
    """The tenant's plan limits with the overrides applied; a limit the plan does not set is absent."""
    kept = getattr(tenant, "limit_values", None)   # a Store works them out once
    if kept is not None:
        return dict(kept)
    overrides = tenant.limit_overrides or {}
    merged = {limit: int(tenant.plan.limits[limit]) for limit in Limit if limit in tenant.plan.limits}
    merged.update({limit: int(overrides[limit]) for limit in Limit if limit in overrides})
    return merged


def require_feature(tenant, feature: Feature) -> None:
    """Raise FeatureDisabled (403) unless the tenant's plan, with overrides, enables `feature`."""
    if not effective_features(tenant)[feature]:
        raise FeatureDisabled(f"The '{feature}' feature is not enabled for this store.", feature=str(feature))


def check_limit(tenant, limit: Limit, wanted: int, error=LimitExceeded) -> None:
    """Raise `error` when `wanted` exceeds the tenant's limit named `limit`."""
    allowed = effective_limits(tenant).get(limit)
    if allowed is not None and wanted > allowed:
        raise error(f"The plan allows at most {allowed} ({limit}); this request needs {wanted}.",
                    limit=str(limit), allowed=allowed)
