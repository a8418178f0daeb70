"""Tenant provisioning: init → confirm → the three steps (in an RQ job), direct create, repair.

Every step is idempotent, so a retried job or a repair never loses data: CreateDatabase creates
the database only if it is missing, ApplyMigrations upgrades to head, SeedData seeds only an empty
catalog. A failing step leaves the tenant Failed with the step's errorMessage.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Callable

from flask import current_app
from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from core.auth.tokens import issue_confirm_token, verify_confirm_token
from core.catalog.seed import seed_demo_catalog
from core.columns import utcnow
from core.errors import (AlreadyExists, Conflict, NotFound, PlanNotFound, ProvisioningFailed, ServiceUnavailable,
                         Unauthorized, ValidationFailed)
from core.extensions import db
from core.locks import held_alone
from core.queues import PROVISION_TENANT_JOB, PROVISIONING, queue
from core.tenancy import migrations
from core.tenancy.engines import engines, make_engine
from core.tenancy.models import (PROVISIONING_STATUSES, STEP_ORDER, Plan, ProvisioningStep, StepName, StepStatus,
                                 Tenant, TenantStatus)
from core.unit_of_work import commits, own_transaction

log = logging.getLogger(__name__)

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Host names the platform uses, and "repair", which /superadmin/tenants/repair would hide.
RESERVED_SLUGS = frozenset({"admin", "api", "www", "static", "auth", "repair"})


def validate_slug(slug: str) -> str:
    if not 3 <= len(slug) <= 63:
        raise ValidationFailed.field("slug", "Slug must be between 3 and 63 characters long.")
    if not SLUG_PATTERN.match(slug):
        raise ValidationFailed.field(
            "slug", "Slug must be lowercase alphanumeric with hyphens only (no leading, trailing or double hyphens).")
    if slug in RESERVED_SLUGS:
        raise ValidationFailed.field("slug", f"'{slug}' is reserved.")
    return slug


def db_name_for(slug: str) -> str:
    return "ecom_tenant_" + slug.replace("-", "_")


def database_url_for(db_name: str) -> str:
    return current_app.config["TENANT_DATABASE_URL"].replace("{db_name}", db_name)


def _new_tenant(slug: str, name: str, plan: Plan) -> Tenant:
    """A Pending tenant with its Pending steps, flushed. A taken slug is Conflict (409), whether
    the check below sees it or a concurrent request inserts it between that check and our INSERT:
    then the unique index refuses the INSERT at the flush, and the transaction is rolled back.
    A slug held by a tenant that was never confirmed, and whose confirm token has expired, is
    free again: that tenant is removed (it has no database; its token can no longer be used)."""
    validate_slug(slug)
    if not name.strip():
        raise ValidationFailed.field("name", "Name is required.")
    holder = db.session.scalar(db.select(Tenant).filter_by(slug=slug))
    if holder is not None:
        if not _confirmation_expired(holder):
            raise AlreadyExists(f"A store with slug '{slug}' already exists.", field="slug")
        _release(holder)
    db_name = db_name_for(slug)
    tenant = Tenant(slug=slug, name=name.strip(), plan_code=plan.code, plan=plan, status=TenantStatus.PENDING,
                    db_name=db_name, db_url=database_url_for(db_name), feature_overrides={}, limit_overrides={})
    tenant.steps = [ProvisioningStep(step=step, position=i, status=StepStatus.PENDING)
                    for i, step in enumerate(STEP_ORDER)]
    try:
        # In a SAVEPOINT: a refused INSERT undoes only itself, and the caller's unit rolls back.
        with db.session.begin_nested():
            db.session.add(tenant)
    except IntegrityError as exc:  # the same slug inserted by a concurrent request
        raise AlreadyExists(f"A store with slug '{slug}' already exists.", field="slug") from exc
    return tenant


def _confirmation_expired(tenant: Tenant) -> bool:
    """A Pending tenant whose confirm token (issued when it was created) has expired."""
    ttl = timedelta(seconds=current_app.config["CONFIRM_TOKEN_TTL_SECONDS"])
    return tenant.status == TenantStatus.PENDING and tenant.created_at + ttl < utcnow()


def _release(tenant: Tenant) -> None:
    """Delete a never-confirmed tenant and its steps with Core statements conditional on it
    still being Pending: a concurrent init releasing it too deletes nothing and fails no flush
    (both then race for the slug at the INSERT, and one gets Conflict)."""
    log.info("releasing slug %s: tenant %s was never confirmed", tenant.slug, tenant.id)
    db.session.expunge(tenant)
    still_pending = db.select(Tenant.id).where(Tenant.id == tenant.id, Tenant.status == TenantStatus.PENDING)
    db.session.execute(db.delete(ProvisioningStep).where(ProvisioningStep.tenant_id.in_(still_pending)))
    db.session.execute(db.delete(Tenant).where(Tenant.id == tenant.id, Tenant.status == TenantStatus.PENDING))


def init_provisioning(slug: str, name: str, plan_name: str) -> tuple[Tenant, str]:
    """Record a Pending tenant; returns it and its single-use, 15-minute confirm token."""
    plan = db.session.scalar(db.select(Plan).where(db.func.lower(Plan.name) == plan_name.strip().lower()))
    if plan is None:
        names = ", ".join(p.name for p in db.session.scalars(db.select(Plan).order_by(Plan.name)))
        raise ValidationFailed.field("plan", f"Plan must be one of: {names}.")
    tenant = _new_tenant(slug, name, plan)
    token, jti = issue_confirm_token(tenant.id)
    tenant.confirm_jti = jti
    return tenant, token


@commits("the provisioning job must find the tenant Queued")
def confirm_provisioning(token: str) -> Tenant:
    """Spend the confirm token and queue the provisioning job. Commits, because the job must
    see the Queued tenant; if Redis is unreachable the tenant goes back to Pending (503)."""
    claims = verify_confirm_token(token)
    # Spent by one conditional UPDATE: of concurrent confirms with one token, one changes the row.
    spent = db.session.execute(
        update(Tenant).where(Tenant.id == claims["sub"], Tenant.confirm_jti == claims["jti"],
                             Tenant.status == TenantStatus.PENDING)
        .values(confirm_jti=None, status=TenantStatus.QUEUED, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    tenant = db.session.get(Tenant, claims["sub"], populate_existing=True)
    if tenant is None:
        raise NotFound("Tenant not found.")
    if not spent:
        if tenant.confirm_jti != claims["jti"]:
            raise Unauthorized("This confirmation token has already been used.")
        raise ValidationFailed(f"Tenant is not in pending state (status {tenant.status}).")
    db.session.commit()
    try:
        enqueue_provisioning(tenant.id)
    except RedisError as exc:
        tenant.status = TenantStatus.PENDING
        tenant.confirm_jti = claims["jti"]
        db.session.commit()
        raise ServiceUnavailable("The provisioning queue is unavailable; confirm again shortly.") from exc
    return tenant


@commits("the provisioning job must find the tenant Queued")
def queue_new_tenant(slug: str, name: str, plan_code: str) -> Tenant:
    """Create a tenant and queue its provisioning job in one step: init and confirm without the
    token (the super-admin portal's path; the job is the API's, on the `provisioning` queue).
    The job must see the Queued tenant, so the row is committed before the job is queued; when
    Redis is unreachable the row is deleted again and ServiceUnavailable (503) is raised, so
    nothing is left half-made."""
    plan = db.session.get(Plan, (plan_code or "").strip().upper())
    if plan is None:
        names = ", ".join(p.code for p in db.session.scalars(db.select(Plan).order_by(Plan.code)))
        raise ValidationFailed.field("plan", f"Plan must be one of: {names}.")
    tenant = _new_tenant(slug, name, plan)
    tenant.status = TenantStatus.QUEUED
    tenant_id = tenant.id
    db.session.commit()
    try:
        enqueue_provisioning(tenant_id)
    except RedisError as exc:
        log.warning("provisioning queue unreachable; tenant %s not created: %s", slug, exc)
        db.session.delete(db.session.get(Tenant, tenant_id))
        db.session.commit()
        raise ServiceUnavailable("The provisioning queue (Redis) is unreachable, so the store was not created. "
                                 "Try again shortly.") from exc
    return tenant


def provisioning_job_id(tenant_id: str) -> str:
    """The RQ job id of a tenant's provisioning job (see core.recovery)."""
    return f"provision_{tenant_id}"


def enqueue_provisioning(tenant_id: str):
    """The provisioning job on the `provisioning` queue. A job whose worker died is retried by
    RQ: provision_queued_tenant resumes where the steps stopped."""
    return queue(PROVISIONING).enqueue(PROVISION_TENANT_JOB, tenant_id, job_id=provisioning_job_id(tenant_id),
                                       retry=Retry(max=2), job_timeout=600,
                                       description=f"provision tenant {tenant_id}")


def stalled_tenant_ids(updated_before) -> list[str]:
    """Tenants queued or part-way through provisioning whose row has not changed since
    `updated_before`: their job should have moved them on by now."""
    return list(db.session.scalars(db.select(Tenant.id)
                                   .where(Tenant.status.in_(PROVISIONING_STATUSES), Tenant.updated_at < updated_before)
                                   .order_by(Tenant.updated_at)))


def provisioning_status(provisioning_id: str) -> Tenant:
    tenant = db.session.get(Tenant, provisioning_id)
    if tenant is None:
        raise NotFound("Tenant not found.")
    return tenant


# --- the steps -------------------------------------------------------------------------------

# One run of a store's steps at a time, across processes (core.locks.held_alone): a job retried
# while the first still runs, or a repair during provisioning, waits its turn or is refused.
STEPS_LOCK = "provisioning-steps"

def create_database(tenant: Tenant) -> str:
    """Create the tenant's database if it does not exist (a real CREATE DATABASE on PostgreSQL)."""
    url = make_url(tenant.db_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = Path(url.database)
        existed = path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        with engines().engine(tenant.db_url).connect() as conn:
            conn.execute(text("SELECT 1"))
        return f"Database {tenant.db_name} {'already exists' if existed else 'created successfully'}"
    if backend == "postgresql":
        server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with server.connect() as conn:
                exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database})
                if exists:
                    return f"Database {tenant.db_name} already exists"
                quoted = conn.dialect.identifier_preparer.quote(url.database)
                conn.execute(text(f"CREATE DATABASE {quoted}"))
        finally:
            server.dispose()
        return f"Database {tenant.db_name} created successfully"
    raise ProvisioningFailed(f"Unsupported database backend '{backend}'.")


def apply_migrations(tenant: Tenant) -> str:
    """Upgrade the store's database to head, on a connection of its own (outside the pools)."""
    engine = make_engine(tenant.db_url, pooled=False)
    try:
        revision = migrations.upgrade_to_head(engine)
    finally:
        engine.dispose()
    return f"Migrations applied successfully (revision {revision})"


def seed_data(tenant: Tenant) -> str:
    with own_transaction(tenant.db_url) as session:
        seeded = seed_demo_catalog(session)
    return "Demo data seeded successfully" if seeded else "Store already has data; nothing seeded"


STEP_FUNCTIONS = {
    StepName.CREATE_DATABASE: create_database,
    StepName.APPLY_MIGRATIONS: apply_migrations,
    StepName.SEED_DATA: seed_data,
}
STEP_TENANT_STATUS = {
    StepName.CREATE_DATABASE: TenantStatus.PROVISIONING,
    StepName.APPLY_MIGRATIONS: TenantStatus.PROVISIONING,
    StepName.SEED_DATA: TenantStatus.SEEDING,
}


@commits("each step's progress must be visible (status endpoint, portal) while the steps run")
def _run_step(tenant: Tenant, step: ProvisioningStep) -> None:
    """Run one step, recording its progress in the control database as it goes (each change is
    committed so that the status endpoint and the admin page can watch it)."""
    step.status, step.started_at, step.completed_at = StepStatus.IN_PROGRESS, utcnow(), None
    step.log = step.error_message = None
    # updated_at too, even when the status stays: it tells the recovery sweep the work is alive.
    tenant.status, tenant.updated_at = STEP_TENANT_STATUS[StepName(step.step)], utcnow()
    db.session.commit()
    try:
        step.log = STEP_FUNCTIONS[StepName(step.step)](tenant)
    except Exception as exc:  # any failure of a step is recorded on it, then reported
        log.exception("provisioning step %s failed for tenant %s", step.step, tenant.slug)
        db.session.rollback()
        step.status, step.completed_at = StepStatus.FAILED, utcnow()
        step.error_message = f"{type(exc).__name__}: {exc}"
        tenant.status = TenantStatus.FAILED
        db.session.commit()
        raise ProvisioningFailed(f"Step {step.step} failed: {step.error_message}") from exc
    step.status, step.completed_at = StepStatus.SUCCESS, utcnow()
    db.session.commit()


StepCallback = Callable[[ProvisioningStep], None]


@commits("each step's progress must be visible (status endpoint, portal) while the steps run")
def run_provisioning_steps(tenant: Tenant, on_step: StepCallback | None = None) -> Tenant:
    """Run CreateDatabase, ApplyMigrations, SeedData in order; the tenant ends Ready or Failed.
    `on_step` is told of each step once it has succeeded or failed (the CLI's progress). Every
    step starts Pending (a repair or a resumed job runs them all again), so a step after a failed
    one reads Pending, never the outcome of an earlier run."""
    steps = sorted(tenant.steps, key=lambda s: s.position)
    for step in steps:
        step.status, step.started_at, step.completed_at = StepStatus.PENDING, None, None
        step.log = step.error_message = None
    for step in steps:
        try:
            _run_step(tenant, step)
        finally:
            if on_step is not None:
                on_step(step)
    tenant.status = TenantStatus.READY
    db.session.commit()
    return tenant


def provision_queued_tenant(tenant_id: str) -> str:
    """The body of the provisioning job. Safe to run twice: a Ready or Failed tenant is left as
    it is (repair is the way back from Failed); an interrupted one resumes, every step idempotent."""
    with held_alone(db.engine, STEPS_LOCK, tenant_id) as alone:
        if not alone:
            return "running"  # another job of this store runs the steps now; it settles the store
        tenant = db.session.get(Tenant, tenant_id)
        if tenant is None:
            return "missing"
        if tenant.status not in PROVISIONING_STATUSES:
            return tenant.status
        try:
            run_provisioning_steps(tenant)
        except ProvisioningFailed:
            pass  # recorded on the step and the tenant
        return tenant.status


@commits("each step's progress must be visible (status endpoint, portal) while the steps run")
def create_tenant_directly(slug: str, name: str, plan_code: str, on_step: StepCallback | None = None) -> Tenant:
    """Create a tenant and run its steps in this request (the super admin's direct path)."""
    plan = db.session.get(Plan, plan_code.strip().upper())
    if plan is None:
        raise PlanNotFound(f"Plan '{plan_code}' not found.", field="planCode")
    tenant = _new_tenant(slug, name, plan)
    tenant.status = TenantStatus.QUEUED
    db.session.commit()
    return run_provisioning_steps(tenant, on_step)


@commits("each step's progress must be visible (status endpoint, portal) while the steps run")
def repair_tenant(slug: str, on_step: StepCallback | None = None) -> Tenant:
    """Re-run every step idempotently and end Ready; the tenant's data is kept."""
    tenant = db.session.scalar(db.select(Tenant).filter_by(slug=slug))
    if tenant is None:
        raise NotFound(f"Tenant '{slug}' not found.")
    with held_alone(db.engine, STEPS_LOCK, tenant.id) as alone:
        if not alone:
            raise Conflict(f"The store '{slug}' is being provisioned or repaired now; try again when it is done.")
        db.session.refresh(tenant)
        was_suspended = tenant.status == TenantStatus.SUSPENDED
        run_provisioning_steps(tenant, on_step)
        if was_suspended:
            tenant.status = TenantStatus.SUSPENDED
            db.session.commit()
    return tenant
