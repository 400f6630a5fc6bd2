"""The JSON of /api/model/info, pinned key by key and value by value (in order) for both targets in each state: a
target's info is a typed record, and this is the one mapping of it to the names clients read."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from healthmon.payloads import model_info_payload
from healthmon.remote.client import HealthCheck, RemoteConnectError
from healthmon.remote.target import RemoteTarget
from healthmon.runtime.engine import ModelRuntime
from healthmon.runtime.hub import DownloadProgress
from healthmon.runtime.sources import ModelSpec

FIXTURES = Path(__file__).parent / "fixtures" / "server_metrics"
WALL_CLOCK = 1_700_000_000.0
LOADED_AT = "2023-11-14T22:13:20+00:00"
DEMO_NOTE = "Built-in demo model (a tiny offline model for trying healthmon); not a real LLM."

RUNTIME_COMMON = {"name": "demo (built-in, offline)", "source": "demo", "ref": "", "file": None,
                  "chosen_because": None}
NO_COUNTS = {"decode_steps_total": 0, "decode_step_requests_total": 0, "prefill_passes_total": 0,
             "step_tokens_total": 0, "kv_cache_deferred_total": 0, "prefix_cache_queried_tokens_total": 0,
             "prefix_cache_hit_tokens_total": 0}
IDLE_NOT_LOADED = {"in_flight": 0, "queued": 0, "queue_max": 8, "max_batch": 8, "batching": True,
                   "kv_cache_capacity_tokens": None, "kv_cache_used_tokens": 0, "kv_cache_usage_ratio": None,
                   "prefix_cache_capacity_tokens": 1024}


def demo_facts(path: Path) -> dict[str, Any]:
    return {"architecture": "Qwen2ForCausalLM", "model_type": "qwen2", "parameters": 778368,
            "parameters_billions": 0.0008, "memory_footprint_bytes": 3113600, "memory_footprint_gb": 0.0029,
            "context_tokens": 1024, "vocab_size": 3000, "device": "cpu", "dtype": "float32", "path": str(path),
            "has_chat_template": True, "batching_unsupported_reason": None}


def pinned(payload: dict[str, Any], expected: dict[str, Any]) -> None:
    assert list(payload) == list(expected)  # the same keys, in the same order
    assert payload == expected
    json.dumps(payload)


def test_the_runtime_info_json_in_each_state(demo_model_dir):
    during_load: list[dict[str, Any]] = []
    ticks = itertools.count(100.0, 2.5)

    def resolver(spec, progress, **_):
        progress(DownloadProgress("download", 0.5, 10, 20, "half"))
        during_load.append(model_info_payload(runtime.info()))
        return demo_model_dir

    runtime = ModelRuntime(ModelSpec("demo", ""), demo_dir=demo_model_dir, models_dir=demo_model_dir,
                           sink=SimpleNamespace(record=lambda r: None), resolver=resolver,
                           clock=lambda: next(ticks), wall_clock=lambda: WALL_CLOCK)
    before = {"error": None, "progress": None, "is_demo": True, "load_seconds": None, "loaded_at": None}
    pinned(model_info_payload(runtime.info()), RUNTIME_COMMON | {"status": "not_loaded"} | before | IDLE_NOT_LOADED
           | NO_COUNTS | {"note": DEMO_NOTE})
    assert runtime.load()
    progress = {"stage": "download", "fraction": 0.5, "bytes_done": 10, "bytes_total": 20, "message": "half"}
    pinned(during_load[0], RUNTIME_COMMON | {"status": "loading"} | before | {"progress": progress}
           | IDLE_NOT_LOADED | NO_COUNTS | {"note": DEMO_NOTE})
    loaded = {"error": None, "progress": None, "is_demo": True, "load_seconds": 2.5, "loaded_at": LOADED_AT}
    pinned(model_info_payload(runtime.info()), RUNTIME_COMMON | {"status": "loaded"} | loaded | IDLE_NOT_LOADED
           | {"kv_cache_capacity_tokens": 8192, "kv_cache_usage_ratio": 0.0} | NO_COUNTS
           | demo_facts(demo_model_dir) | {"note": DEMO_NOTE})

    def offline(spec, **_):
        raise OSError("offline")

    runtime._resolver = offline
    assert not runtime.load()
    pinned(model_info_payload(runtime.info()), RUNTIME_COMMON | {"status": "error"} | loaded
           | {"error": "OSError: offline"} | IDLE_NOT_LOADED | NO_COUNTS | {"note": DEMO_NOTE})


class StubServer:
    """A llama.cpp server as the client sees it: loading, then up with the recorded /metrics and /slots, then gone."""

    def __init__(self) -> None:
        self.state = "loading"

    def health(self) -> HealthCheck:
        if self.state == "down":
            raise RemoteConnectError("connection refused")
        if self.state == "loading":
            return HealthCheck(False, 503, "http://h/health", 0.25, "Loading model", True)
        return HealthCheck(True, 200, "http://h/health", 0.125, "")

    def list_models(self) -> tuple[str, ...]:
        return ("smollm2",)

    def fetch_metrics(self) -> str:
        return (FIXTURES / "llamacpp.txt").read_text()

    def fetch_slots(self) -> Any:
        return json.loads((FIXTURES / "llamacpp_slots.json").read_text())

    def close(self) -> None:
        pass


def test_the_remote_info_json_in_each_state():
    server, ticks = StubServer(), itertools.count(100.0, 5.0)
    target = RemoteTarget("http://user:secret@h:8080/v1", sink=SimpleNamespace(record=lambda r: None),
                          client=server, poll_interval_seconds=3600,  # type: ignore[arg-type]
                          clock=lambda: next(ticks), wall_clock=lambda: WALL_CLOCK)
    common = {"ref": "http://h:8080/v1", "file": None, "chosen_because": None}
    no_figures = {key: None for key in (
        "server_requests_running", "server_requests_waiting", "server_kv_cache_usage_ratio", "server_preemptions",
        "server_ttft_seconds", "server_request_seconds", "server_prompt_tokens_per_second",
        "server_generation_tokens_per_second", "server_slots_busy", "server_slots_total",
        "server_context_usage_ratio")}
    rest = {"progress": None, "is_demo": False, "load_seconds": None}
    idle = {"in_flight": 0, "queued": 0, "queue_max": 8}
    remote = "remote (OpenAI-compatible)"

    def expected(name: str, state: dict[str, Any], loaded_at: str | None, health: float | None,
                 figures: dict[str, Any], kind: str | None) -> dict[str, Any]:
        return ({"name": name, "source": "openai"} | common | state | rest | {"loaded_at": loaded_at} | idle
                | {"target_health_latency_seconds": health, "architecture": remote} | no_figures | figures
                | {"server_kind": kind})

    pinned(model_info_payload(target.info()), expected(
        "http://h:8080/v1", {"status": "not_loaded", "error": None, "status_message": None}, None, None, {}, None))
    target.poll_once()
    pinned(model_info_payload(target.info()), expected(
        "http://h:8080/v1", {"status": "loading", "error": None, "status_message": "Loading model"}, None, None, {},
        None))
    server.state = "up"
    target.poll_once()
    target.poll_once()  # a second scrape: the figures over the interval between the two
    up = {"server_requests_running": 4, "server_requests_waiting": 1, "server_prompt_tokens_per_second": 0.0,
          "server_generation_tokens_per_second": 0.0, "server_slots_busy": 4, "server_slots_total": 4,
          "server_context_usage_ratio": 0.07470703125}
    pinned(model_info_payload(target.info()), expected(
        "smollm2", {"status": "loaded", "error": None, "status_message": None}, LOADED_AT, 0.125, up, "llamacpp"))
    server.state = "down"
    target.poll_once()
    pinned(model_info_payload(target.info()), expected(
        "smollm2", {"status": "error", "error": "connection refused", "status_message": None}, LOADED_AT, 0.125, {},
        "llamacpp"))
    target.close()
