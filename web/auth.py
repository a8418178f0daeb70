"""The caller of a request: its bearer token and the principal it names (cached per request)."""
from __future__ import annotations

from flask import g, request

from core.auth.principals import Principal, authenticate
from core.errors import Unauthorized


def bearer_token() -> str | None:
    """The token of `Authorization: Bearer <token>`; None without the header; 401 for any other
    scheme or an empty token."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def current_principal() -> Principal | None:
    """The verified caller of this request, or None when no token was sent."""
    if "principal" not in g:
        token = bearer_token()
        g.principal = authenticate(token) if token is not None else None
    return g.principal


def require_principal(*roles: str, tenant_slug: str | None = None) -> Principal:
    """401 without a valid token; then Principal.authorize(roles, tenant_slug)."""
    principal = current_principal()
    if principal is None:
        raise Unauthorized("A bearer token is required.")
    return principal.authorize(*roles, tenant_slug=tenant_slug)
