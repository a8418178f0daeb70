"""Measure init → confirm → Ready over HTTP, with a real web server and a real RQ worker.

    .venv/bin/python bench/provisioning.py                     # SQLite, embedded Redis
    .venv/bin/python bench/provisioning.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Everything lives in a temporary DATA_DIR (and, with --postgres, in databases it drops afterwards).
Prints the time of each provisioning and the median and maximum.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storefleet.cli import start_embedded_redis, stop_embedded_redis  # noqa: E402

BIN = Path(sys.executable).parent


def wait_for(predicate, timeout=60.0, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError("gave up waiting")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="server URL; control and tenant databases are created on it")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="sf-bench-prov-"))
    redis = start_embedded_redis(data_dir / "redis" / "redis.sock")
    env = {**os.environ, "DATA_DIR": str(data_dir), "REDIS_URL": f"unix://{redis.socket_file}",
           "SUPERADMIN_PASSWORD": "bench-password", "SUPERADMIN_EMAIL": "bench@example.com"}
    created: list[str] = []
    admin = None
    if args.postgres:
        server = make_url(args.postgres)
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        control = f"sf_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{control}"'))
        created.append(control)
        env["DATABASE_URL"] = server.set(database=control).render_as_string(hide_password=False)
        env["TENANT_DATABASE_URL"] = server.set(database="DBNAME").render_as_string(
            hide_password=False).replace("DBNAME", "{db_name}")

    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "setup", "--no-demo"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    port = 5600 + os.getpid() % 300
    web = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT,
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker_log = open(data_dir / "worker.log", "wb")
    worker = subprocess.Popen([sys.executable, "-m", "jobs.worker", "provisioning"], cwd=ROOT, env=env,
                              stdout=worker_log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    timings = []
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            wait_for(lambda: _answers(http))
            for _ in range(args.runs):
                slug = f"bench-{uuid.uuid4().hex[:8]}"
                started = time.perf_counter()
                init = http.post("/provision/tenants/init", json={"slug": slug, "name": slug, "plan": "Premium"}).json()
                http.post("/provision/tenants/confirm", headers={"Authorization": f"Bearer {init['confirmToken']}"})
                status_url = f"/provision/tenants/{init['provisioningId']}/status"
                final = wait_for(lambda: _finished(http, status_url))
                elapsed = time.perf_counter() - started
                if final != "Ready":
                    raise SystemExit(f"{slug} ended {final}; see {data_dir}")
                created.append("ecom_tenant_" + slug.replace("-", "_"))
                timings.append(elapsed)
                print(f"{slug}: init → Ready in {elapsed * 1000:.0f} ms")
    finally:
        web.terminate()
        worker.terminate()
        web.wait()
        worker.wait()
        stop_embedded_redis(redis, save=False)
        if admin is not None:
            with admin.connect() as conn:
                for name in created:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\n{backend}: {len(timings)} provisionings, init → Ready median "
          f"{statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms")


def _answers(http) -> bool:
    try:
        return http.get("/health").status_code == 200
    except httpx.TransportError:
        return False


def _finished(http, url):
    status = http.get(url).json()["status"]
    return status if status in ("Ready", "Failed") else None


if __name__ == "__main__":
    main()
