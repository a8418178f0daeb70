"""The super-admin portal on the platform host: http://{PLATFORM_HOST}/admin/."""
from __future__ import annotations

from flask import Blueprint, render_template

from admin.auth import require_portal_user
from core.errors import NotFound
from core.tenancy import admin as tenancy_admin
from core.tenancy.hosts import host_slug

bp = Blueprint("platform_admin", __name__, url_prefix="/admin")


@bp.before_request
def superadmins_only():
    """Only on the platform host (404 on a store's subdomain), only for super admins."""
    if host_slug() is not None:
        raise NotFound("There is no such page in a store's portal.")
    return require_portal_user()


@bp.get("/tenants")
def tenants():
    return render_template("admin/platform/tenants.html", tenants=tenancy_admin.list_tenants())
