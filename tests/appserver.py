"""The real app (`streamlit run streamlit_app.py`) in a subprocess, shared by the end-to-end tests and the benchmarks.

Importable as `tests.appserver` from the repository root (tests/ has no __init__.py: a namespace package), so the
benchmarks start the app exactly as the tests do instead of keeping copies of this code.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Self

import requests

ROOT = Path(__file__).resolve().parents[1]

# What the tests want from every app they start: the demo model (the real-model tier asks for SmolLM2 itself),
# collection every second so charts fill quickly, no canary probes and no embedding model (neither is what a test
# is about, and both cost start-up time), and a log written as it happens so a failure's log tail is complete.
TEST_ENV = {"HEALTHMON_MODEL": "demo", "HEALTHMON_INTERVAL": "1", "HEALTHMON_PROBE_INTERVAL": "0",
            "PYTHONUNBUFFERED": "1", "HEALTHMON_EMBEDDING_MODEL": "off"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """A real `streamlit run streamlit_app.py` in a subprocess, on its own port and data dir.

    `args` are extra streamlit flags. `test_defaults=False` leaves out TEST_ENV, so a benchmark that measures the
    app as configured gets the caller's environment, the config file and Settings' defaults, plus its own `env`.
    """

    def __init__(self, data_dir: Path, log_path: Path, *, args: Sequence[str] = (), test_defaults: bool = True,
                 **env: str) -> None:
        self.data_dir, self.log_path = data_dir, log_path
        self.args = list(args)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | (TEST_ENV if test_defaults else {}) | {"HEALTHMON_DATA_DIR": str(data_dir)} | env
        self.process: subprocess.Popen | None = None

    def start(self, wait_for_model: bool = True, api_timeout_seconds: float = 90,
              model_timeout_seconds: float = 120) -> Self:
        # The child holds its own copy of the descriptor, so ours is closed at once rather than kept until stop().
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(self.port),
                 "--server.address", "127.0.0.1", "--server.headless", "true", *self.args],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.wait_until(lambda: self.get("/api/health/status").status_code == 200, "the API", api_timeout_seconds)
        if wait_for_model:
            self.wait_until(lambda: self.model_status() in ("loaded", "error"), "the model", model_timeout_seconds)
        return self

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def wait_until(self, condition: Callable[[], bool], what: str, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"app exited with {self.process.returncode}; log:\n{self.log()}")
            try:
                if condition():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"{what} not ready within {timeout_seconds} s; log:\n{self.log()}")

    def model_status(self) -> str:
        return self.get("/api/model/info").json()["model_info"]["status"]

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=kwargs.pop("timeout", 30), **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.url + path, timeout=kwargs.pop("timeout", 60), **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def stop(self, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
