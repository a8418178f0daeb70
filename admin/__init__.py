"""The two admin portals. Both live under /admin/ and the Host decides which one answers: the
platform host (PLATFORM_HOST) is the super-admin portal (admin.platform), a store's subdomain
its store-admin portal (admin.store). Sign-in, sign-out and /admin/ itself are shared
(admin.portal); every other page belongs to one portal's blueprint, whose guard refuses the
other host with a 404."""
from __future__ import annotations

from flask import Flask

from admin import platform, portal, store
from core.extensions import login_manager


def register_admin(app: Flask) -> None:
    login_manager.login_view = "admin.login"
    login_manager.login_message = "Please sign in to continue."
    # The session is bound to the browser that signed in (Flask-Login "strong" protection).
    login_manager.session_protection = "strong"
    app.register_blueprint(portal.bp)
    app.register_blueprint(store.bp)
    app.register_blueprint(platform.bp)
