"""The store-admin portal on a store's subdomain: http://{slug}.{PLATFORM_HOST}/admin/."""
from __future__ import annotations

from flask import Blueprint, render_template

from admin.auth import require_portal_user
from core.errors import NotFound
from core.tenancy.hosts import host_slug, page_tenant

bp = Blueprint("store_admin", __name__, url_prefix="/admin")


@bp.before_request
def store_admins_only():
    """Only on a store's subdomain (404 on the platform host), only for its store admins."""
    if host_slug() is None:
        raise NotFound("There is no such page on the platform portal.")
    return require_portal_user()


@bp.get("/dashboard")
def dashboard():
    return render_template("admin/store/dashboard.html", tenant=page_tenant())
