"""The super-admin portal on the platform host: http://{PLATFORM_HOST}/admin/.

Handlers parse a form, call one core service and render; a domain error is shown beside the
field it names (or above the form) with its own status code, and the request's unit of work
(core.unit_of_work) commits once on success or rolls back once on failure.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from pydantic import ValidationError
from wtforms import SelectChoice

from admin.auth import keep_secret_to_show_once, require_portal_user, take_secret_to_show
from admin.forms import (CustomerForm, IssueCredentialsForm, OverridesForm, PlanForm, ProductSearchForm,
                         ProvisionTenantForm, StoreAdminForm, TenantReplenishForm, TenantStatusForm,
                         show_domain_error)
from core.customers.services import CustomerData
from core.errors import (AlreadyExists, Conflict, DomainError, NotFound, PlanNotFound, ProvisioningFailed,
                         ValidationFailed)
from core.inventory.services import stock_status
from core.tenancy import admin as tenancy_admin
from core.tenancy import operations, provisioning
from core.tenancy.features import Feature, Limit, effective_features, effective_limits
from core.tenancy.models import PROVISIONING_STATUSES, TenantStatus
from core.tenancy.resolve import ready_tenants
from core.validation import validation_failed
from web.htmx import wants_partial
from web.tenancy import host_slug

bp = Blueprint("platform_admin", __name__, url_prefix="/admin")


@bp.before_request
def superadmins_only():
    """Only on the platform host (404 on a store's subdomain), only for super admins."""
    if host_slug() is not None:
        raise NotFound("There is no such page in a store's portal.")
    return require_portal_user()


def plan_choices() -> list[SelectChoice]:
    return [SelectChoice(p.code, p.name) for p in tenancy_admin.list_plans()]


def store_choices() -> list[SelectChoice]:
    """Ready stores only: the ones a customer can be onboarded into or stock replenished in."""
    return [SelectChoice("", "Choose a store…")] + [SelectChoice(t.slug, f"{t.name} ({t.slug})")
                                                    for t in ready_tenants()]


# --- tenants ------------------------------------------------------------------------------------

def _tenants_page(form: ProvisionTenantForm, status: int = 200):
    return render_template("admin/platform/tenants.html", tenants=tenancy_admin.list_tenants(), form=form), status


@bp.get("/tenants")
def tenants():
    form = ProvisionTenantForm(plan="PREMIUM")
    form.plan.choices = plan_choices()
    return _tenants_page(form)


@bp.post("/tenants")
def provision_tenant():
    """Create the tenant and queue the API's provisioning job; its page shows the progress."""
    form = ProvisionTenantForm()
    form.plan.choices = plan_choices()
    if not form.validate():
        return _tenants_page(form, 400)
    try:
        tenant = provisioning.queue_new_tenant(form.slug.data.strip(), form.name.data, form.plan.data)
    except DomainError as exc:  # a bad slug or plan (400), a taken slug (409), Redis down (503)
        return _tenants_page(form, show_domain_error(form, exc))
    return redirect(url_for(".tenant", slug=tenant.slug), 303)


def _tenant_page(slug: str, status: int = 200, **forms):
    store = tenancy_admin.get_tenant(slug)
    if "plan_form" not in forms:
        forms["plan_form"] = PlanForm(plan_code=store.plan_code)
    forms["plan_form"].plan_code.choices = plan_choices()
    forms.setdefault("overrides_form", OverridesForm.for_tenant(store))
    forms.setdefault("admin_form", StoreAdminForm(formdata=None))
    return render_template("admin/platform/tenant.html", store=store, polling=store.status in PROVISIONING_STATUSES,
                           features=list(Feature), limits=list(Limit), effective_features=effective_features(store),
                           effective_limits=effective_limits(store), admins=tenancy_admin.store_admins(store),
                           **forms), status


@bp.get("/tenants/<slug>")
def tenant(slug: str):
    """The tenant's page; for htmx, only its progress fragment (which polls itself until the
    tenant is Ready or Failed)."""
    if wants_partial():
        store = tenancy_admin.get_tenant(slug)
        return render_template("admin/platform/_progress.html", store=store, polling=store.status in PROVISIONING_STATUSES)
    return _tenant_page(slug)


@bp.post("/tenants/<slug>/repair")
def repair_tenant(slug: str):
    """Re-run the steps now (each is idempotent); the page shows how it ended. (Like every POST,
    CSRFProtect has checked its token before this runs.)"""
    try:
        repaired = provisioning.repair_tenant(slug)
    except ProvisioningFailed as exc:  # recorded on the failed step too; an unknown tenant is a 404 page
        flash(f"Repair failed: {exc.detail}")
    else:
        flash(f"Repair finished: {repaired.slug} is {repaired.status}.")
    return redirect(url_for(".tenant", slug=slug), 303)


@bp.post("/tenants/<slug>/status")
def set_tenant_status(slug: str):
    """Suspend (the store's API and pages answer 423) or resume."""
    form = TenantStatusForm()
    if not form.validate():
        raise ValidationFailed("Status must be 'Suspended' or 'Ready'.")
    try:
        changed = tenancy_admin.update_tenant(slug, status=form.status.data)
    except Conflict as exc:  # not Ready or Suspended; an unknown tenant is a 404 page
        flash(exc.detail)
        return redirect(url_for(".tenant", slug=slug), 303)
    flash(f"{changed.name} is {'suspended' if changed.status == TenantStatus.SUSPENDED else 'open again'}.")
    return redirect(url_for(".tenant", slug=slug), 303)


@bp.post("/tenants/<slug>/plan")
def change_plan(slug: str):
    form = PlanForm()
    form.plan_code.choices = plan_choices()
    if not form.validate():
        return _tenant_page(slug, 400, plan_form=form)
    try:
        changed = tenancy_admin.update_tenant(slug, plan_code=form.plan_code.data)
    except PlanNotFound as exc:  # an unknown tenant is a 404 page
        return _tenant_page(slug, show_domain_error(form, exc, {"planCode": "plan_code"}), plan_form=form)
    flash(f"{changed.name} is on the {changed.plan.name} plan.")
    return redirect(url_for(".tenant", slug=slug), 303)


@bp.post("/tenants/<slug>/overrides")
def change_overrides(slug: str):
    """Feature and limit overrides; "Plan's value" (or a blank limit) removes an override."""
    store = tenancy_admin.get_tenant(slug)
    form = OverridesForm.for_tenant(store)
    if not form.validate():
        return _tenant_page(slug, 400, overrides_form=form)
    try:
        tenancy_admin.update_tenant(slug, features=form.feature_overrides(), limits=form.limit_overrides())
    except ValidationFailed as exc:
        fields = {f"features.{n}": f"feature_{n}" for n in Feature} | {f"limits.{n}": f"limit_{n}" for n in Limit}
        return _tenant_page(slug, show_domain_error(form, exc, fields), overrides_form=form)
    flash("Features and limits saved.")
    return redirect(url_for(".tenant", slug=slug) + "#overrides", 303)


@bp.post("/tenants/<slug>/admins")
def add_store_admin(slug: str):
    """A store admin who signs in at the store's own /admin/."""
    form = StoreAdminForm()
    if not form.validate():
        return _tenant_page(slug, 400, admin_form=form)
    try:
        user = tenancy_admin.add_store_admin(slug, form.admin_email.data, form.admin_password.data)
    except (ValidationFailed, AlreadyExists) as exc:  # a short password, a taken email
        return _tenant_page(slug, show_domain_error(form, exc, {"password": "admin_password", "email": "admin_email"}),
                            admin_form=form)
    flash(f"{user.email} can now sign in to the store's admin.")
    return redirect(url_for(".tenant", slug=slug) + "#admins", 303)


# --- customer onboarding -------------------------------------------------------------------------

def _customers_page(form: CustomerForm, status: int = 200):
    form.store.choices = store_choices()
    slug = form.store.data
    recent = []
    if slug:
        try:
            recent = operations.recent_customers(slug)
        except DomainError:
            recent = []  # the store field already says why
    return render_template("admin/platform/customers.html", form=form, recent=recent), status


@bp.get("/onboarding")
def customers():
    return _customers_page(CustomerForm(formdata=None, store=request.args.get("store", "")))


@bp.post("/onboarding")
def onboard_customer():
    """Create the customer with the partner API's validation (CustomerData): its errors, a
    duplicate email (409) and the plan's maxCustomers (403) are shown beside the fields."""
    form = CustomerForm()
    if not form.validate():
        return _customers_page(form, 400)
    try:
        data = CustomerData(**form.customer_values())
    except ValidationError as exc:
        return _customers_page(form, show_domain_error(form, validation_failed(exc), CustomerForm.DOMAIN_FIELDS))
    try:
        store, customer = operations.onboard_customer(form.store.data, data)
    except DomainError as exc:  # a taken email beside its field; the store's refusals beside the store
        return _customers_page(form, show_domain_error(form, exc, CustomerForm.DOMAIN_FIELDS, default="store"))
    flash(f"{customer.name} is a customer of {store.name}.")
    return redirect(url_for(".customer", slug=store.slug, customer_id=customer.id), 303)


def _customer_page(slug: str, customer_id: str, form: IssueCredentialsForm, status: int = 200):
    store, found = operations.store_customer(slug, customer_id)
    return render_template("admin/platform/customer.html", store=store, customer=found, form=form), status


@bp.get("/onboarding/<slug>/<customer_id>")
def customer(slug: str, customer_id: str):
    return _customer_page(slug, customer_id, IssueCredentialsForm(formdata=None))


@bp.post("/onboarding/<slug>/<customer_id>/credentials")
def issue_credentials(slug: str, customer_id: str):
    """Issue API credentials (role customer; the secret is stored hashed), then redirect to the
    page that shows the secret once: refreshing that page issues nothing."""
    form = IssueCredentialsForm()  # its CSRF token is checked for every POST by CSRFProtect
    try:
        found, client, secret = operations.issue_customer_credentials(slug, customer_id)
    except ValidationFailed as exc:  # an inactive customer; another store's is a 404 page
        return _customer_page(slug, customer_id, form, show_domain_error(form, exc))
    if keep_secret_to_show_once(client.id, secret):
        return redirect(url_for(".customer_credentials", slug=slug, customer_id=found.id, client_pk=client.id), 303)
    # Redis unreachable: the secret can only be shown in this answer.
    return _credentials_page(tenancy_admin.get_tenant(slug), found, client, secret, status=201)


@bp.get("/onboarding/<slug>/<customer_id>/credentials/<client_pk>")
def customer_credentials(slug: str, customer_id: str, client_pk: str):
    """A customer's credentials: the secret on the first visit after they were issued (with copy
    buttons), afterwards only that it was shown once."""
    store, found, client = operations.customer_api_client(slug, customer_id, client_pk)
    return _credentials_page(store, found, client, take_secret_to_show(client.id))


def _credentials_page(store, customer, client, secret: str | None, status: int = 200):
    # The page may hold a secret: never cached.
    response = render_template("admin/platform/credentials.html", store=store, customer=customer, client=client,
                               secret=secret)
    return response, status, {"Cache-Control": "no-store"}


# --- inventory replenishment ---------------------------------------------------------------------

def _replenish_page(search: ProductSearchForm, status: int = 200, replenish_form: TenantReplenishForm | None = None,
                    changed: str | None = None):
    search.store.choices = store_choices()
    products, total, store_error = [], 0, None
    if search.store.data:
        try:
            products, total = operations.search_products(search.store.data, search.q.data)
        except DomainError as exc:
            store_error = exc.detail
    context = dict(search=search, products=products, total=total, store_error=store_error,
                   replenish_form=replenish_form, changed=changed, limit=operations.PRODUCT_SEARCH_LIMIT,
                   stock_status=stock_status)
    if wants_partial():
        return render_template("admin/platform/_product_results.html", **context), status
    return render_template("admin/platform/replenish.html", **context), status


@bp.get("/replenish")
def replenishment():
    """Pick a store and a product: the search filters by name or SKU as you type (htmx asks this
    same URL for the results fragment) and works as a plain GET form without JavaScript."""
    search = ProductSearchForm(request.args)
    search.validate()
    return _replenish_page(search, changed=request.args.get("changed"))


@bp.post("/replenish")
def replenish():
    """Add units to a product (one conditional UPDATE); the page shows the new quantity and status."""
    form = TenantReplenishForm()
    search = ProductSearchForm(formdata=None, store=form.store.data or "", q=form.q.data or "")
    if not form.validate():
        return _replenish_page(search, 400, replenish_form=form)
    try:
        change = operations.replenish(form.store.data, form.product.data, form.quantity.data)
    except ValidationFailed as exc:
        return _replenish_page(search, show_domain_error(form, exc, default="quantity"), replenish_form=form)
    except DomainError as exc:  # the store is not open, the product is gone, the stock would overflow
        return _replenish_page(search, show_domain_error(form, exc), replenish_form=form)
    flash(f"Added {change.quantity} to {change.product.name} ({change.product.sku}): now {change.current} "
          f"({change.status.replace('_', ' ')}).")
    return redirect(url_for(".replenishment", store=form.store.data, q=form.q.data or None,
                            changed=change.product.id), 303)
