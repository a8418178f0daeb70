"""Applying the tenant migration history (migrations/tenant) to one tenant database."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

TENANT_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "tenant"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(TENANT_MIGRATIONS))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_to_head(engine: Engine) -> str:
    """Upgrade the database behind `engine` to head; a database already at head is untouched."""
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return head_revision()
