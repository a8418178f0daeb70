"""`flask dev` (what `make run` starts): it serves through the Procfile's processes under honcho
(gunicorn, RQ worker, cron scheduler), and Ctrl-C or SIGTERM stops every process it started."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from core.config import Config
from storefleet.cli import PROCFILE, process_environment, procfile_processes
from tests.support.processes import ROOT, free_port, wait_until


def _health(url: str):
    try:
        response = httpx.get(f"{url}/health", timeout=2)
    except httpx.TransportError:
        return None
    return response.json() if response.status_code == 200 else None


@contextmanager
def flask_dev(tmp_path, port_option: bool = False):
    """`flask dev` on a free port (PORT, or `--port` with `port_option`) with its own DATA_DIR and
    embedded Redis, in a session of its own; yields (process, url, health) once it answers
    /health, and kills what is left after."""
    port = free_port()
    unset = ("REDIS_URL", "DATABASE_URL", "TENANT_DATABASE_URL", "PLATFORM_HOST", "PORT", "WEB_CONCURRENCY")
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env.update(DATA_DIR=str(tmp_path / "instance"), PYTHONUNBUFFERED="1")
    args = [str(sys.executable), "-m", "flask", "--app", "wsgi", "dev"]
    if port_option:
        args += ["--host", "127.0.0.1", "--port", str(port)]
    else:
        env["PORT"] = str(port)
    log = open(tmp_path / "dev.log", "wb")
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        health = wait_until(lambda: _health(url), timeout=90, message="flask dev to answer /health")
        yield process, url, health
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def started_by(process, tmp_path) -> list[psutil.Process]:
    """Every process `flask dev` started: its descendants (honcho's runners, the shells of the
    Procfile's lines, gunicorn and its workers, the RQ worker, the cron scheduler) and its
    embedded redis-server, which daemonizes itself."""
    return psutil.Process(process.pid).children(recursive=True) + embedded_redis(tmp_path)


def embedded_redis(tmp_path) -> list[psutil.Process]:
    """The redis-server serving the socket under the test's DATA_DIR, if it runs."""
    socket_path = str(tmp_path / "instance" / "redis" / "redis.sock")
    return [p for p in psutil.process_iter(["cmdline"]) if socket_path in " ".join(p.info["cmdline"] or [])]


def _program(process: psutil.Process) -> str:
    """The program a process runs, with its arguments; its shell's command line would also name
    it, so a shell is not counted as the program it was to start."""
    cmdline = process.cmdline()
    return "" if cmdline[:2] == ["/bin/sh", "-c"] else " ".join(cmdline)


def test_procfile_processes_are_named_as_honcho_names_them():
    processes = procfile_processes(workers=3)
    assert [name for name, _ in processes] == ["web.1", "worker.1", "worker.2", "worker.3", "cron.1"]
    commands = dict(processes)
    assert commands["web.1"].startswith("gunicorn --bind ${WEB_HOST:-127.0.0.1}:${PORT:-5000} ")
    assert commands["web.1"].endswith(" wsgi:app")
    assert (commands["worker.1"], commands["cron.1"]) == ("python -m jobs.worker", "python -m jobs.cron")
    assert [name for name, _ in procfile_processes(workers=0)] == ["web.1", "cron.1"]


def test_the_production_proxy_line_is_in_the_procfile_and_not_run_by_dev():
    assert "\nproxy: deploy/proxy\n" in PROCFILE.read_text() + "\n"
    assert not any(name.startswith("proxy.") for name, _ in procfile_processes(workers=1))


def test_processes_configure_themselves_like_the_dev_process(tmp_path, monkeypatch):
    """A relative DATA_DIR, the embedded Redis and a derived PLATFORM_HOST come out the same in
    a child started elsewhere; only REDIS_EMBEDDED differs (the children use the dev process's
    server, they never start one)."""
    for name in ("REDIS_URL", "DATABASE_URL", "TENANT_DATABASE_URL", "PLATFORM_HOST", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", "instance")
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.chdir(tmp_path)
    parent = vars(Config())
    environment = process_environment(parent, "127.0.0.1", 8123, parent["PLATFORM_HOST"])
    assert environment["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert (environment["WEB_HOST"], environment["FLASK_APP"]) == ("127.0.0.1", "wsgi")

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)
    child = vars(Config())
    assert (parent["REDIS_EMBEDDED"], child["REDIS_EMBEDDED"]) == (True, False)
    assert {**child, "REDIS_EMBEDDED": True} == parent


@pytest.mark.slow
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
        for program in ("gunicorn", "jobs.worker", "jobs.cron", "redis-server"):
            assert any(program in _program(p) for p in started), program

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert process.wait(timeout=60) is not None
        gone, alive = psutil.wait_procs(started, timeout=30)
        assert alive == [], [p.cmdline() for p in alive]


@pytest.mark.slow
def test_dev_stops_everything_it_started_on_sigterm(tmp_path):
    """A process manager stops `flask dev` with SIGTERM sent to it alone: it must stop its web
    server, workers, cron scheduler and embedded Redis itself. Started with --host/--port, the
    stores' URLs follow the port."""
    with flask_dev(tmp_path, port_option=True) as (process, url, _):
        port = url.rsplit(":", 1)[1]
        shop = httpx.get(f"{url}/", headers={"Host": f"demo.localhost:{port}"})
        assert shop.status_code == 200 and "Demo Store" in shop.text
        assert f"http://demo.localhost:{port}/" in (tmp_path / "dev.log").read_text()
        started = started_by(process, tmp_path)
        programs = [_program(p) for p in started]
        for program in ("gunicorn", "jobs.worker", "jobs.cron", "redis-server"):
            assert any(program in p for p in programs), program

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) is not None
        gone, alive = psutil.wait_procs(started, timeout=30)
        assert alive == [], [p.cmdline() for p in alive]
        assert "stopped" in (tmp_path / "dev.log").read_text()


@pytest.mark.slow
def test_dev_stops_everything_when_a_process_ends_on_its_own(tmp_path):
    """The web server cannot bind its port: honcho stops the others, `dev` stops its embedded
    Redis and exits with status 1 instead of running without a web server."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
        env.update(DATA_DIR=str(tmp_path / "instance"), PORT=str(port), PYTHONUNBUFFERED="1")
        log = open(tmp_path / "dev.log", "wb")
        process = subprocess.Popen([str(sys.executable), "-m", "flask", "--app", "wsgi", "dev"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            assert process.wait(timeout=120) == 1
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            log.close()
    output = (tmp_path / "dev.log").read_text()
    assert "web.1 stopped (rc=1)" in output
    assert "sending SIGTERM to worker.1" in output and "sending SIGTERM to cron.1" in output
    assert output.rstrip().endswith("stopped")
    wait_until(lambda: not embedded_redis(tmp_path), timeout=30, message="the embedded redis-server to stop")
