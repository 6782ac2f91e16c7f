"""The app in its own uvicorn process, which a test or a benchmark may start, stop, kill and start again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from clinic.serving import KEEP_ALIVE_SECONDS, LOOP, PROTOCOL

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, database_url: str, workdir: Path, port: int | None = None,
                 secret_key: str = "browser-test-secret-key-not-for-production") -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.port = port or free_port()
        self.secret_key = secret_key
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"server-{self.port}.log"
        self.env: dict[str, str] = {}  # extra environment, e.g. CLINIC_BUILD

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> LiveServer:
        self.launch()
        self.wait_ready(timeout)
        return self

    def launch(self) -> None:
        env = {**os.environ, "DATABASE_URL": self.database_url, "SECRET_KEY": self.secret_key,
               "PYTHONPATH": str(ROOT), **self.env}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "clinic.main:app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "warning", "--http", PROTOCOL, "--loop", LOOP,
                 "--timeout-keep-alive", str(KEEP_ALIVE_SECONDS), "--no-server-header"],
                cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )

    def wait_ready(self, timeout: float = 30) -> None:
        """Until GET /healthz answers 200 (bounded); a process that never gets there is stopped."""
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        output = self.log_text()[-3000:]
        self.stop()
        raise RuntimeError(f"server on port {self.port} did not start:\n{output}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
