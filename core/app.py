"""The application factory: configuration, extensions in a fixed order, blueprints, error handlers."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import g
from flask_openapi3 import Info, OpenAPI

from core.config import Config
from core.extensions import csrf, db, htmx, login_manager, migrate
from core.ratelimit import init_rate_limits
from core.tenancy.engines import EngineRegistry, ping_when_idle

API_INFO = Info(
    title="Storefleet API",
    version="1.0.0",
    description="Multi-tenant commerce platform: provisioning, catalog, cart, checkout, inventory, "
                "B2B provisioning and purchases. Tenant-scoped calls name their store with X-Tenant-Slug.",
)
ROOT = Path(__file__).resolve().parents[1]
SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}


def create_app(config: Config | None = None) -> OpenAPI:
    from api.problems import validation_error_response

    config = config or Config()
    app = OpenAPI(
        "storefleet",
        info=API_INFO,
        security_schemes=SECURITY_SCHEMES,
        doc_prefix="/api",
        doc_url="/openapi.json",
        validation_error_status=400,
        validation_error_callback=validation_error_response,
        root_path=str(ROOT),
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    _configure(app, config)

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            ping_when_idle(db.engine)
    migrate.init_app(app, db, directory=str(app.config["CONTROL_MIGRATIONS"]))
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    init_rate_limits(app)
    app.extensions["storefleet.tenant_engines"] = EngineRegistry(
        capacity=app.config["TENANT_ENGINE_CACHE_SIZE"],
        pool_size=app.config["TENANT_POOL_SIZE"],
        max_overflow=app.config["TENANT_MAX_OVERFLOW"],
    )

    import core.auth.login  # noqa: F401  (the user loader)
    import core.models  # noqa: F401  (all tables known before anything queries)
    from admin import register_admin
    from api import register_api
    from api.problems import register_error_handlers
    from core.cli import register_cli
    import storefront

    register_api(app)
    app.register_blueprint(storefront.bp)  # the shop pages, on store hosts (landing page on the platform host)
    register_admin(app)
    register_error_handlers(app)
    register_cli(app)
    app.teardown_appcontext(_close_tenant_sessions)
    return app


def _configure(app: OpenAPI, config: Config) -> None:
    app.config.from_object(config)
    app.config.setdefault("CONTROL_MIGRATIONS", ROOT / "migrations" / "control")
    app.json.sort_keys = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _close_tenant_sessions(_exc) -> None:
    for key in ("tenant_session_w", "tenant_session_r"):
        session = g.pop(key, None)
        if session is not None:
            session.close()
