"""The product provisioner (product-provisioner-api.md): products given to a store's B2B
customers — the customization checked against the product's options, the per-customer quota
kept, the stock taken atomically.

(In Storefleet "provisioning" alone is a store's set-up, core.tenancy.provisioning; customers
are provisioned by partners through core.customers.)"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.catalog.models import Product
from core.customers.models import Customer, CustomerStatus
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.inventory.services import find_product, take_stock
from core.provisioner.models import ProvisionedProduct
from core.tenancy.features import Limit, effective_limits
from core.tenancy.models import Tenant


class QuotaExceeded(Conflict):
    title = "Provisioning Quota Exceeded"


def validate_customization(product: Product, customization: dict) -> dict:
    """Every required option present, no unknown option, each value one of the allowed values
    when the option lists them. Raises ValidationFailed naming each bad key."""
    options = product.customization_options or {}
    errors: dict[str, list[str]] = {}
    for key, value in customization.items():
        option = options.get(key)
        if option is None:
            allowed = ", ".join(sorted(options)) or "none"
            errors[f"customization.{key}"] = [f"Unknown option; this product's options are: {allowed}."]
        elif not isinstance(value, (str, int, float, bool)) or (isinstance(value, str) and not value.strip()):
            errors[f"customization.{key}"] = ["Value must be a non-empty text or number."]
        elif option.get("values") and value not in option["values"]:
            errors[f"customization.{key}"] = [f"Must be one of: {', '.join(map(str, option['values']))}."]
    for key, option in options.items():
        if option.get("required") and key not in customization:
            errors[f"customization.{key}"] = ["This option is required."]
    if errors:
        raise ValidationFailed("Invalid or missing customization details.", errors=errors)
    return dict(customization)


def provision_product(session: Session, tenant: Tenant, customer_id: str, product_key: str, quantity: int,
                      customization: dict) -> ProvisionedProduct:
    """Provision `quantity` of a product (UUID or SKU) for the customer. The customer's row is
    locked first, so concurrent provisionings of one customer count the quota one at a time;
    the stock is taken by a conditional update (409 when short), so it never goes negative."""
    # FOR NO KEY UPDATE: serializes this customer's provisionings without blocking the foreign-key
    # checks (KEY SHARE) of its purchases and provisioned rows, which would deadlock with them.
    customer = session.scalar(select(Customer).where(Customer.id == customer_id).with_for_update(key_share=True))
    if customer is None or customer.status == CustomerStatus.DELETED:
        raise NotFound("Customer not found.")
    if customer.status != CustomerStatus.ACTIVE:
        raise Forbidden("This customer is not active: it can make no purchase.")
    product = find_product(session, product_key, active_only=True)
    clean = validate_customization(product, customization or {})

    quota = effective_limits(tenant).get(Limit.PROVISIONING_QUOTA_PER_CUSTOMER)
    if quota is not None:
        used = session.scalar(select(func.coalesce(func.sum(ProvisionedProduct.quantity), 0))
                              .where(ProvisionedProduct.customer_id == customer.id))
        if used + quantity > quota:
            raise QuotaExceeded(f"The provisioning quota of {quota} units would be exceeded "
                                f"({used} already provisioned).", quota=quota, used=used)
    take_stock(session, product.id, quantity, name=product.sku)
    provisioned = ProvisionedProduct(customer_id=customer.id, product_id=product.id, quantity=quantity,
                                     customization=clean)
    session.add(provisioned)
    session.flush()
    return provisioned


def availability(session: Session, product_key: str) -> Product:
    return find_product(session, product_key, active_only=True)


def list_provisioned(session: Session, customer_id: str | None) -> list[ProvisionedProduct]:
    """The customer's provisioned products, or every one of the store when customer_id is None."""
    query = select(ProvisionedProduct).order_by(ProvisionedProduct.created_at, ProvisionedProduct.id)
    if customer_id is not None:
        query = query.where(ProvisionedProduct.customer_id == customer_id)
    return list(session.scalars(query))
