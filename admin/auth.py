"""Guards and request helpers of the portals: which portal this host is, who may use it, and a
new API secret kept for the one page that shows it."""
from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from flask import request, session, url_for
from flask_login import current_user
from redis.exceptions import RedisError

from core.auth.services import may_use_portal
from core.errors import Forbidden
from core.queues import redis_client
from web.htmx import navigate
from web.tenancy import current_tenant, host_slug

log = logging.getLogger(__name__)


def portal_tenant():
    """None on the platform host (super-admin portal); the Ready store of this subdomain
    otherwise (friendly 404 / 409 / 423 pages for an unknown, unready or suspended store)."""
    return None if host_slug() is None else current_tenant()


# How long a new API secret waits, server-side, for the page that shows it.
SECRET_TO_SHOW_SECONDS = 300


def keep_secret_to_show_once(client_pk: str, secret: str) -> bool:
    """Keep an API client's new secret for the page its POST redirects to (Post/Redirect/Get):
    that page shows it once, and refreshing it neither shows it again nor issues new credentials.

    The secret is kept in Redis, for SECRET_TO_SHOW_SECONDS, under a random handle; the session
    (a signed, not encrypted, cookie) holds only the handle and the client's id, so the secret
    never travels in a cookie and is gone from the server once shown. False when Redis is
    unreachable: the caller then shows the secret in its own answer."""
    handle = secrets.token_urlsafe(24)
    try:
        redis_client().set(_secret_key(handle), secret, ex=SECRET_TO_SHOW_SECONDS)
    except RedisError:
        log.warning("Redis unreachable: the new secret of API client %s is shown in the POST's answer", client_pk)
        return False
    session["secret_to_show"] = {"client": client_pk, "handle": handle}
    return True


def take_secret_to_show(client_pk: str) -> str | None:
    """The secret kept for this API client, taken from Redis (GETDEL: it can be read once);
    None once it was shown, after SECRET_TO_SHOW_SECONDS, or when Redis is unreachable."""
    kept = session.get("secret_to_show")
    if kept is None or kept["client"] != client_pk:
        return None
    del session["secret_to_show"]
    try:
        secret = redis_client().getdel(_secret_key(kept["handle"]))
    except RedisError:
        log.warning("Redis unreachable: the new secret of API client %s could not be shown", client_pk)
        return None
    return secret.decode() if secret is not None else None


def _secret_key(handle: str) -> str:
    return f"storefleet:secret-to-show:{handle}"


def safe_next(target: str | None) -> str | None:
    """A `next` address to return to after sign-in, only when it is a path of the portal on this
    same host (never another site: no scheme, no host, no '//'), written as a URL is: no space,
    no control character (a CR/LF would split the Location header), no backslash."""
    if not target or any(char.isspace() or char == "\\" or not char.isprintable() for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or target.startswith("//"):
        return None
    return target


def require_portal_user():
    """before_request of a portal blueprint: signed-out visitors go to the sign-in page (an htmx
    request is told to navigate there); a user of another portal or store gets 403."""
    tenant = portal_tenant()
    if not current_user.is_authenticated:
        return navigate(url_for("admin.login", next=request.full_path.rstrip("?")))
    if not may_use_portal(current_user, tenant):
        raise Forbidden("You are signed in with an account that cannot manage this site.")
    return None
