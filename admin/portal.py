"""What both portals share: sign-in, sign-out and /admin/ itself (every other page belongs to one
portal's blueprint: admin.store, admin.platform)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from admin.auth import portal_tenant, safe_next
from admin.forms import LoginForm
from core.auth.services import authenticate_portal_user, end_sessions
from core.errors import TooManyAttempts, Unauthorized

bp = Blueprint("admin", __name__, url_prefix="/admin")


def portal_home() -> str:
    """Where a signed-in admin of this host starts."""
    return url_for("platform_admin.tenants") if portal_tenant() is None else url_for("store_admin.dashboard")


@bp.get("/")
@login_required
def index():
    return redirect(portal_home())


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in to this host's portal. A wrong password, an account of another portal and too many
    attempts (core.auth.throttle) all stay on the form with an error beside it; success starts a
    new session."""
    tenant = portal_tenant()
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate_portal_user(form.email.data, form.password.data, tenant, request.remote_addr)
        except TooManyAttempts as exc:
            form.password.errors.append(exc.detail)
            return render_template("admin/login.html", form=form, tenant=tenant), 429, {
                "Retry-After": str(exc.data["retry_after"])}
        except Unauthorized as exc:
            form.password.errors.append(exc.detail)
        else:
            target = safe_next(request.args.get("next")) or portal_home()
            # A new session at sign-in: nothing from before (a planted CSRF token, a fixated
            # cookie's contents) survives into the signed-in one.
            session.clear()
            login_user(user)
            return redirect(target)
        return render_template("admin/login.html", form=form, tenant=tenant), 401
    return render_template("admin/login.html", form=form, tenant=tenant)


@bp.post("/logout")
def logout():
    """Sign out: every copy of the session ends, on every browser (core.auth.services.end_sessions)."""
    if current_user.is_authenticated:
        end_sessions(current_user)
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("admin.login"))
