"""The application factory: configuration, extensions in a fixed order, the unit of work,
blueprints, error handlers and commands."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import redirect, url_for
from flask_openapi3 import Info, OpenAPI
from werkzeug.middleware.proxy_fix import ProxyFix

import core.auth.login  # noqa: F401  (the portals' user loader)
import core.models  # noqa: F401  (all tables known before anything queries)
import storefront
from admin import register_admin
from api import register_api
from api.document import StorefleetOpenAPI
from api.answers import send_declared_answer
from core import unit_of_work
from core.auth.principals import init_principals
from core.auth.tokens import init_tokens
from core.caching import init_change_feed
from core.catalog.pages import init_catalog_pages
from core.config import Config
from core.extensions import csrf, db, htmx, login_manager, migrate
from core.queues import redis_client
from core.tenancy.directory import init_directory
from core.tenancy.engines import init_engines, ping_when_idle
from storefleet.cli import register_cli
from web.errors import register_error_handlers, validation_error_response
from web.filters import register_template_filters
from web.inputs import init_inputs
from web.ratelimit import init_rate_limits

API_INFO = Info(
    title="Storefleet API",
    version="1.0.0",
    description="Multi-tenant commerce platform: provisioning, catalog, cart, checkout, inventory, "
                "B2B provisioning and purchases. Tenant-scoped calls name their store with X-Tenant-Slug.",
)
ROOT = Path(__file__).resolve().parents[1]
SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                    # An API client's credentials at POST /auth/token, as OAuth2 allows.
                    "basic": {"type": "http", "scheme": "basic"}}


def favicon():
    """Browsers that ask for /favicon.ico before reading a page's icon link get the same icon."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


def create_app(config: Config | None = None) -> OpenAPI:
    config = config or Config()
    app = StorefleetOpenAPI(
        "storefleet",
        info=API_INFO,
        security_schemes=SECURITY_SCHEMES,
        doc_prefix="/api",
        doc_url="/openapi.json",
        validation_error_status=400,
        validation_error_callback=validation_error_response,
        # Every API handler's answer is checked against its declared model and serialized
        # through it (api.answers).
        validate_response=True,
        validate_response_callback=send_declared_answer,
        root_path=str(ROOT),
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_object(config)
    app.config.setdefault("CONTROL_MIGRATIONS", ROOT / "migrations" / "control")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            ping_when_idle(db.engine)
    migrate.init_app(app, db, directory=str(app.config["CONTROL_MIGRATIONS"]))
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    init_inputs(app)
    init_rate_limits(app)
    init_engines(app)
    init_catalog_pages(app)
    init_change_feed(app, lambda: redis_client(app))
    init_directory(app)
    init_tokens(app)
    init_principals(app)
    unit_of_work.install(app)

    register_template_filters(app)
    register_api(app)
    app.register_blueprint(storefront.bp)  # the shop pages, on store hosts (landing page on the platform host)
    register_admin(app)
    register_error_handlers(app)
    register_cli(app)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    if app.config["PROXY_COUNT"]:
        # The client's address and scheme as the trusted proxies in front saw them (deploy/proxy).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=app.config["PROXY_COUNT"],
                                x_host=0, x_port=0, x_prefix=0)
    return app
