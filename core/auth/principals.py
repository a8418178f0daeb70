"""Who is calling: the principal an access token names, and what it may do."""
from __future__ import annotations

from dataclasses import dataclass

from core.auth.models import ApiClient, Role
from core.auth.tokens import verify_access_token
from core.errors import Forbidden, Unauthorized
from core.extensions import db

# Built once: every API client's call checks that its credentials were not revoked.
_CLIENT_BY_ID = db.select(ApiClient.revoked_at).where(ApiClient.client_id == db.bindparam("client_id"))


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

    def authorize(self, *roles: str, tenant_slug: str | None = None) -> "Principal":
        """401 when the token belongs to another tenant than `tenant_slug` (only a superadmin
        crosses tenants); 403 when it has none of `roles` (a superadmin always may)."""
        if tenant_slug is not None and not self.is_superadmin and self.tenant != tenant_slug:
            raise Unauthorized("The token was not issued for this store.")
        if roles and not self.has_any(*roles):
            raise Forbidden(f"This operation needs one of the roles: {', '.join(roles)}.")
        return self


def authenticate(token: str) -> Principal:
    """The principal of a verified access token (Unauthorized, 401, otherwise). An API client's
    token stops working the moment its credentials are revoked."""
    claims = verify_access_token(token)
    principal = Principal(subject=claims["sub"], tenant=claims.get("tenant"),
                          roles=tuple(claims.get("roles") or ()), customer_id=claims.get("customerId"))
    if not principal.is_superadmin and principal.subject.startswith("sf_"):
        found = db.session.execute(_CLIENT_BY_ID, {"client_id": principal.subject}).first()
        if found is None or found.revoked_at is not None:
            raise Unauthorized("These API credentials have been revoked.")
    return principal
