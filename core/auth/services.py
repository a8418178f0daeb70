"""Users, API clients and the two OAuth2 grants. Passwords and client secrets are stored hashed."""
from __future__ import annotations

import secrets

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.auth import throttle
from core.auth.models import CLIENT_ROLES, ApiClient, Role, User
from core.auth.tokens import issue_access_token
from core.columns import utcnow
from core.customers.services import require_active_customer
from core.errors import AlreadyExists, NotFound, Unauthorized, ValidationFailed
from core.extensions import db
from core.tenancy.models import Tenant

# Compared against when the user does not exist, so both paths cost one hash check.
_DUMMY_HASH = generate_password_hash("storefleet-dummy-password")


def hash_secret(secret: str) -> str:
    return generate_password_hash(secret)


def create_user(email: str, password: str, role: Role, tenant: Tenant | None = None) -> User:
    """A super admin (no tenant) or a store admin of one tenant; the password is stored hashed."""
    email = email.strip().lower()
    if len(password) < 8:
        raise ValidationFailed.field("password", "Password must be at least 8 characters long.")
    if db.session.scalar(db.select(User).filter_by(email=email)) is not None:
        raise AlreadyExists(f"A user with email {email} already exists.", field="email")
    user = User(email=email, password_hash=hash_secret(password), role=role,
                tenant_id=tenant.id if tenant else None)
    db.session.add(user)
    db.session.flush()
    return user


def ensure_user(email: str, password: str, role: Role, tenant: Tenant | None = None) -> tuple[User, bool]:
    """Create the user if no user has this email; returns (user, created). Never changes a
    password (the start-up set-up runs this on every start)."""
    user = db.session.scalar(db.select(User).filter_by(email=email.strip().lower()))
    if user is not None:
        return user, False
    return create_user(email, password, role, tenant), True


def ensure_superadmin(email: str, password: str) -> tuple[User, bool]:
    """Create the super admin if missing; returns (user, created)."""
    return ensure_user(email, password, Role.SUPERADMIN)


def authenticate_user(email: str, password: str, address: str | None) -> User:
    """Check a password of a sign-in from `address`, throttled (core.auth.throttle): while a wait
    runs, TooManyAttempts before the password is looked at; a wrong password, an unknown email or
    an inactive account is the same Unauthorized, and counts."""
    email = (email or "").strip().lower()
    throttle.check(email, address)
    user = db.session.scalar(db.select(User).filter_by(email=email))
    # An unknown email costs the same hash check as a known one.
    if not check_password_hash(user.password_hash if user else _DUMMY_HASH, password or "") \
            or user is None or not user.is_active:
        throttle.failed(email, address)
        raise Unauthorized("Invalid email or password.")
    throttle.succeeded(email, address)
    return user


def authenticate_portal_user(email: str, password: str, tenant: Tenant | None, address: str | None) -> User:
    """A portal sign-in: the password check of authenticate_user (with its throttle), and the
    user must belong to the portal of this host — a super admin on the platform host (tenant
    None), a store admin of `tenant` on its subdomain. Anyone else is refused with the same
    answer as a wrong password, so the portal never tells which accounts exist elsewhere."""
    user = authenticate_user(email, password, address)
    if not may_use_portal(user, tenant):
        raise Unauthorized("Invalid email or password.")
    return user


def may_use_portal(user: User, tenant: Tenant | None) -> bool:
    """Whether a signed-in user may use the portal of this host (see authenticate_portal_user)."""
    if tenant is None:
        return user.role == Role.SUPERADMIN
    return user.role == Role.STORE_ADMIN and user.tenant_id == tenant.id


def create_api_client(tenant: Tenant, name: str, role: str, customer_id: str | None = None) -> tuple[ApiClient, str]:
    """Issue credentials; returns (client, plain secret). The secret is only ever shown once."""
    if role not in CLIENT_ROLES:
        raise ValidationFailed.field("role", f"Role must be one of: {', '.join(CLIENT_ROLES)}.")
    if role == Role.CUSTOMER and not customer_id:
        raise ValidationFailed.field("customerId", "A customer client needs a customerId.")
    secret = secrets.token_urlsafe(32)
    client = ApiClient(client_id=f"sf_{secrets.token_hex(12)}", secret_hash=hash_secret(secret), name=name,
                       role=role, tenant_id=tenant.id, customer_id=customer_id)
    db.session.add(client)
    db.session.flush()
    return client, secret


def end_sessions(user: User) -> None:
    """Sign-out: every copy of every session of `user` stops working (the login id carries the
    session version, User.get_id)."""
    user.session_version += 1


def password_grant(username: str, password: str, address: str | None) -> dict:
    user = authenticate_user(username, password, address)
    return issue_access_token(subject=user.id, tenant=user.tenant.slug if user.tenant else None, roles=[user.role])


def client_credentials_grant(client_id: str, client_secret: str, address: str | None) -> dict:
    """A token for an API client's id and secret, throttled as passwords are (core.auth.throttle)."""
    account = f"client:{client_id or ''}"
    throttle.check(account, address)
    client = db.session.scalar(db.select(ApiClient).filter_by(client_id=client_id or ""))
    valid = client is not None and client.revoked_at is None
    if not check_password_hash(client.secret_hash if valid else _DUMMY_HASH, client_secret or "") or not valid:
        throttle.failed(account, address)
        raise Unauthorized("Invalid client credentials.")
    throttle.succeeded(account, address)
    return issue_access_token(subject=client.client_id, tenant=client.tenant.slug, roles=[client.role],
                              customer_id=client.customer_id)


def issue_api_client(tenant_db: Session | None, tenant: Tenant, name: str, role: str,
                     customer_id: str | None = None) -> tuple[ApiClient, str]:
    """A store's own issuing of credentials (its admin portal): a name of 1–200 characters, a
    client role, and for a customer client an ACTIVE customer of this store (looked up in its
    database `tenant_db`, which only a customer client needs). Returns (client, plain secret);
    the secret is stored hashed only."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed.field("name", "Name is required (at most 200 characters).")
    if role not in CLIENT_ROLES:
        raise ValidationFailed.field("role", f"Role must be one of: {', '.join(CLIENT_ROLES)}.")
    if role == Role.CUSTOMER:
        if tenant_db is None:
            raise TypeError("a customer client is issued with the store's database session")
        customer_id = require_active_customer(tenant_db, customer_id).id
    else:
        customer_id = None  # only a customer client acts for a customer
    return create_api_client(tenant, name, role, customer_id)


def list_api_clients(tenant: Tenant) -> list[ApiClient]:
    """Every API client of this store, revoked ones too, newest first. Never the secrets."""
    return list(db.session.scalars(db.select(ApiClient).where(ApiClient.tenant_id == tenant.id)
                                   .order_by(ApiClient.created_at.desc(), ApiClient.id)))


def get_api_client(tenant: Tenant, client_pk: str) -> ApiClient:
    """An API client of this store by its row id; another store's client is NotFound (404)."""
    client = db.session.scalar(db.select(ApiClient).where(ApiClient.id == client_pk,
                                                          ApiClient.tenant_id == tenant.id))
    if client is None:
        raise NotFound("API client not found.")
    return client


def revoke_api_client(tenant: Tenant, client_pk: str) -> ApiClient:
    """Revoke a client of this store (404 for another store's): it can get no new token, and
    core.auth.principals refuses the tokens it already holds. Revoking twice keeps the first time."""
    client = get_api_client(tenant, client_pk)
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        db.session.flush()
    return client
