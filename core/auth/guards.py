"""Who is calling: the bearer token of the request, checked against the request's tenant."""
from __future__ import annotations

from dataclasses import dataclass

from flask import g, request

from core.auth.models import ApiClient, Role
from core.auth.tokens import verify_access_token
from core.errors import Forbidden, Unauthorized
from core.extensions import db


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant: str | None
    roles: tuple[str, ...]
    customer_id: str | None = None

    @property
    def is_superadmin(self) -> bool:
        return Role.SUPERADMIN in self.roles

    def has_any(self, *roles: str) -> bool:
        return self.is_superadmin or any(role in self.roles for role in roles)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def current_principal() -> Principal | None:
    """The verified caller of this request, or None when no token was sent (cached per request)."""
    if "principal" in g:
        return g.principal
    token = bearer_token()
    principal = None
    if token is not None:
        claims = verify_access_token(token)
        principal = Principal(subject=claims["sub"], tenant=claims.get("tenant"),
                              roles=tuple(claims.get("roles") or ()), customer_id=claims.get("customerId"))
        if not principal.is_superadmin and principal.subject.startswith("sf_"):
            client = db.session.scalar(db.select(ApiClient).filter_by(client_id=principal.subject))
            if client is None or client.revoked_at is not None:
                raise Unauthorized("These API credentials have been revoked.")
    g.principal = principal
    return principal


def require_principal(*roles: str, tenant_slug: str | None = None) -> Principal:
    """401 without a valid token; 403 when the token has none of `roles` (superadmin always may);
    401 when the token belongs to another tenant than the request's."""
    principal = current_principal()
    if principal is None:
        raise Unauthorized("A bearer token is required.")
    if tenant_slug is not None and not principal.is_superadmin and principal.tenant != tenant_slug:
        raise Unauthorized("The token was not issued for this store.")
    if roles and not principal.has_any(*roles):
        raise Forbidden(f"This operation needs one of the roles: {', '.join(roles)}.")
    return principal
