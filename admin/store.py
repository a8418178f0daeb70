"""The store-admin portal on a store's subdomain: http://{slug}.{PLATFORM_HOST}/admin/.

Handlers parse (a Flask-WTF form or the query string), call the core service and render; the
request's unit of work (core.unit_of_work) commits once on a status below 400 and rolls back
otherwise. A listing URL answers the whole page, or only its table to an htmx request."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from htmx_flask import request as htmx_request
from wtforms import SelectChoice

from admin.auth import keep_secret_to_show_once, require_portal_user, take_secret_to_show
from admin.charts import bar_chart
from admin.forms import (ApiClientForm, CancelOrderForm, NewProductForm, ProductForm, ReplenishForm,
                         show_domain_error)
from core.auth import services as auth_services
from core.catalog import listing
from core.catalog import products as catalog_products
from core.catalog.listing import total_pages
from core.customers.models import CustomerStatus
from core.customers.services import list_customers
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.inventory.services import find_product, products_to_restock, replenish_product_stock, stock_status
from core.money import format_money
from core.orders import lifecycle, queries, reports
from core.orders.models import OrderChannel, OrderStatus
from web.htmx import page_or_partial
from web.tenancy import current_tenant, host_slug, resolved_tenant, tenant_db

bp = Blueprint("store_admin", __name__, url_prefix="/admin")
PAGE_SIZE = 20
SALES_DAYS = 30
# Customers offered for a customer API client (the active ones, newest first).
CUSTOMER_CHOICES = 200


@bp.before_request
def store_admins_only():
    """Only on a store's subdomain (404 on the platform host), only for its store admins."""
    if host_slug() is None:
        raise NotFound("There is no such page on the platform portal.")
    return require_portal_user()


@bp.context_processor
def store_context() -> dict:
    """What every store-admin template uses. The tenant only once the guard resolved it (an error
    page of an unknown host renders without one)."""
    context = {"stock_status": stock_status}
    if (tenant := resolved_tenant()) is not None:
        context["tenant"] = tenant
    return context


def _page_number() -> int:
    page = request.args.get("page", 1, type=int)
    return page if page and page > 0 else 1


# --- dashboard -----------------------------------------------------------------------------------

@bp.get("/dashboard")
def dashboard():
    """Orders and revenue of the last 30 days (charts with a table), products to restock."""
    session = tenant_db()
    report = reports.daily_sales(session, SALES_DAYS)
    restock, restock_total = products_to_restock(session, limit=10)
    days = [day.day for day in report.days]
    return render_template(
        "admin/store/dashboard.html", report=report, restock=restock, restock_total=restock_total,
        revenue_chart=bar_chart(days, [day.revenue for day in report.days], format_money),
        # Order counts are whole: an axis of at least 2 keeps its middle mark a whole number.
        orders_chart=bar_chart(days, [Decimal(day.orders) for day in report.days], lambda v: f"{int(v):,}",
                               least_top=Decimal(2)))


# --- products ------------------------------------------------------------------------------------

@bp.get("/products")
def products():
    """Every product, inactive ones too, searchable by name or SKU, with stock badges."""
    search, page = request.args.get("q", "").strip(), _page_number()
    items, total = listing.list_admin_products(tenant_db(), page=page, page_size=PAGE_SIZE, search=search)
    return page_or_partial("admin/store/products.html", "admin/store/_products_table.html", dict(
        products=items, total=total, page=page, pages=total_pages(total, PAGE_SIZE), search=search,
        replenish_form=ReplenishForm()))


def _category_choices(session) -> list[tuple[str, str]]:
    return [SelectChoice(c.id, c.name if c.is_active else f"{c.name} (inactive)")
            for c in listing.list_all_categories(session)]


def _product_form_page(form, product=None, status: int = 200):
    return render_template("admin/store/product_form.html", form=form, product=product,
                           replenish_form=ReplenishForm()), status


@bp.route("/products/new", methods=["GET", "POST"])
def new_product():
    session = tenant_db(write=request.method == "POST")
    form = NewProductForm()
    form.categories.choices = _category_choices(session)
    if form.validate_on_submit():
        try:
            product = catalog_products.create_product(session, current_tenant(), sku=form.sku.data, quantity=form.quantity.data,
                                             **form.product_values())
        except DomainError as exc:  # a taken SKU (AlreadyExists) goes beside its field like the rest
            show_domain_error(form, exc, form.DOMAIN_FIELDS)
            return _product_form_page(form, status=exc.status)
        flash(f"Product {product.name} ({product.sku}) was added.")
        return redirect(url_for(".edit_product", product_id=product.id), 303)
    return _product_form_page(form, status=400 if form.errors else 200)


@bp.route("/products/<product_id>", methods=["GET", "POST"])
def edit_product(product_id: str):
    session = tenant_db(write=request.method == "POST")
    product = find_product(session, product_id)
    form = ProductForm(data=ProductForm.initial(product) if request.method == "GET" else None)
    form.categories.choices = _category_choices(session)
    if form.validate_on_submit():
        try:
            catalog_products.update_product(session, product, **form.product_values())
        except DomainError as exc:
            show_domain_error(form, exc, form.DOMAIN_FIELDS)
            return _product_form_page(form, product, status=exc.status)
        flash(f"Product {product.name} was saved.")
        return redirect(url_for(".edit_product", product_id=product.id), 303)
    return _product_form_page(form, product, status=400 if form.errors else 200)


@bp.post("/products/<product_id>/replenish")
def replenish(product_id: str):
    """Add units to a product's stock (core replenish_product_stock: one conditional UPDATE).
    htmx gets the stock cell back with the new quantity and status; a plain post is redirected."""
    session = tenant_db(write=True)
    product = find_product(session, product_id)  # 404 for an id of another store
    form = ReplenishForm()
    change, status = None, 400
    if form.validate_on_submit():
        try:
            change = replenish_product_stock(session, product.id, form.quantity.data)
            status = 200
        except ValidationFailed as exc:
            show_domain_error(form, exc, {"quantity": "quantity"})
        except Conflict as exc:
            form.quantity.errors = [*form.quantity.errors, exc.detail]
            status = exc.status
    if not htmx_request.htmx:
        if change:
            flash(f"Added {change.quantity} units of {product.name}: {change.current} in stock.")
        else:
            flash(f"{product.name} was not replenished: {' '.join(form.quantity.errors)}")
        return redirect(request.referrer if _same_portal(request.referrer) else url_for(".products"), 303)
    return render_template("admin/store/_stock_cell.html", product=product, change=change,
                           replenish_form=form if change is None else ReplenishForm(formdata=None)), status


def _same_portal(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url + "admin/")


# --- orders --------------------------------------------------------------------------------------

@bp.get("/orders")
def orders():
    """Orders of both channels (storefront, api), filtered by channel and status, newest first."""
    channel, status, page = request.args.get("channel") or None, request.args.get("status") or None, _page_number()
    items, total = queries.list_orders(tenant_db(), page=page, page_size=PAGE_SIZE, channel=channel,
                                              status=status)
    return page_or_partial("admin/store/orders.html", "admin/store/_orders_table.html", dict(
        orders=items, total=total, page=page, pages=total_pages(total, PAGE_SIZE), channel=channel, status=status,
        channels=list(OrderChannel), statuses=list(OrderStatus)))


@bp.get("/orders/<order_id>")
def order(order_id: str):
    return render_template("admin/store/order.html", order=queries.get_order(tenant_db(), order_id),
                           form=CancelOrderForm(), error=None)


@bp.post("/orders/<order_id>/cancel")
def cancel_order(order_id: str):
    """Cancel a PENDING order; its stock is given back. Anything else stays as it was, with the
    reason on the order's page."""
    # The form is only its CSRF token, which CSRFProtect has checked before this view runs.
    session = tenant_db(write=True)
    try:
        cancelled = lifecycle.cancel_pending_order(session, order_id)
    except Conflict as exc:
        return render_template("admin/store/order.html", order=queries.get_order(session, order_id),
                               form=CancelOrderForm(), error=exc.detail), exc.status
    flash(f"Order {cancelled.number} was cancelled; its stock was given back.")
    return redirect(url_for(".order", order_id=cancelled.id), 303)


# --- customers and API clients -------------------------------------------------------------------

@bp.get("/customers")
def customers():
    page = _page_number()
    items, total = list_customers(tenant_db(), page=page, page_size=PAGE_SIZE)
    return page_or_partial("admin/store/customers.html", "admin/store/_customers_table.html", dict(
        customers=items, total=total, page=page, pages=total_pages(total, PAGE_SIZE)))


def _api_clients_page(form: ApiClientForm, *, issued=None, secret: str | None = None, status: int = 200):
    active, _ = list_customers(tenant_db(write=request.method == "POST"), page=1, page_size=CUSTOMER_CHOICES,
                               status=CustomerStatus.ACTIVE)
    form.customer_id.choices = [SelectChoice("", "None (not a customer client)")] + [
        SelectChoice(c.id, f"{c.name} <{c.contact_email}>") for c in active]
    names = {c.id: c.name for c in active}
    response = make_response(render_template(
        "admin/store/api_clients.html", form=form, clients=auth_services.list_api_clients(current_tenant()),
        customer_names=names, issued=issued, secret=secret), status)
    # The page may hold a secret shown this once: no cache, no back-button copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api-clients")
def api_clients():
    form = ApiClientForm(data={"customer_id": request.args.get("customer", "")})
    if request.args.get("customer"):
        form.role.data = "customer"
    return _api_clients_page(form)


@bp.post("/api-clients")
def issue_api_client():
    """Issue credentials (the secret is stored hashed), then redirect to the page that shows the
    secret once: refreshing that page issues nothing."""
    form = ApiClientForm()
    if form.validate_on_submit():
        try:
            client, secret = auth_services.issue_api_client(tenant_db(write=True), current_tenant(), form.name.data,
                                                            form.role.data, form.customer_id.data or None)
        except DomainError as exc:
            show_domain_error(form, exc, form.DOMAIN_FIELDS)
            return _api_clients_page(form, status=exc.status)
        if keep_secret_to_show_once(client.id, secret):
            return redirect(url_for(".issued_api_client", client_pk=client.id), 303)
        # Redis unreachable: the secret can only be shown in this answer.
        return _api_clients_page(ApiClientForm(formdata=None), issued=client, secret=secret, status=201)
    return _api_clients_page(form, status=400)


@bp.get("/api-clients/<client_pk>/credentials")
def issued_api_client(client_pk: str):
    """The API clients page with one client's credentials: its secret on the first visit after
    it was issued, afterwards only that it was shown once."""
    client = auth_services.get_api_client(current_tenant(), client_pk)  # 404 for another store's
    return _api_clients_page(ApiClientForm(formdata=None), issued=client, secret=take_secret_to_show(client.id))


@bp.post("/api-clients/<client_pk>/revoke")
def revoke_api_client(client_pk: str):
    # The form is only its CSRF token, which CSRFProtect has checked before this view runs.
    client = auth_services.revoke_api_client(current_tenant(), client_pk)
    flash(f"API client {client.name} ({client.client_id}) was revoked; its tokens no longer work.")
    return redirect(url_for(".api_clients"), 303)
