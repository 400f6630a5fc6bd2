"""A real model server as a child process on a free loopback port, for the tests that run one (llama.cpp's
llama-server, transformers serve): started, waited for, killed as a crash would, restarted on the same port."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

import httpx

from tests.appserver import ROOT, free_port


class ServerProcess:
    """What both servers share; a subclass says how to start it (`start`) and names it in errors (`name`)."""

    name = "server"
    health_poll_seconds = 0.1
    stop_grace_seconds = 10.0

    def __init__(self, work_dir: Path, log_name: str) -> None:
        self.port = free_port()
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.root_url}/v1"
        self.log_path = work_dir / log_name
        self.process: subprocess.Popen | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def _launch(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(list(argv), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_for_health(self, started: float, timeout_seconds: float) -> None:
        """Poll GET /health until it answers 200 (llama.cpp answers 503 "Loading model" before that)."""
        while time.monotonic() < started + timeout_seconds:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.root_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(self.health_poll_seconds)
        raise TimeoutError(f"{self.name} not ready within {timeout_seconds:g} s:\n{self.log()}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill: no graceful close of open streams."""
        if self.process is not None and self.running():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def restart(self) -> Self:
        """A fresh server on the same port (clients keep their base_url), killing the old one if it runs."""
        self.kill()
        return self.start()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within the grace."""
        if self.process is None or not self.running():
            return
        self.process.terminate()
        try:
            self.process.wait(self.stop_grace_seconds)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""
