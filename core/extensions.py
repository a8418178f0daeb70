"""Flask extensions, created unbound; `create_app` wires each one once, in a fixed order."""
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import DeclarativeBase, registry


class ControlBase(DeclarativeBase):
    """Declarative base of the control database (plans, tenants, users, API clients)."""

    registry = registry(type_annotation_map={datetime: DateTime(timezone=True)})


db = SQLAlchemy(model_class=ControlBase)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()


def _rate_limit_key() -> str:
    from core.ratelimit import rate_limit_key

    return rate_limit_key()


def _client_limit() -> str:
    from core.ratelimit import client_limit

    return client_limit()


def _exempt() -> bool:
    from core.ratelimit import exempt

    return exempt()


limiter = Limiter(key_func=_rate_limit_key, application_limits=[_client_limit],
                  application_limits_exempt_when=_exempt)
