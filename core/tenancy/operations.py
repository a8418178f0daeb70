"""What a super admin does inside one store from the platform portal: onboard a customer and
issue its API credentials, find products and replenish them.

Each verb names the store by slug and works in the store's own database through the current
unit of work (core.unit_of_work: the request commits once), with the same
services, validation, plan rules and status rules as the JSON API: the store must be Ready
(409, or 423 when suspended), customer onboarding needs the customerProvisioning feature.
"""
from __future__ import annotations

from core.auth.models import ApiClient, Role
from core.auth.services import get_api_client, issue_api_client
from core.catalog.listing import list_admin_products
from core.catalog.models import Product
from core.customers import services as customers
from core.customers.models import Customer
from core.customers.services import CustomerData
from core.errors import NotFound
from core.inventory.services import StockChange, replenish_product_stock
from core.tenancy.admin import get_tenant
from core.tenancy.features import Feature, require_feature
from core.tenancy.models import Tenant
from core.tenancy.resolve import find_tenant, require_ready
from core.unit_of_work import current_unit

PRODUCT_SEARCH_LIMIT = 50


def ready_store(slug: str | None) -> Tenant:
    """The Ready store of `slug`: TenantNotResolved (409) when unknown or not Ready, TenantLocked (423)."""
    return require_ready(find_tenant(slug), slug)


def onboard_customer(slug: str, data: CustomerData) -> tuple[Tenant, Customer]:
    """Create an active customer in the store, exactly as POST /api/provisioning/customers does:
    the customerProvisioning feature (403), a unique contact email (409), maxCustomers (403)."""
    tenant = ready_store(slug)
    require_feature(tenant, Feature.CUSTOMER_PROVISIONING)
    return tenant, customers.create_customer(current_unit().tenant_db(tenant, write=True), tenant, data)


def store_customer(slug: str, customer_id: str) -> tuple[Tenant, Customer]:
    """A customer of the store (NotFound for an id of another store: tenant-scoped lookup)."""
    tenant = ready_store(slug)
    return tenant, customers.get_customer(current_unit().tenant_db(tenant), customer_id)


def recent_customers(slug: str, count: int = 10) -> list[Customer]:
    tenant = ready_store(slug)
    items, _total = customers.list_customers(current_unit().tenant_db(tenant), page=1, page_size=count)
    return items


def issue_store_api_client(slug: str, name: str, role: str,
                           customer_id: str | None = None) -> tuple[Tenant, ApiClient, str]:
    """API credentials of any role for a store the platform knows (NotFound, 404, otherwise),
    in whatever status it is: a client issued while the store provisions works once it is Ready.
    A customer client names a customer of the store, so the store must have its database: Ready
    (409 while it provisions or failed, 423 when suspended). Returns the tenant, the client and its
    plain secret, stored hashed only."""
    tenant = get_tenant(slug)
    tenant_db = current_unit().tenant_db(ready_store(slug)) if role == Role.CUSTOMER else None
    client, secret = issue_api_client(tenant_db, tenant, name, role, customer_id)
    return tenant, client, secret


def issue_customer_credentials(slug: str, customer_id: str) -> tuple[Customer, ApiClient, str]:
    """API credentials of role customer for an active customer of the store; returns the customer,
    the client and its plain secret, which is stored hashed and never shown again."""
    tenant = ready_store(slug)
    session = current_unit().tenant_db(tenant)
    customer = customers.get_customer(session, customer_id)  # NotFound for an id of another store
    client, secret = issue_api_client(session, tenant, f"{customer.name} (customer)", Role.CUSTOMER, customer.id)
    return customer, client, secret


def customer_api_client(slug: str, customer_id: str, client_pk: str) -> tuple[Tenant, Customer, ApiClient]:
    """An API client of a customer of the store; NotFound for a client of another store or of
    another customer (tenant- and owner-scoped lookups)."""
    tenant, customer = store_customer(slug, customer_id)
    client = get_api_client(tenant, client_pk)
    if client.customer_id != customer.id:
        raise NotFound("API client not found.")
    return tenant, customer, client


def search_products(slug: str, query: str | None) -> tuple[list[Product], int]:
    """The store's products (active or not) whose name or SKU contains `query` (any case), by
    name; at most PRODUCT_SEARCH_LIMIT of them, with the number that matched."""
    tenant = ready_store(slug)
    return list_admin_products(current_unit().tenant_db(tenant), page=1, page_size=PRODUCT_SEARCH_LIMIT,
                               search=query)


def replenish(slug: str, product_key: str, quantity: int) -> StockChange:
    """Add `quantity` units to the store's product (SKU or id): one conditional UPDATE through
    core.inventory (the same as PUT /inventory/{id}/replenish); returns the change."""
    tenant = ready_store(slug)
    return replenish_product_stock(current_unit().tenant_db(tenant, write=True), product_key, quantity)
