"""Checkout: turning a shopper's cart into an order. One service for every channel that checks
out a cart — the JSON API's /api/checkout and the storefront's checkout page — so who may check
out, how a request is identified and what placing an order does are decided here once.

Who may check out: the store sells through carts (the `cart` and `checkout` features, else
FeatureDisabled, 403). Anyone may ask for a quote; placing an order needs credentials of the
store, or — for a guest, who has none — the store's `guestCheckout` feature (else
GuestCheckoutDisabled, 401).

Placing is idempotent (core.idempotency.services): a request is its caller's scope (the token's
subject, else the guest's session), its Idempotency-Key and its fingerprint (the session and the
contact details), so the same request again replays the first answer, and the key with another
request, or while the first still runs, is refused (409).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy.orm import Session

from core.auth.principals import Principal
from core.cart.services import find_cart
from core.errors import GuestCheckoutDisabled
from core.idempotency.services import IdempotentRequest, StoredAnswer, caller_scope, key_state, request_fingerprint
from core.orders.models import Order
from core.orders.placement import OrderContact, place_order_idempotently
from core.orders.pricing import Quote, quote, reprice
from core.tenancy.features import Feature, effective_features, require_feature
from core.tenancy.models import Tenant
from core.unit_of_work import commits

# What a place-order request's fingerprint names, whichever channel sends it.
PLACE_ORDER = ("POST", "/api/checkout/place-order")


@dataclass(frozen=True)
class CheckoutRequest:
    """One attempt to place the order of the cart of `session_id`."""

    session_id: str
    idempotency_key: str
    contact: OrderContact
    # The digest of the prices on the checkout page the shopper confirms (core.orders.pricing
    # .prices_shown); None from the API, whose clients are shown prices by the cart and the quote.
    prices_seen: str | None = None

    def fingerprint(self) -> str:
        contact = self.contact
        return request_fingerprint(*PLACE_ORDER, {
            "sessionId": self.session_id, "idempotencyKey": self.idempotency_key, "email": contact.email,
            "phone": contact.phone, "shippingAddress": contact.shipping_address,
            "paymentMethod": contact.payment_method})


def require_checkout(tenant: Tenant) -> None:
    """The store checks out carts: the cart and checkout features (FeatureDisabled, 403)."""
    require_feature(tenant, Feature.CART)
    require_feature(tenant, Feature.CHECKOUT)


def require_placing(tenant: Tenant, principal: Principal | None) -> None:
    """Who may place an order: require_checkout, then credentials of this store (401 for a
    token of another store), or for a guest (principal None) the guestCheckout feature
    (GuestCheckoutDisabled, 401)."""
    require_checkout(tenant)
    if principal is not None:
        principal.authorize(tenant_slug=tenant.slug)
    elif not effective_features(tenant)[Feature.GUEST_CHECKOUT]:
        raise GuestCheckoutDisabled("Guest checkout is disabled for this store; a bearer token is required.")


def quote_cart(session: Session, tenant: Tenant, session_id: str | None, *, shown: bool = False) -> Quote:
    """The quote of the session's cart (core.orders.pricing.quote: 400 when the cart is missing
    or empty, 409 when a product's stock no longer covers its line). `shown`: the quote is the
    shopper's answer (the API's), so its prices are recorded as shown to them (pricing.reprice;
    `session` is then a writing session); else it only reads."""
    require_checkout(tenant)
    result = quote(tenant, find_cart(session, session_id) if session_id else None)
    if shown:
        reprice(result.items)
        session.flush()
    return result


def _scope(tenant: Tenant, principal: Principal | None, session_id: str) -> str:
    return caller_scope(tenant.slug, subject=principal.subject if principal else None, session_id=session_id)


@commits("placing an order stores its answer with the order before replying")
def place_checkout_order(session: Session, tenant: Tenant, principal: Principal | None, request: CheckoutRequest,
                         *, render: Callable[[Order], tuple[int, str]]) -> StoredAnswer:
    """Place the order of the request's cart, once per Idempotency-Key (see the module's doc):
    require_placing, then place_order_idempotently in `session` (a writing session of the
    store's database). `render(order)` is the (status, JSON document) answer stored with the
    order and replayed to a retry. The order records the customer a customer token acts for."""
    require_placing(tenant, principal)
    idempotent = IdempotentRequest(_scope(tenant, principal, request.session_id), request.idempotency_key,
                                   request.fingerprint())
    return place_order_idempotently(session, tenant, idempotent, request.session_id, request.contact,
                                    customer_id=principal.customer_id if principal else None,
                                    prices_seen=request.prices_seen, render=render)


def placed_answer(session: Session, tenant: Tenant, principal: Principal | None, session_id: str,
                  idempotency_key: str) -> tuple[str | None, StoredAnswer | None]:
    """What became of the caller's place-order request with this key: (None, None) when none
    holds it (never sent, or refused), ("in_progress", None) while it runs,
    ("completed", its stored answer). Reads only."""
    return key_state(session, _scope(tenant, principal, session_id), idempotency_key)
