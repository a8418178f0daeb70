"""Domain objects to the API's camelCase dictionaries (shared by several API modules)."""
from __future__ import annotations

from api.jsonprovider import isoformat_utc
from core.tenancy.features import effective_features, effective_limits
from core.tenancy.models import Tenant


def _iso(value):
    return isoformat_utc(value) if value is not None else None


def step_dto(step) -> dict:
    return {
        "step": step.step,
        "status": step.status,
        "startedAt": _iso(step.started_at),
        "completedAt": _iso(step.completed_at),
        "log": step.log,
        "errorMessage": step.error_message,
    }


def tenant_dto(tenant: Tenant) -> dict:
    return {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "status": tenant.status,
        "planCode": tenant.plan_code,
        "dbName": tenant.db_name,
        "createdAt": _iso(tenant.created_at),
        "updatedAt": _iso(tenant.updated_at),
        "features": effective_features(tenant),
        "limits": effective_limits(tenant),
        "featureOverrides": tenant.feature_overrides or {},
        "limitOverrides": tenant.limit_overrides or {},
        "steps": [step_dto(step) for step in tenant.steps],
    }


def customer_dto(customer) -> dict:
    return {
        "id": customer.id,
        "name": customer.name,
        "address": customer.address,
        "contactEmail": customer.contact_email,
        "phone": customer.phone,
        "externalRef": customer.external_ref,
        "status": customer.status,
        "createdAt": _iso(customer.created_at),
        "updatedAt": _iso(customer.updated_at),
    }


def provisioned_product_dto(provisioned) -> dict:
    return {
        "id": provisioned.id,
        "productId": provisioned.product_id,
        "sku": provisioned.product.sku,
        "quantity": provisioned.quantity,
        "customization": provisioned.customization or {},
        "createdAt": _iso(provisioned.created_at),
    }


def purchase_dto(purchase) -> dict:
    return {
        "purchaseId": purchase.id,
        "status": purchase.status,
        "message": purchase.message,
        "orderId": purchase.order_id,
        "createdAt": _iso(purchase.created_at),
        "products": [{"id": item.product_key, "quantity": item.quantity, "status": item.status}
                     for item in purchase.items],
    }
