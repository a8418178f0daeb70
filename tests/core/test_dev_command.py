"""`flask dev` (what `make run` starts): it serves, and Ctrl-C or SIGTERM stops every process it
started."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager

import httpx
import psutil
import pytest

from tests.support.processes import ROOT, free_port, wait_until

pytestmark = pytest.mark.slow


def _health(url: str):
    try:
        response = httpx.get(f"{url}/health", timeout=2)
    except httpx.TransportError:
        return None
    return response.json() if response.status_code == 200 else None


@contextmanager
def flask_dev(tmp_path):
    """`flask dev` on a free port with its own DATA_DIR and embedded Redis, in a session of its
    own; yields (process, url, health) once it answers /health, and kills what is left after."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DATA_DIR=str(tmp_path / "instance"), PORT=str(port), PYTHONUNBUFFERED="1")
    log = open(tmp_path / "dev.log", "wb")
    process = subprocess.Popen([str(sys.executable), "-m", "flask", "--app", "wsgi", "dev"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        health = wait_until(lambda: _health(url), timeout=90, message="flask dev to answer /health")
        yield process, url, health
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def started_by(process, tmp_path) -> list[psutil.Process]:
    """Every process `flask dev` started: its children and its embedded redis-server."""
    socket_path = str(tmp_path / "instance" / "redis" / "redis.sock")
    started = psutil.Process(process.pid).children(recursive=True)
    return started + [p for p in psutil.process_iter(["cmdline"]) if socket_path in " ".join(p.info["cmdline"] or [])]


def test_dev_serves_then_ctrl_c_stops_everything(tmp_path):
    with flask_dev(tmp_path) as (process, url, health):
        assert health["status"] == "Healthy"
        demo = httpx.get(f"{url}/public/tenant-config", headers={"X-Tenant-Slug": "demo"}).json()
        assert demo["slug"] == "demo"
        output = (tmp_path / "dev.log").read_text()
        assert "admin@storefleet.dev / storefleet-admin" in output
        assert "owner@demo.storefleet.dev / demo-store-admin" in output
        assert f"http://demo.localhost:{url.rsplit(':', 1)[1]}/" in output

        started = started_by(process, tmp_path)
        for program in ("jobs.worker", "jobs.cron", "redis-server"):
            assert any(program in " ".join(p.cmdline()) for p in started), program

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert process.wait(timeout=60) is not None
        gone, alive = psutil.wait_procs(started, timeout=30)
        assert alive == [], [p.cmdline() for p in alive]


def test_dev_stops_everything_it_started_on_sigterm(tmp_path):
    """A process manager stops `flask dev` with SIGTERM sent to it alone: it must stop its
    workers, its cron scheduler and its embedded Redis itself."""
    with flask_dev(tmp_path) as (process, _, _):
        started = started_by(process, tmp_path)
        assert len(started) >= 3  # worker, cron scheduler, redis-server

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) is not None
        gone, alive = psutil.wait_procs(started, timeout=30)
        assert alive == [], [p.cmdline() for p in alive]
        assert "stopped" in (tmp_path / "dev.log").read_text()
