"""Who is calling: the principal an access token names, and what it may do."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from core.auth.models import ApiClient, Role
from core.auth.tokens import verify_access_token
from core.caching import change_feed, forget_on_commit
from core.errors import Forbidden, Unauthorized
from core.extensions import db

# Built once: every API client's call checks that its credentials were not revoked.
_CLIENT_BY_ID = db.select(ApiClient.revoked_at).where(ApiClient.client_id == db.bindparam("client_id"))
_LIVE_CLIENTS = "storefleet.live_api_clients"


def init_principals(app) -> None:
    """Whether each API client is live (exists, not revoked), kept per process and fed by the
    change feed (core.caching): a client revoked here is refused at once, elsewhere within
    STORE_CACHE_SECONDS."""
    app.extensions[_LIVE_CLIENTS] = change_feed(app).keep(_LIVE_CLIENTS)


forget_on_commit(ApiClient, _LIVE_CLIENTS, lambda client: client.client_id)


def _is_live(client_id: str) -> bool:
    """Read on a connection of its own: the request's control session is not touched."""
    with db.engine.connect() as connection:
        found = connection.execute(_CLIENT_BY_ID, {"client_id": client_id}).first()
    return found is not None and found.revoked_at is None


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
    token stops working once its credentials are revoked: at once in the process that revoked
    them, within STORE_CACHE_SECONDS in every other."""
    claims = verify_access_token(token)
    principal = Principal(subject=claims["sub"], tenant=claims.get("tenant"),
                          roles=tuple(claims.get("roles") or ()), customer_id=claims.get("customerId"))
    if not principal.is_superadmin and principal.subject.startswith("sf_"):
        if not current_app.extensions[_LIVE_CLIENTS].get(principal.subject, _is_live):
            raise Unauthorized("These API credentials have been revoked.")
    return principal
