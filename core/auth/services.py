"""Users, API clients and the two OAuth2 grants. Passwords and client secrets are stored hashed."""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from core.auth.models import CLIENT_ROLES, ApiClient, Role, User
from core.auth.tokens import issue_access_token
from core.columns import utcnow
from core.customers.services import require_active_customer
from core.errors import AlreadyExists, NotFound, Unauthorized, ValidationFailed
from core.extensions import db
from core.tenancy.models import Tenant
from core.unit_of_work import commits

LOCKOUT_THRESHOLD = 5
LOCKOUT_PERIOD = timedelta(minutes=15)
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


@commits("a failed attempt must count (towards the lock-out) although its request fails")
def authenticate_user(email: str, password: str) -> User:
    """Check a password; repeated failures lock the account for LOCKOUT_PERIOD."""
    user = db.session.scalar(db.select(User).filter_by(email=(email or "").strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        raise Unauthorized("Invalid email or password.")
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        raise Unauthorized("Too many failed attempts; try again later.")
    if not user.is_active or not check_password_hash(user.password_hash, password or ""):
        user.failed_logins += 1
        if user.failed_logins >= LOCKOUT_THRESHOLD:
            user.locked_until = now + LOCKOUT_PERIOD
            user.failed_logins = 0
        # The failure must count even though the request fails: commit it before raising.
        db.session.commit()
        raise Unauthorized("Invalid email or password.")
    user.failed_logins = 0
    user.locked_until = None
    return user


def authenticate_portal_user(email: str, password: str, tenant: Tenant | None) -> User:
    """A portal sign-in: the password check of authenticate_user (with its lock-out), and the
    user must belong to the portal of this host — a super admin on the platform host (tenant
    None), a store admin of `tenant` on its subdomain. Anyone else is refused with the same
    answer as a wrong password, so the portal never tells which accounts exist elsewhere."""
    user = authenticate_user(email, password)
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


def password_grant(username: str, password: str) -> dict:
    user = authenticate_user(username, password)
    return issue_access_token(subject=user.id, tenant=user.tenant.slug if user.tenant else None, roles=[user.role])


def client_credentials_grant(client_id: str, client_secret: str) -> dict:
    client = db.session.scalar(db.select(ApiClient).filter_by(client_id=client_id or ""))
    valid = client is not None and client.revoked_at is None
    if not check_password_hash(client.secret_hash if valid else _DUMMY_HASH, client_secret or "") or not valid:
        raise Unauthorized("Invalid client credentials.")
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
