"""Domain errors: one class per kind of failure, each with a stable code and an HTTP status.

Services raise these; `web.errors` maps them (and every HTTPException) to problem+json for
API clients and to HTML pages for browsers. Nothing else decides an error's status code.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    VALIDATION = "validation-error"
    NOT_FOUND = "not-found"
    CONFLICT = "conflict"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    GUEST_CHECKOUT_DISABLED = "guest-checkout-disabled"
    FEATURE_DISABLED = "feature-disabled"
    LIMIT_EXCEEDED = "limit-exceeded"
    TENANT_NOT_RESOLVED = "tenant-not-resolved"
    TENANT_LOCKED = "tenant-locked"
    INSUFFICIENT_STOCK = "insufficient-stock"
    IDEMPOTENCY_CONFLICT = "idempotency-conflict"
    SERVICE_UNAVAILABLE = "service-unavailable"
    PROVISIONING_FAILED = "provisioning-failed"
    TOO_MANY_ATTEMPTS = "too-many-attempts"
    PRICE_CHANGED = "price-changed"


class DomainError(Exception):
    """`detail` says what went wrong; `errors` lists the bad input fields with their messages
    (validation); `field`, for an error about one input field that is not a validation error (a
    taken email, an unknown plan), names it in the API's terms, so a form can show the error
    beside that field; `data` carries the error's facts (the limit, the product)."""

    status = 400
    code = ErrorCode.VALIDATION
    title = "Bad Request"

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None, field: str | None = None,
                 **data: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.field = field
        self.data = data


class ValidationFailed(DomainError):
    status, code, title = 400, ErrorCode.VALIDATION, "Validation Error"

    @classmethod
    def field(cls, field: str, message: str) -> "ValidationFailed":
        return cls("One or more validation errors occurred.", errors={field: [message]})


class NotFound(DomainError):
    status, code, title = 404, ErrorCode.NOT_FOUND, "Not Found"


class PlanNotFound(NotFound):
    """A plan code or name that names no plan."""


class Conflict(DomainError):
    status, code, title = 409, ErrorCode.CONFLICT, "Conflict"


class AlreadyExists(Conflict):
    """A value that must be unique is taken (a store's slug, a SKU, a user's or customer's email)."""


class InsufficientStock(Conflict):
    code, title = ErrorCode.INSUFFICIENT_STOCK, "Insufficient Stock"


class PriceChanged(Conflict):
    """A cart line's price changed since the shopper was shown it: nothing is ordered until they
    have seen the new one (core.orders.pricing)."""
    code, title = ErrorCode.PRICE_CHANGED, "Price Changed"


class IdempotencyConflict(Conflict):
    code, title = ErrorCode.IDEMPOTENCY_CONFLICT, "Idempotency Key Conflict"


class TooManyAttempts(DomainError):
    """Sign-in attempts (or token requests) are coming too fast from this client or for this
    account: wait `retry_after` seconds (core.auth.throttle)."""
    status, code, title = 429, ErrorCode.TOO_MANY_ATTEMPTS, "Too Many Attempts"


class Unauthorized(DomainError):
    status, code, title = 401, ErrorCode.UNAUTHORIZED, "Unauthorized"


class GuestCheckoutDisabled(Unauthorized):
    """Placing an order without credentials in a store that does not sell to guests."""

    code, title = ErrorCode.GUEST_CHECKOUT_DISABLED, "Unauthorized"


class Forbidden(DomainError):
    status, code, title = 403, ErrorCode.FORBIDDEN, "Forbidden"


class FeatureDisabled(Forbidden):
    code, title = ErrorCode.FEATURE_DISABLED, "Feature Disabled"


class LimitExceeded(Forbidden):
    code, title = ErrorCode.LIMIT_EXCEEDED, "Plan Limit Exceeded"


class TenantNotResolved(DomainError):
    status, code, title = 409, ErrorCode.TENANT_NOT_RESOLVED, "Tenant not resolved"


class TenantLocked(DomainError):
    status, code, title = 423, ErrorCode.TENANT_LOCKED, "Tenant Locked"


class ServiceUnavailable(DomainError):
    status, code, title = 503, ErrorCode.SERVICE_UNAVAILABLE, "Service Unavailable"


class ProvisioningFailed(DomainError):
    status, code, title = 500, ErrorCode.PROVISIONING_FAILED, "Provisioning Failed"
