"""Applying the tenant migration history (migrations/tenant) to one tenant database."""
from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from core.extensions import db
from core.tenancy.models import PROVISIONED_STATUSES, Tenant, TenantStatus
from core.unit_of_work import commits

TENANT_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "tenant"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(TENANT_MIGRATIONS))
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    """migrations/tenant, read once per process: reading and compiling the revision files took
    about 8 ms each time, twice for every store provisioned, and the history does not change
    while the process runs."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    return _scripts().get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in the one transaction a migration runs in: committed when the block
    returns, rolled back when it raises.

    SQLite: foreign keys are not enforced inside it, and every reference must hold again before
    it commits. A batch migration rebuilds a table by copying it, dropping the original and
    renaming the copy (SQLite cannot alter most of a table in place); with enforcement on, the
    DROP would first delete every row, cascading to the rows that reference them (a product's
    categories and cart lines) or failing on the others (its order lines). PRAGMA foreign_keys
    is ignored inside a transaction, so it is switched off before BEGIN, PRAGMA
    foreign_key_check must find nothing before COMMIT, and the connection is closed afterwards
    rather than handed back to the pool, so no other work ever runs without enforcement."""
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            with conn.begin():
                yield conn
            return
        conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # autocommit: before BEGIN
        try:
            with conn.begin():
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"the migration broke {len(broken)} foreign key reference(s), "
                                       f"first in table {broken[0][0]}")
        finally:
            conn.invalidate()


def _run(engine: Engine, revision: str, *, downgrade: bool = False) -> None:
    """What alembic's upgrade and downgrade commands do, on the scripts read once (_scripts), in
    one migration_transaction. The step function is the one Alembic's EnvironmentContext
    documents (ScriptDirectory._upgrade_revs / _downgrade_revs)."""
    config, scripts = alembic_config(), _scripts()

    def steps(current, _context):
        return scripts._downgrade_revs(revision, current) if downgrade else scripts._upgrade_revs(revision, current)

    with migration_transaction(engine) as conn:
        config.attributes["connection"] = conn
        with EnvironmentContext(config, scripts, fn=steps, destination_rev=revision):
            scripts.run_env()


def upgrade_to_head(engine: Engine) -> str:
    """Upgrade the database behind `engine` to head; a database already at head is untouched."""
    _run(engine, "head")
    return head_revision()


def upgrade_to(engine: Engine, revision: str) -> None:
    """Upgrade the database behind `engine` to `revision` (tests of one migration's upgrade)."""
    _run(engine, revision)


def downgrade_to(engine: Engine, revision: str) -> None:
    """Downgrade the database behind `engine` to `revision`, in one transaction, its data kept
    as each migration's downgrade says."""
    _run(engine, revision, downgrade=True)


# --- every tenant, for operators (`flask migrate-tenants`) ------------------------------------

@dataclass(frozen=True)
class TenantMigration:
    """What migrating one tenant's database did: upgraded (before → after), already at head,
    skipped (no database to migrate yet) or failed (error)."""

    slug: str
    before: str | None = None
    after: str | None = None
    error: str | None = None
    skipped: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def describe(self) -> str:
        if self.error is not None:
            return f"{self.slug}: FAILED: {self.error}"
        if self.skipped is not None:
            return f"{self.slug}: skipped ({self.skipped})"
        if self.before == self.after:
            return f"{self.slug}: already at head ({self.after})"
        return f"{self.slug}: upgraded {self.before or 'empty'} → {self.after}"


def migrate_tenant_database(slug: str, db_url: str) -> TenantMigration:
    """Upgrade one tenant database to head. Never raises: a failure is the result's `error`.
    A SQLite database file that is missing is a failure, not a new empty database."""
    try:
        url = make_url(db_url)
        if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
            raise FileNotFoundError(f"database file {url.database} does not exist")
        engine = create_engine(db_url, poolclass=NullPool)
        try:
            before = current_revision(engine)
            after = upgrade_to_head(engine) if before != head_revision() else before
        finally:
            engine.dispose()
    except Exception as exc:  # one tenant's failure is reported and the others carry on
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return TenantMigration(slug, error=f"{type(exc).__name__}: {reason}"[:300])
    return TenantMigration(slug, before=before, after=after)


def count_tenants() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Tenant))


@commits("ends each batch's read of the control database before the (slow) migrations run")
def migrate_tenants(batch_size: int = 50) -> Iterator[TenantMigration]:
    """Migrate every provisioned tenant's database to head, in batches of `batch_size` tenants
    (by slug, keyset-paged, so the control database is never held in one long read). Yields one
    result per tenant; a failing tenant never stops the rest. Only a provisioned (Ready or
    Suspended) tenant's database is complete and not being built right now: the others are
    skipped, for a provisioning job's ApplyMigrations step, or repair (Failed), to take to head."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    last_slug = ""
    while True:
        batch = db.session.execute(
            db.select(Tenant.slug, Tenant.db_url, Tenant.status).where(Tenant.slug > last_slug)
            .order_by(Tenant.slug).limit(batch_size)).all()
        db.session.rollback()  # end the read before the (slow) migrations run
        if not batch:
            return
        for slug, db_url, status in batch:
            if status not in PROVISIONED_STATUSES:
                reason = "repair-tenant migrates it" if status == TenantStatus.FAILED else "its provisioning job migrates it"
                yield TenantMigration(slug, skipped=f"{status}: {reason}")
            else:
                yield migrate_tenant_database(slug, db_url)
        last_slug = batch[-1].slug
