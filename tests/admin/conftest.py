"""Portal fixtures: hosts of the platform and of stores, and store admins to sign in as."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from tests.conftest import SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD
from tests.support.html import csrf_token

STORE_ADMIN_PASSWORD = "store-admin-password"


@pytest.fixture
def platform_host(app) -> str:
    return app.config["PLATFORM_HOST"]


@pytest.fixture
def store_host(app):
    """store_host(slug): the host of a store's subdomain."""
    return lambda slug: f"{slug}.{app.config['PLATFORM_HOST']}"


@pytest.fixture
def create_store_admin(app):
    """Factory: a store admin of a tenant; returns its email (password STORE_ADMIN_PASSWORD)."""

    def factory(slug: str, email: str | None = None) -> str:
        from core.auth.models import Role
        from core.auth.services import create_user
        from core.extensions import db
        from core.tenancy.admin import get_tenant

        email = email or f"owner-{uuid.uuid4().hex[:8]}@{slug}.example.com"
        with app.app_context():
            create_user(email, STORE_ADMIN_PASSWORD, Role.STORE_ADMIN, get_tenant(slug))
            db.session.commit()
        return email

    return factory


@pytest.fixture
def sign_in(client):
    """sign_in(host, email, password): post the sign-in form of that host's portal."""

    def factory(host: str, email: str = SUPERADMIN_EMAIL, password: str = SUPERADMIN_PASSWORD, **query):
        base = f"http://{host}"
        page = client.get("/admin/login", base_url=base, query_string=query)
        return client.post("/admin/login", base_url=base, query_string=query,
                           data={"csrf_token": csrf_token(page.get_data(as_text=True)), "email": email,
                                 "password": password})

    return factory


@pytest.fixture
def shop_with_admin(create_tenant, create_store_admin, store_host):
    """A Ready store, its host and a store admin's email."""
    slug = create_tenant()
    return SimpleNamespace(slug=slug, host=store_host(slug), admin_email=create_store_admin(slug))
