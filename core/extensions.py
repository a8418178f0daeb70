"""Flask extensions, created unbound; `storefleet.app.create_app` wires each one once, in a fixed
order. (The rate limiter is the web seam's: web.ratelimit.)"""
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase, registry

from core.columns import TYPE_ANNOTATIONS


class ControlBase(DeclarativeBase):
    """Declarative base of the control database (plans, tenants, users, API clients)."""

    registry = registry(type_annotation_map=TYPE_ANNOTATIONS)


db = SQLAlchemy(model_class=ControlBase)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()
