"""Domain objects to the API's camelCase dictionaries (shared by several API modules)."""
from __future__ import annotations

from decimal import Decimal

from api.jsonprovider import isoformat_utc
from core.catalog.listing import shopper_categories, total_pages
from core.inventory.services import stock_status
from core.money import to_money
from core.tenancy.features import effective_features, effective_limits
from core.tenancy.models import Tenant, TenantStatus


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


def provisioning_status_dto(tenant: Tenant) -> dict:
    ready = tenant.status == TenantStatus.READY
    return {
        "status": tenant.status,
        "tenantSlug": tenant.slug if ready else None,
        "dbName": tenant.db_name if ready else None,
        "steps": [step_dto(step) for step in tenant.steps],
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


# --- catalog (camelCase) --------------------------------------------------------------------------

RATIO_CENTS = Decimal("0.01")


def _ratio(value: Decimal) -> Decimal:
    """A discount as sent: two places (0.15) unless the stored four places need more (0.125)."""
    short = value.quantize(RATIO_CENTS)
    return short if short == value else value.normalize()


def category_summary_dto(category) -> dict:
    return {"id": category.id, "name": category.name}


def product_dto(product) -> dict:
    """ProductDto of multi-tenant-platform-api.md §3: money as Decimal with two places."""
    return {
        "id": product.id,
        "name": product.name,
        "description": product.description,
        "price": to_money(product.price),
        "discount": _ratio(product.discount),
        "finalPrice": to_money(product.final_price),
        "stock": product.stock,
        "isActive": product.is_active,
        "images": list(product.images or []),
        "categories": [category_summary_dto(c) for c in shopper_categories(product)],
        "dynamicAttributes": dict(product.dynamic_attributes or {}),
    }


def product_list_dto(products, total_count: int, page: int, page_size: int) -> dict:
    return {
        "items": [product_dto(p) for p in products],
        "totalCount": total_count,
        "page": page,
        "pageSize": page_size,
        "totalPages": total_pages(total_count, page_size),
    }


def category_dto(category, product_count: int) -> dict:
    return {"id": category.id, "name": category.name, "description": category.description,
            "productCount": product_count}


# --- inventory (snake_case, as inventory-service.md) ----------------------------------------------

def inventory_item_dto(product) -> dict:
    """A stock level as inventory-service.md answers it; product_id is the SKU."""
    return {
        "product_id": product.sku,
        "name": product.name,
        "quantity": product.stock,
        "price": to_money(product.price),
        "status": stock_status(product.stock, product.low_stock_threshold),
    }


def stock_status_dto(product) -> dict:
    return {
        "product_id": product.sku,
        "quantity": product.stock,
        "status": stock_status(product.stock, product.low_stock_threshold),
        "low_stock_threshold": product.low_stock_threshold,
    }


def reservation_dto(change) -> dict:
    return {
        "product_id": change.product.sku,
        "reserved_quantity": change.quantity,
        "previous_quantity": change.previous,
        "remaining_quantity": change.current,
        "status": change.status,
    }


def replenishment_dto(change) -> dict:
    return {
        "product_id": change.product.sku,
        "added_quantity": change.quantity,
        "previous_quantity": change.previous,
        "new_quantity": change.current,
        "status": change.status,
    }
