"""Guards and request helpers of the portals: which portal this host is, who may use it, and
whether an htmx request wants only a fragment."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, request, url_for
from flask_login import current_user

from core.auth.services import may_use_portal
from core.errors import Forbidden
from core.tenancy.hosts import host_slug, page_tenant


def portal_tenant():
    """None on the platform host (super-admin portal); the Ready store of this subdomain
    otherwise (friendly 404 / 409 / 423 pages for an unknown, unready or suspended store)."""
    return None if host_slug() is None else page_tenant()


def wants_partial() -> bool:
    """An htmx request for a fragment (a history restore wants the whole page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def safe_next(target: str | None) -> str | None:
    """A `next` address to return to after sign-in, only when it is a path of the portal on this
    same host (never another site: no scheme, no host, no '//')."""
    if not target:
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
        login_url = url_for("admin.login", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request"):
            return "", 204, {"HX-Redirect": login_url}
        return redirect(login_url)
    if not may_use_portal(current_user, tenant):
        raise Forbidden("You are signed in with an account that cannot manage this site.")
    return None
