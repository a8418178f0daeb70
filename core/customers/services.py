"""Customer provisioning: create, read, replace, patch, deactivate, list — tenant-scoped.

The input model is here, in the domain, so the partner API and the super-admin onboarding form
validate a customer the same way.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, EmailStr, Field, StringConstraints
from pydantic.alias_generators import to_camel
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth.models import ApiClient
from core.columns import utcnow
from core.customers.models import Customer, CustomerStatus
from core.errors import AlreadyExists, Conflict, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.locks import one_at_a_time
from core.orders.models import Order
from core.tenancy.features import Limit, check_limit
from core.tenancy.models import Tenant
from core.tenancy.stores import visit_stores
from core.validation import Phone, RequestModel, not_blank

Text200 = not_blank(200)


class CustomerData(RequestModel):
    """A customer as a partner sends it (camelCase); PUT sends all of it, PATCH any part."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid",
                              str_strip_whitespace=True)

    name: Text200 = Field(description="Company name")
    address: Annotated[str, StringConstraints(max_length=500)] | None = None
    contact_email: EmailStr
    phone: Phone | None = Field(None, description="International form, e.g. +44 20 7946 0958; stored in E.164")
    external_ref: Annotated[str, StringConstraints(max_length=100)] | None = None


class CustomerPatch(RequestModel):
    """Any part of a customer. name and contactEmail may be left out but not null (the default
    None only tells they were not sent: it is never validated)."""

    model_config = CustomerData.model_config

    name: Text200 = None
    address: Annotated[str, StringConstraints(max_length=500)] | None = None
    contact_email: EmailStr = None
    phone: Phone | None = None
    external_ref: Annotated[str, StringConstraints(max_length=100)] | None = None
    status: Literal["active", "inactive"] | None = None


def _apply(customer: Customer, values: dict) -> None:
    for field, value in values.items():
        if field == "contact_email" and value is not None:
            value = value.lower()
        setattr(customer, field, value)


def _email_taken_error(email: str) -> AlreadyExists:
    return AlreadyExists(f"A customer with contact email {email} already exists.", field="contactEmail")


def _flush_unique(session: Session, email: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise _email_taken_error(email) from exc


def _email_taken(session: Session, email: str, except_id: str | None = None) -> bool:
    query = select(Customer.id).where(Customer.contact_email == email.lower())
    if except_id:
        query = query.where(Customer.id != except_id)
    return session.scalar(query) is not None


def create_customer(session: Session, tenant: Tenant, data: CustomerData) -> Customer:
    """A new active customer. Unique contact email (409); plan limit maxCustomers (403), held
    however many are created at once (the count and the insert are one at a time per store)."""
    one_at_a_time(session, "max-customers", tenant.slug)
    active = session.scalar(select(func.count()).select_from(Customer).where(Customer.status == CustomerStatus.ACTIVE))
    check_limit(tenant, Limit.MAX_CUSTOMERS, active + 1)
    if _email_taken(session, data.contact_email):
        raise _email_taken_error(data.contact_email)
    customer = Customer(status=CustomerStatus.ACTIVE)
    _apply(customer, data.model_dump())
    session.add(customer)
    _flush_unique(session, data.contact_email)
    return customer


def get_customer(session: Session, customer_id: str) -> Customer:
    """The customer (NotFound, 404, for an unknown or deleted one)."""
    customer = session.get(Customer, customer_id)
    if customer is None or customer.status == CustomerStatus.DELETED:
        raise NotFound("Customer not found.")
    return customer


def require_active_customer(session: Session, customer_id: str | None) -> Customer:
    """The customer named by a request's `customerId`, which must be active (credentials are only
    issued to those): no id is a 400, an id of no customer of this store a 404, an inactive
    customer a 409, each naming the field."""
    if not customer_id:
        raise ValidationFailed.field("customerId", "A customer client needs the id of a customer of the store.")
    customer = session.get(Customer, customer_id)
    if customer is None or customer.status == CustomerStatus.DELETED:
        raise NotFound("No customer of this store has this id.", field="customerId")
    if customer.status != CustomerStatus.ACTIVE:
        raise Conflict("This customer is inactive: activate it before issuing its credentials.", field="customerId")
    return customer


def replace_customer(session: Session, customer_id: str, data: CustomerData) -> Customer:
    """PUT: every field replaced (omitted optional fields become empty)."""
    customer = get_customer(session, customer_id)
    if _email_taken(session, data.contact_email, except_id=customer.id):
        raise _email_taken_error(data.contact_email)
    _apply(customer, data.model_dump())
    _flush_unique(session, data.contact_email)
    return customer


def patch_customer(session: Session, tenant: Tenant, customer_id: str, patch: CustomerPatch) -> Customer:
    """PATCH: only the fields sent change; reactivating counts against maxCustomers."""
    customer = get_customer(session, customer_id)
    values = patch.model_dump(exclude_unset=True)
    if values.get("contact_email") and _email_taken(session, values["contact_email"], except_id=customer.id):
        raise _email_taken_error(values['contact_email'])
    if values.get("status") == CustomerStatus.ACTIVE and customer.status != CustomerStatus.ACTIVE:
        one_at_a_time(session, "max-customers", tenant.slug)
        active = session.scalar(select(func.count()).select_from(Customer)
                                .where(Customer.status == CustomerStatus.ACTIVE))
        check_limit(tenant, Limit.MAX_CUSTOMERS, active + 1)
    if values.get("status") == CustomerStatus.INACTIVE:
        _revoke_clients(tenant, customer)   # also when already inactive: a PATCH sent again completes it
    _apply(customer, values)
    _flush_unique(session, customer.contact_email)
    return customer


def _revoke_clients(tenant: Tenant, customer: Customer) -> None:
    """Revoke every API client issued for `customer`: its tokens stop working at once and it gets
    no new one (reactivated, it needs new credentials). It is written in the control database,
    a follow-up of the store's commit (core.unit_of_work): should it be lost, the recovery sweep
    revokes what it missed (revoke_lapsed_clients)."""
    db.session.execute(update(ApiClient)
                       .where(ApiClient.tenant_id == tenant.id, ApiClient.customer_id == customer.id,
                              ApiClient.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))


def revoke_lapsed_clients() -> tuple[int, list[str]]:
    """The recovery sweep's part: revoke the clients still valid of customers that are no longer
    active (a PATCH or DELETE whose control-database follow-up was lost). Only stores holding
    such clients are read, one statement each. Returns how many clients it revoked, and the
    slugs of stores whose database could not be read (left for the next sweep)."""
    held = db.session.execute(select(Tenant.slug, ApiClient.tenant_id, ApiClient.customer_id)
                              .join(Tenant, Tenant.id == ApiClient.tenant_id)
                              .where(ApiClient.customer_id.is_not(None), ApiClient.revoked_at.is_(None))).all()
    if not held:
        return 0, []
    tenant_ids = {slug: tenant_id for slug, tenant_id, _ in held}
    customer_ids = {customer_id for _, _, customer_id in held}   # UUIDs: no store holds another's

    def lapsed(session: Session) -> list[str]:
        return list(session.scalars(select(Customer.id).where(Customer.id.in_(customer_ids),
                                                              Customer.status != CustomerStatus.ACTIVE)))

    found, unreachable = visit_stores(lapsed, only=tenant_ids)
    revoked = 0
    for slug, customers in found.items():
        if customers:
            revoked += db.session.execute(update(ApiClient).where(
                ApiClient.tenant_id == tenant_ids[slug], ApiClient.customer_id.in_(customers),
                ApiClient.revoked_at.is_(None)).values(revoked_at=utcnow())).rowcount
    return revoked, unreachable


def require_customer_may_buy(session: Session, customer_id: str) -> None:
    """Forbidden (403) unless the customer is active: an inactive or deleted one buys nothing,
    whatever token it holds."""
    status = session.scalar(select(Customer.status).where(Customer.id == customer_id))
    if status != CustomerStatus.ACTIVE:
        raise Forbidden("This customer is not active: it can make no purchase.")


# What stands in a deleted customer's row for its personal data (".invalid" is never an address).
DELETED_NAME = "Deleted customer"


def deleted_email(customer_id: str) -> str:
    return f"deleted-{customer_id}@customers.invalid"


def delete_customer(session: Session, tenant: Tenant, customer_id: str) -> None:
    """DELETE: the customer no longer exists to the API (404 afterwards; its contact email may be
    used again), every API client issued for it is revoked, so its tokens stop working at once,
    and its personal data — name, contact email, phone, address, external reference — is erased
    from the store's database, the copies its orders hold included. Its orders, purchases and
    provisioned products stay, naming a row that holds none of it."""
    customer = get_customer(session, customer_id)
    _revoke_clients(tenant, customer)
    erased = deleted_email(customer.id)
    session.execute(update(Order).where(Order.customer_id == customer.id)
                    .values(email=erased, phone=None, shipping_address=None, updated_at=utcnow()))
    customer.name, customer.contact_email, customer.phone, customer.address, customer.external_ref = (
        DELETED_NAME, erased, None, None, None)
    customer.status = CustomerStatus.DELETED
    session.flush()


def list_customers(session: Session, *, page: int, page_size: int, status: str | None = None) -> tuple[list[Customer], int]:
    """A page of the store's customers, newest first (deleted ones are not customers any more)."""
    query = select(Customer).where(Customer.status != CustomerStatus.DELETED)
    count = select(func.count()).select_from(Customer).where(Customer.status != CustomerStatus.DELETED)
    if status:
        query, count = query.where(Customer.status == status), count.where(Customer.status == status)
    total = session.scalar(count)
    items = session.scalars(query.order_by(Customer.created_at.desc(), Customer.id)
                            .limit(page_size).offset((page - 1) * page_size)).all()
    return list(items), total
