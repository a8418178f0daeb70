"""The shop pages. Thin handlers: parse the request, call one core service (the same ones the
JSON API calls), render. Each URL answers the full page, or only its partial for an htmx request
aimed at that partial; every form also works as a plain HTML form without JavaScript (POST,
then 303 to the page to show)."""
from __future__ import annotations

import json
import uuid

from flask import Blueprint, current_app, flash, g, redirect, render_template, session, url_for
from htmx_flask import make_response as htmx_response
from htmx_flask import request
from werkzeug.exceptions import HTTPException

from core.cart import services as carts
from core.catalog import listing as catalog
from core.catalog.pages import catalog_pages
from core.errors import (DomainError, FeatureDisabled, GuestCheckoutDisabled, IdempotencyConflict, InsufficientStock,
                         LimitExceeded, NotFound, PriceChanged, ValidationFailed)
from core.orders import checkout as checkout_service
from core.orders import pricing
from core.orders.models import PaymentMethod
from core.orders.queries import get_session_order
from core.tenancy.features import Feature, effective_features, require_feature
from core.tenancy.resolve import ready_tenants
from storefront import cards
from storefront.forms import (PAYMENT_LABELS, AddToCartForm, CartQuantityForm, CatalogFilterForm, CheckoutForm,
                              RemoveItemForm)
from web.errors import handle_domain_error, handle_http_exception
from web.htmx import redirect_after_post, wants_partial
from web.tenancy import current_tenant, host_slug, resolved_tenant, tenant_db

bp = Blueprint("storefront", __name__)
# Globals of the shop's templates (not context values: storefront.cards renders its macro out of
# any page's context).
bp.add_app_template_global(cards.stock_state, "stock_state")
bp.add_app_template_global(cards.stock_label, "stock_label")
bp.add_app_template_global(cards.product_card, "catalog_card")

PAGE_SIZE = 12
SHOPPER_COOKIE = "shop_session"
SHOPPER_COOKIE_MAX_AGE = 30 * 24 * 3600
CHECKOUT_PATH = "/checkout"


# --- request helpers ------------------------------------------------------------------------------

def features() -> dict[Feature, bool]:
    if "shop_features" not in g:
        g.shop_features = effective_features(current_tenant())
    return g.shop_features


def shopper_id(*, create: bool = False) -> str | None:
    """The guest's session id from the shop cookie; with `create`, a new one when there is none
    (the cookie is then set on the response by `set_shopper_cookie`)."""
    if g.get("shopper_id") is None:
        raw = request.cookies.get(SHOPPER_COOKIE)
        try:
            g.shopper_id = carts.normalize_session_id(raw) if raw else None
        except ValidationFailed:
            g.shopper_id = None  # a tampered or foreign cookie: a new guest
        if g.shopper_id is None and create:
            g.shopper_id = g.new_shopper_id = str(uuid.uuid4())
    return g.shopper_id


def cart_count() -> int:
    if "cart_count" not in g:
        sid = shopper_id()
        g.cart_count = carts.item_count(tenant_db(), sid) if sid else 0
    return g.cart_count


def require_guest_checkout(tenant) -> None:
    """The shop's shoppers are guests (it has no accounts): they may check out where
    core.orders.checkout lets a guest place an order. A store that sells only to callers with
    credentials has nothing to offer them here (a 403 page)."""
    try:
        checkout_service.require_placing(tenant, None)
    except GuestCheckoutDisabled as exc:
        raise FeatureDisabled("Guest checkout is disabled for this store.", feature=Feature.GUEST_CHECKOUT) from exc


@bp.after_request
def set_shopper_cookie(response):
    """Set the new guest's cookie: HttpOnly, SameSite=Lax, Secure over HTTPS or always with
    SESSION_COOKIE_SECURE (behind a proxy that terminates TLS). Not Secure by default: browsers
    would not send a Secure cookie back over plain-http localhost."""
    new_id = g.pop("new_shopper_id", None)
    if new_id is not None:
        secure = request.is_secure or bool(current_app.config["SESSION_COOKIE_SECURE"])
        response.set_cookie(SHOPPER_COOKIE, new_id, max_age=SHOPPER_COOKIE_MAX_AGE, path="/", httponly=True,
                            samesite="Lax", secure=secure)
    response.vary.add("HX-Request")
    return response


@bp.errorhandler(DomainError)
@bp.errorhandler(HTTPException)
def explain_to_htmx(exc):
    """An error of an htmx request (an item that is gone, a feature switched off, a store
    suspended meanwhile, a refused CSRF token) becomes a notice in the page's #flash region,
    with its status; every other request gets the platform's HTML error page."""
    if not request.htmx:
        return handle_domain_error(exc) if isinstance(exc, DomainError) else handle_http_exception(exc)
    if isinstance(exc, DomainError):
        status, detail = exc.status, exc.detail
    else:
        status, detail = exc.code or 500, exc.description or exc.name
    notice = render_template("storefront/_notice.html", message=detail, error=True)
    return htmx_response(notice, status, retarget="#flash", reswap="innerHTML")


@bp.context_processor
def shop_context() -> dict:
    tenant = resolved_tenant()
    if tenant is None:
        return {}
    return {"store": tenant, "features": features(), "cart_count": cart_count, "line_total": pricing.line_total,
            "payment_label": lambda method: PAYMENT_LABELS.get(method, method or "")}


# --- catalog --------------------------------------------------------------------------------------

@bp.get("/")
def home():
    """The store's catalog on a store's host; the platform's landing page on the platform host."""
    if host_slug() is None:
        platform_host = current_app.config["PLATFORM_HOST"]
        stores = [(t, f"{request.scheme}://{t.slug}.{platform_host}/") for t in ready_tenants()]
        return render_template("storefront/landing.html", stores=stores)
    tenant = current_tenant()
    require_feature(tenant, Feature.CATALOG)
    if shopper_id() is not None or "_flashes" in session:
        return _catalog_page(tenant)
    # A visitor with no cart and no notice is shown what every such visitor is shown: the page is
    # kept by the store's catalog version (core.catalog.pages) with what else it shows.
    key = ("shop", wants_partial("results"), tuple(sorted(request.args.items(multi=True))), tenant.name,
           tuple(tenant.feature_flags.items()))
    return catalog_pages().kept(tenant, key, lambda: _catalog_page(tenant), keep=lambda page: page[1] == 200)


def _catalog_page(tenant) -> tuple[str, int]:
    """The catalog page (or its results, for htmx) for the filters of the query string."""
    form = CatalogFilterForm(formdata=request.args)
    by_category = features()[Feature.CATEGORIES]
    if not by_category:
        del form.category
    products, total, categories, status = [], 0, None, 200
    if form.validate():
        try:
            # The filter's category choices come with the page, in its one statement.
            listing = catalog_pages().list_products(
                tenant, tenant_db, page=form.page.data or 1, page_size=PAGE_SIZE, search=form.search.data,
                category_id=(form.category.data or None) if by_category else None,
                min_price=form.min_price.data, max_price=form.max_price.data, with_active_categories=by_category)
            products, total, categories = listing.items, listing.total, listing.active_categories
        except ValidationFailed as exc:
            for name, messages in (exc.errors or {}).items():
                field = form[CatalogFilterForm.SERVICE_FIELDS[name]]
                field.errors = list(field.errors) + messages
            status = 400
    else:
        status = 400
    if by_category:
        form.offer_categories(categories if categories is not None else catalog.active_categories(tenant_db()))
        if form.category.errors:
            products, total, status = [], 0, 400
    page = (form.page.data or 1) if not form.page.errors else 1
    context = {"form": form, "products": products, "total": total, "page": page, "query": form.query(),
               "pages": catalog.total_pages(total, PAGE_SIZE)}
    if wants_partial("results"):
        return render_template("storefront/_results.html", oob_errors=True, **context), status
    return render_template("storefront/catalog.html", **context), status


@bp.get("/products/<product_id>")
def product(product_id: str):
    require_feature(current_tenant(), Feature.CATALOG)
    item = catalog.get_active_product(tenant_db(), product_id)
    return render_template("storefront/product.html", product=item,
                           form=AddToCartForm(product_id=item.id, quantity=1))


# --- cart -----------------------------------------------------------------------------------------

@bp.post("/cart/items")
def add_to_cart():
    """Add a quantity of a product. htmx: the add form again, with its confirmation or error,
    and the header's cart count swapped out of band."""
    tenant = current_tenant()
    require_feature(tenant, Feature.CATALOG)
    require_feature(tenant, Feature.CART)
    session = tenant_db(write=True)
    form = AddToCartForm()
    item = catalog.get_active_product(session, form.product_id.data)
    status, added = 400, None
    if form.validate():
        try:
            carts.add_item(session, tenant, shopper_id(create=True), item.id, form.quantity.data)
        except (InsufficientStock, LimitExceeded) as exc:
            form.quantity.errors = [exc.detail]
            status = exc.status
        else:
            status, added = 200, f"Added {form.quantity.data} × {item.name} to your cart."
    if request.htmx:
        return render_template("storefront/_add_to_cart.html", product=item, added=added, oob_count=True,
                               form=AddToCartForm(formdata=None, product_id=item.id) if added else form), status
    if added:
        flash(added)
        return redirect(url_for(".product", product_id=item.id), 303)
    return render_template("storefront/product.html", product=item, form=form), status


def _render_cart(cart, *, line_errors: dict | None = None, status: int = 200):
    items = list(cart.items) if cart is not None else []
    context = {"items": items, "subtotal": pricing.items_subtotal(items), "shortfalls": pricing.stock_shortfalls(items),
               "line_errors": line_errors or {}, "remove_form": RemoveItemForm()}
    if request.htmx:
        return render_template("storefront/_cart.html", oob_count=True, **context), status
    return render_template("storefront/cart.html", **context), status


@bp.get("/cart")
def cart():
    require_feature(current_tenant(), Feature.CART)
    sid = shopper_id()
    return _render_cart(carts.find_cart(tenant_db(), sid) if sid else None)


@bp.post("/cart/items/<item_id>")
def update_cart_item(item_id: str):
    """Set a line's quantity; a refused quantity is explained beside that line."""
    tenant = current_tenant()
    require_feature(tenant, Feature.CART)
    sid = shopper_id()
    if sid is None:
        raise NotFound("Cart item not found.")
    session = tenant_db(write=True)
    form = CartQuantityForm()
    errors, status = {}, 200
    if form.validate():
        try:
            carts.update_item(session, tenant, sid, item_id, form.quantity.data)
        except (InsufficientStock, LimitExceeded) as exc:
            errors, status = {item_id: exc.detail}, exc.status
    else:
        errors, status = {item_id: form.quantity.errors[0]}, 400
    if not errors and not request.htmx:
        return redirect(url_for(".cart"), 303)
    cart = carts.find_cart(session, sid)
    if cart is None or not any(i.id == item_id for i in cart.items):
        raise NotFound("Cart item not found.")
    return _render_cart(cart, line_errors=errors, status=status)


@bp.post("/cart/items/<item_id>/remove")
def remove_cart_item(item_id: str):
    require_feature(current_tenant(), Feature.CART)
    sid = shopper_id()
    if sid is None:
        raise NotFound("Cart item not found.")
    cart = carts.remove_item(tenant_db(write=True), sid, item_id)
    if not request.htmx:
        return redirect(url_for(".cart"), 303)
    return _render_cart(cart)


# --- checkout -------------------------------------------------------------------------------------

def _quote_or_redirect():
    """The quote of the shopper's cart, or a redirect to the cart page (empty cart, or a line
    no longer in stock: the cart page shows which)."""
    try:
        return checkout_service.quote_cart(tenant_db(), current_tenant(), shopper_id()), None
    except ValidationFailed:
        return None, redirect_after_post(url_for(".cart"))
    except InsufficientStock as exc:
        flash(exc.detail, "error")
        return None, redirect_after_post(url_for(".cart"))


def _render_checkout(form, quote, status: int = 200, message: str | None = None, *, new_prices: bool = False):
    """The checkout page, or its form alone for htmx (with the order summary out of band when
    `new_prices`). The form carries the digest of the prices the page shows, which placing the
    order confirms (core.orders.pricing)."""
    form.prices_seen.data = pricing.prices_shown(quote.items)
    partial = wants_partial("checkout-form")
    context = {"form": form, "quote": quote, "message": message, "payment_methods": list(PaymentMethod),
               "oob_quote": new_prices and partial}
    if partial:
        return render_template("storefront/_checkout_form.html", **context), status
    return render_template("storefront/checkout.html", **context), status


@bp.get(CHECKOUT_PATH)
def checkout():
    require_guest_checkout(current_tenant())
    quote, redirect_response = _quote_or_redirect()
    if redirect_response is not None:
        return redirect_response
    return _render_checkout(CheckoutForm(formdata=None, idempotency_key=str(uuid.uuid4())), quote)


@bp.post(CHECKOUT_PATH)
def place_order():
    """Place the order once per idempotency key of the form: a resubmission replays the first
    answer (the same confirmation page); one arriving while the first runs waits on a page that
    follows it."""
    tenant = current_tenant()
    require_guest_checkout(tenant)
    form = CheckoutForm()
    if not form.validate():
        quote, redirect_response = _quote_or_redirect()
        return redirect_response or _render_checkout(form, quote, 400)
    sid = shopper_id()
    if sid is None:
        return redirect_after_post(url_for(".cart"))
    key = form.idempotency_key.data
    try:
        answer = checkout_service.place_checkout_order(
            tenant_db(write=True), tenant, None,
            checkout_service.CheckoutRequest(sid, key, form.contact(), prices_seen=form.prices_seen.data or None),
            render=lambda order: (200, json.dumps({"orderNumber": order.number})))
    except PriceChanged as exc:
        # The page showed other prices: show these, keep what the shopper typed, place nothing.
        quote, redirect_response = _quote_or_redirect()
        return redirect_response or _render_checkout(form, quote, exc.status, message=exc.detail, new_prices=True)
    except InsufficientStock as exc:
        flash(f"Your order was not placed. {exc.detail}", "error")
        return redirect_after_post(url_for(".cart"))
    except IdempotencyConflict:
        return redirect_after_post(url_for(".order_placed", key=key))
    except (ValidationFailed, LimitExceeded) as exc:
        quote, redirect_response = _quote_or_redirect()
        return redirect_response or _render_checkout(form, quote, exc.status, message=exc.detail)
    return redirect_after_post(url_for(".order", number=json.loads(answer.body)["orderNumber"]))


@bp.get("/checkout/placed/<key>")
def order_placed(key: str):
    """Where a second submission of a checkout form goes: the order page once the first one
    has placed the order; until then a page that reloads itself."""
    tenant = current_tenant()
    sid = shopper_id()
    if sid is None:
        raise NotFound("Order not found.")
    state, answer = checkout_service.placed_answer(tenant_db(), tenant, None, sid, key)
    if answer is not None:
        return redirect(url_for(".order", number=json.loads(answer.body)["orderNumber"]), 303)
    if state is None:
        flash("Your order was not placed; please check your cart and try again.", "error")
        return redirect(url_for(".cart"), 303)
    return render_template("storefront/order_pending.html"), 202


@bp.get("/orders/<number>")
def order(number: str):
    """The confirmation of an order, for the shopper session that placed it only (404 otherwise)."""
    sid = shopper_id()
    if sid is None:
        raise NotFound("Order not found.")
    return render_template("storefront/order.html", order=get_session_order(tenant_db(), sid, number))
