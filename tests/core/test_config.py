"""Configuration from environment variables (core.config): the documented defaults, every kind of
override, an empty variable read as unset, the derived values, and bad values refused with the
variable named, before anything starts."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.config import Config, ConfigError, EnvironmentSettings, TestingConfig, embedded_redis_socket
from tests.support.processes import ROOT, VENV_BIN, free_port

VARIABLES = tuple(EnvironmentSettings.model_fields)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No Storefleet variable of the test run's own environment reaches these tests."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_config_defaults_work_on_one_machine(tmp_path):
    config = Config(tmp_path)
    assert config.DATA_DIR == tmp_path.resolve()
    assert config.PORT == 5000
    assert config.PLATFORM_HOST == "localhost:5000"
    assert config.SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path}/control.db"
    assert config.TENANT_DATABASE_URL == f"sqlite:///{tmp_path}/tenants/{{db_name}}.db"
    assert config.REDIS_URL == f"unix://{tmp_path}/redis/redis.sock"
    assert config.REDIS_EMBEDDED is True
    assert (config.TENANT_ENGINE_CACHE_SIZE, config.TENANT_POOL_SIZE, config.TENANT_MAX_OVERFLOW) == (64, 2, 3)
    assert (config.RECOVERY_INTERVAL_SECONDS, config.RECOVERY_GRACE_SECONDS) == (60, 60)
    assert config.IDEMPOTENCY_RETENTION_HOURS == 24
    assert (config.SUPERADMIN_EMAIL, config.SUPERADMIN_PASSWORD) == ("admin@storefleet.dev", "storefleet-admin")
    assert (config.DEMO_ADMIN_EMAIL, config.DEMO_ADMIN_PASSWORD) == ("owner@demo.storefleet.dev", "demo-store-admin")
    assert (config.JWT_ISSUER, config.JWT_AUDIENCE, config.JWT_PRIVATE_KEY) == ("storefleet", "storefleet-api", None)
    assert (config.ACCESS_TOKEN_TTL_SECONDS, config.CONFIRM_TOKEN_TTL_SECONDS) == (3600, 900)
    assert config.SESSION_COOKIE_SECURE is False
    assert (config.SESSION_COOKIE_HTTPONLY, config.SESSION_COOKIE_SAMESITE) == (True, "Lax")
    assert config.SQLALCHEMY_ENGINE_OPTIONS == {"pool_recycle": 1800, "pool_size": 2, "max_overflow": 2}
    assert (config.TENANT_SERVER_CONNECTIONS, config.TENANT_POOL_TIMEOUT_SECONDS) == (8, 10)
    assert config.STORE_CACHE_SECONDS == 5
    assert config.TESTING is False


def test_config_data_dir_defaults_to_instance_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Config().DATA_DIR == (tmp_path / "instance").resolve()


def test_config_data_dir_from_the_environment_unless_given(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "from-env"))
    assert Config().DATA_DIR == tmp_path / "from-env"
    assert Config().SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path}/from-env/control.db"
    assert Config(tmp_path / "given").DATA_DIR == tmp_path / "given"


@pytest.mark.parametrize("variable, value, attribute, expected", [
    ("PORT", "8080", "PORT", 8080),
    ("PLATFORM_HOST", "shop.example.com", "PLATFORM_HOST", "shop.example.com"),
    ("DATABASE_URL", "postgresql+psycopg://postgres@db/storefleet", "SQLALCHEMY_DATABASE_URI",
     "postgresql+psycopg://postgres@db/storefleet"),
    ("TENANT_DATABASE_URL", "postgresql+psycopg://postgres@db/{db_name}", "TENANT_DATABASE_URL",
     "postgresql+psycopg://postgres@db/{db_name}"),
    ("TENANT_ENGINE_CACHE_SIZE", "8", "TENANT_ENGINE_CACHE_SIZE", 8),
    ("TENANT_POOL_SIZE", "1", "TENANT_POOL_SIZE", 1),
    ("TENANT_MAX_OVERFLOW", "0", "TENANT_MAX_OVERFLOW", 0),
    ("TENANT_SERVER_CONNECTIONS", "3", "TENANT_SERVER_CONNECTIONS", 3),
    ("TENANT_POOL_TIMEOUT_SECONDS", "2", "TENANT_POOL_TIMEOUT_SECONDS", 2),
    ("STORE_CACHE_SECONDS", "0", "STORE_CACHE_SECONDS", 0),
    ("RECOVERY_INTERVAL_SECONDS", "5", "RECOVERY_INTERVAL_SECONDS", 5),
    ("RECOVERY_GRACE_SECONDS", "0", "RECOVERY_GRACE_SECONDS", 0),
    ("IDEMPOTENCY_RETENTION_HOURS", "48", "IDEMPOTENCY_RETENTION_HOURS", 48),
    ("SECRET_KEY", "configured-secret", "SECRET_KEY", "configured-secret"),
    ("SUPERADMIN_EMAIL", "boss@example.com", "SUPERADMIN_EMAIL", "boss@example.com"),
    ("SUPERADMIN_PASSWORD", "boss-password", "SUPERADMIN_PASSWORD", "boss-password"),
    ("DEMO_ADMIN_EMAIL", "shop@example.com", "DEMO_ADMIN_EMAIL", "shop@example.com"),
    ("DEMO_ADMIN_PASSWORD", "shop-password", "DEMO_ADMIN_PASSWORD", "shop-password"),
    ("JWT_ISSUER", "issuer", "JWT_ISSUER", "issuer"),
    ("JWT_AUDIENCE", "audience", "JWT_AUDIENCE", "audience"),
    ("JWT_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----", "JWT_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----"),
    ("ACCESS_TOKEN_TTL_SECONDS", "60", "ACCESS_TOKEN_TTL_SECONDS", 60),
    ("CONFIRM_TOKEN_TTL_SECONDS", "1", "CONFIRM_TOKEN_TTL_SECONDS", 1),
])
def test_config_reads_each_variable(tmp_path, monkeypatch, variable, value, attribute, expected):
    monkeypatch.setenv(variable, value)
    assert getattr(Config(tmp_path), attribute) == expected


@pytest.mark.parametrize("value, expected", [
    ("1", True), ("true", True), ("True", True), ("0", False), ("false", False), ("FALSE", False),
])
def test_config_session_cookie_secure_is_a_boolean(tmp_path, monkeypatch, value, expected):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", value)
    assert Config(tmp_path).SESSION_COOKIE_SECURE is expected


def test_config_external_redis_is_not_embedded(tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    config = Config(tmp_path)
    assert (config.REDIS_URL, config.REDIS_EMBEDDED) == ("redis://127.0.0.1:6379/0", False)


def test_config_empty_variables_count_as_unset(tmp_path, monkeypatch):
    defaults = vars(Config(tmp_path))
    for name in VARIABLES:
        if name != "DATA_DIR":
            monkeypatch.setenv(name, "")
    assert vars(Config(tmp_path)) == defaults


def test_config_empty_data_dir_counts_as_unset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", "")
    assert Config().DATA_DIR == (tmp_path / "instance").resolve()


def test_config_platform_host_follows_port(tmp_path, monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    assert Config(tmp_path).PLATFORM_HOST == "localhost:8123"
    monkeypatch.setenv("PLATFORM_HOST", "shop.example.com")
    assert Config(tmp_path).PLATFORM_HOST == "shop.example.com"


def test_config_embedded_redis_listens_under_data_dir(tmp_path):
    assert embedded_redis_socket(tmp_path) == tmp_path / "redis" / "redis.sock"
    assert Config(tmp_path).REDIS_URL == f"unix://{embedded_redis_socket(tmp_path.resolve())}"


def test_config_secret_key_is_generated_once_into_data_dir(tmp_path):
    data_dir = tmp_path / "new"
    first = Config(data_dir).SECRET_KEY
    assert len(first) >= 32
    assert (data_dir / "secret_key").read_text() == first
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    assert Config(data_dir).SECRET_KEY == first


def test_config_configured_secret_key_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "configured-secret")
    assert Config(tmp_path).SECRET_KEY == "configured-secret"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("variable, value, requirement", [
    ("PORT", "abc", "must be an integer from 1 to 65535"),
    ("PORT", "0", "must be an integer from 1 to 65535"),
    ("PORT", "65536", "must be an integer from 1 to 65535"),
    ("TENANT_POOL_SIZE", "-1", "must be a whole number of at least 1"),
    ("TENANT_POOL_SIZE", "0", "must be a whole number of at least 1"),  # 0 is unbounded to SQLAlchemy
    ("TENANT_MAX_OVERFLOW", "-1", "must be a whole number of at least 0"),
    ("TENANT_ENGINE_CACHE_SIZE", "0", "must be a whole number of at least 1"),
    ("TENANT_ENGINE_CACHE_SIZE", "many", "must be a whole number of at least 1"),
    ("TENANT_SERVER_CONNECTIONS", "0", "must be a whole number of at least 1"),
    ("TENANT_POOL_TIMEOUT_SECONDS", "0", "must be a whole number of at least 1"),
    ("STORE_CACHE_SECONDS", "-5", "must be a whole number of at least 0"),
    ("ACCESS_TOKEN_TTL_SECONDS", "0", "must be a whole number of at least 1"),
    ("CONFIRM_TOKEN_TTL_SECONDS", "-60", "must be a whole number of at least 1"),
    ("RECOVERY_INTERVAL_SECONDS", "0", "must be a whole number of at least 1"),
    ("RECOVERY_GRACE_SECONDS", "-1", "must be a whole number of at least 0"),
    ("IDEMPOTENCY_RETENTION_HOURS", "1.5", "must be a whole number of at least 1"),
    ("SESSION_COOKIE_SECURE", "maybe", "must be a boolean"),
    ("PLATFORM_HOST", "http://shop.example.com", "must be a host name with an optional :port"),
    ("DATABASE_URL", "control.db", "must be an SQLAlchemy database URL"),
    ("TENANT_DATABASE_URL", "sqlite:///tenants.db", "containing {db_name}"),
    ("REDIS_URL", "127.0.0.1:6379", "must be a Redis URL starting with redis://, rediss:// or unix://"),
])
def test_config_refuses_a_bad_value_naming_the_variable(tmp_path, monkeypatch, variable, value, requirement):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        Config(tmp_path)
    assert list(refused.value.problems) == [variable]
    assert requirement in refused.value.problems[variable]
    assert f"  {variable}: " in str(refused.value)
    assert not (tmp_path / "secret_key").exists()  # refused before anything is written


def test_config_lists_every_bad_variable_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("PORT", "abc")
    monkeypatch.setenv("TENANT_POOL_SIZE", "-1")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "maybe")
    with pytest.raises(ConfigError) as refused:
        Config(tmp_path)
    assert str(refused.value).splitlines() == [
        "invalid configuration in the environment:",
        "  PORT: 'abc' given, must be an integer from 1 to 65535",
        "  TENANT_POOL_SIZE: '-1' given, must be a whole number of at least 1",
        "  SESSION_COOKIE_SECURE: 'maybe' given, must be a boolean: 1/0, true/false (also yes/no, on/off)",
    ]


def test_config_error_never_repeats_a_url_that_may_hold_a_password(tmp_path, monkeypatch):
    monkeypatch.setenv("TENANT_DATABASE_URL", "postgresql://app:hunter2@db/storefleet")
    with pytest.raises(ConfigError) as refused:
        Config(tmp_path)
    assert "TENANT_DATABASE_URL: must be" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_testing_config_overrides_are_not_checked(tmp_path, monkeypatch):
    """Tests set values the environment may not (an already expired confirm token)."""
    config = TestingConfig(tmp_path, "redis://127.0.0.1:6379/15", CONFIRM_TOKEN_TTL_SECONDS=-60)
    assert config.CONFIRM_TOKEN_TTL_SECONDS == -60
    assert (config.REDIS_URL, config.REDIS_EMBEDDED, config.TESTING) == ("redis://127.0.0.1:6379/15", False, True)


# --- a bad value stops each process at start, with the message and without a traceback ---------

def _start(args, **variables) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in VARIABLES}
    env.update(variables)
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "flask", "--app", "wsgi", "setup"],
    [sys.executable, "-m", "flask", "--app", "wsgi", "dev"],
    [sys.executable, "-m", "jobs.worker"],
    [sys.executable, "-m", "jobs.cron"],
], ids=["flask setup", "flask dev", "jobs.worker", "jobs.cron"])
def test_bad_value_stops_a_command_with_the_variable_named(tmp_path, command):
    started = _start(command, DATA_DIR=str(tmp_path), PORT="abc", TENANT_POOL_SIZE="-1")
    assert started.returncode == 1
    assert "Storefleet cannot start: invalid configuration in the environment:" in started.stderr
    assert "  PORT: 'abc' given, must be an integer from 1 to 65535" in started.stderr
    assert "  TENANT_POOL_SIZE: '-1' given, must be a whole number of at least 1" in started.stderr
    assert "Traceback" not in started.stderr
    assert not (tmp_path / "control.db").exists()


@pytest.mark.slow
def test_bad_value_halts_gunicorn_instead_of_respawning_workers(tmp_path):
    """gunicorn stops when its worker cannot boot; the message names the variable."""
    started = _start([str(VENV_BIN / "gunicorn"), "-b", f"127.0.0.1:{free_port()}", "wsgi:app"],
                     DATA_DIR=str(tmp_path), SESSION_COOKIE_SECURE="maybe")
    assert started.returncode == 3  # gunicorn's "Worker failed to boot."
    assert "SESSION_COOKIE_SECURE: 'maybe' given, must be a boolean" in started.stderr
