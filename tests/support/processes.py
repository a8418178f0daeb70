"""Real processes for tests: a gunicorn web server and RQ workers on a test's DATA_DIR.

They run the same code as production, configured by environment variables only. Readiness is
awaited by polling the process's own answer (/health, the job's status), never by sleeping a
guessed time.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO, Callable


ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_env(app, **extra) -> dict[str, str]:
    """The environment that configures a process like `app`'s TestingConfig."""
    config = app.config
    env = {
        **os.environ,
        "DATA_DIR": str(config["DATA_DIR"]),
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "TENANT_DATABASE_URL": config["TENANT_DATABASE_URL"],
        "REDIS_URL": config["REDIS_URL"],
        "SECRET_KEY": config["SECRET_KEY"],
        "PLATFORM_HOST": config["PLATFORM_HOST"],
        "PYTHONUNBUFFERED": "1",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05, message: str = "condition"):
    """Poll `predicate` until it returns a truthy value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class _Server:
    """A server process of a test answering HTTP on 127.0.0.1:`port`, its output in `log`."""

    name: str
    port: int
    process: subprocess.Popen
    log: BinaryIO

    def _answers(self, path: str, answered: Callable[[int], bool]) -> bool:
        """Whether GET `path` gets an answer that `answered(status)` accepts; the process must run."""
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log.name}")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return answered(response.status)
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        """SIGTERM (a fast shut-down for both gunicorn and nginx), SIGKILL after 15 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class LiveServer(_Server):
    """gunicorn serving wsgi:app on a free loopback port with `workers` processes."""

    name = "gunicorn"

    def __init__(self, app, workers: int = 4, threads: int = 1, port: int | None = None, **env):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_path = Path(app.config["DATA_DIR"]) / f"gunicorn-{self.port}.log"
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{self.port}",
             "--graceful-timeout", "5", "--timeout", "60", "--no-control-socket", "wsgi:app"],
            cwd=ROOT, env=process_env(app, **env), stdout=self.log, stderr=subprocess.STDOUT,
        )
        # Once a worker has loaded the app and answers HTTP (any status: /health may say a
        # dependency is down). The socket alone accepts connections as soon as gunicorn's master
        # binds it, long before a worker can answer them.
        wait_until(lambda: self._answers("/health", lambda _status: True), timeout=120,
                   message="gunicorn to answer /health")


class Proxy(_Server):
    """deploy/proxy (nginx) in front of a LiveServer, on a free loopback port."""

    name = "deploy/proxy"

    def __init__(self, app, upstream: LiveServer, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(app.config["DATA_DIR"]) / f"proxy-{self.port}.log", "wb")
        self.process = subprocess.Popen(
            [str(ROOT / "deploy" / "proxy")], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            env=process_env(app, PROXY_LISTEN=f"127.0.0.1:{self.port}", UPSTREAM=f"127.0.0.1:{upstream.port}",
                            **env))
        # Once nginx passes a request on to gunicorn (502: not listening yet).
        wait_until(lambda: self._answers("/health", lambda status: status != 502), timeout=30,
                   message="the proxy to answer /health")


class Worker:
    """`python -m jobs.worker` as a real process (burst or long-running)."""

    def __init__(self, app, *queues: str, burst: bool = False, **env):
        args = [sys.executable, "-m", "jobs.worker", *queues] + (["--burst"] if burst else [])
        log_path = Path(app.config["DATA_DIR"]) / f"worker-{time.monotonic_ns()}.log"
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(args, cwd=ROOT, env=process_env(app, **env),
                                        stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 60) -> int:
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: the worker dies at once, as a crashed machine would."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()
