"""Where the model comes from: the built-in demo, ModelScope, Hugging Face, or a local directory.

One setting (HEALTHMON_MODEL) names the source; this module turns it into a checkpoint directory on disk,
reporting download progress, and turns every failure into a ModelSourceError whose message a person can act on.

>>> parse_model_spec("modelscope:Qwen/Qwen2.5-0.5B-Instruct")
ModelSpec(kind='modelscope', ref='Qwen/Qwen2.5-0.5B-Instruct')
>>> describe(parse_model_spec(""))
'demo (built-in, offline)'
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

from tqdm.std import tqdm

ACCEPTED_FORMS = (
    '"demo" (the default), "modelscope:<org>/<name>", "hf:<org>/<name>", '
    "or the path of a local checkpoint directory containing config.json"
)
# Hub ids: an owner and a name of letters, digits, '.', '_' and '-' (no leading '.' or '-', so no '..').
_REPO_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,95}/[A-Za-z0-9_][A-Za-z0-9._-]{0,95}$")
# "word:" at the start looks like a source prefix; a local path with a colon there can be written "./word:...".
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9_-]+):")
_FIX_HINT = "Check the network, or point HEALTHMON_MODEL at a local checkpoint directory."
# huggingface_hub opens a second byte bar that mirrors network traffic; we report the one counting bytes on disk.
_HF_NETWORK_BAR_DESC = "Downloading bytes"

Progress = Callable[["DownloadProgress"], None]
Downloader = Callable[..., str]


class ModelSourceError(ValueError):
    """The model setting is malformed or its checkpoint cannot be had; the message says what to do."""


@dataclass(frozen=True)
class ModelSpec:
    """A parsed HEALTHMON_MODEL: which source, and the hub id or local path within it."""

    kind: Literal["demo", "modelscope", "hf", "local"]
    ref: str


@dataclass(frozen=True)
class DownloadProgress:
    """One progress report while a checkpoint is fetched or built; fraction and bytes are None when unknown."""

    stage: str  # "build" (demo), "connect", "download", "ready"
    fraction: float | None
    bytes_done: int | None
    bytes_total: int | None
    message: str


def parse_model_spec(text: str) -> ModelSpec:
    """Turn the HEALTHMON_MODEL text into a ModelSpec, rejecting malformed ids before anything is downloaded."""
    text = (text or "").strip()
    if text in ("", "demo"):
        return ModelSpec("demo", "demo")
    scheme = _SCHEME.match(text)
    if scheme is None:
        return ModelSpec("local", str(Path(text).expanduser()))
    prefix, ref = scheme.group(1).lower(), text[scheme.end() :].strip()
    if prefix not in ("modelscope", "hf"):
        raise ModelSourceError(f"unknown model source {scheme.group(1)!r} in {text!r}; use {ACCEPTED_FORMS}")
    if not _REPO_ID.match(ref):
        raise ModelSourceError(f"{ref!r} is not a model id like Qwen/Qwen2.5-0.5B-Instruct; use {ACCEPTED_FORMS}")
    return ModelSpec(prefix, ref)  # type: ignore[arg-type]


def describe(spec: ModelSpec) -> str:
    """A short human label for the source, for headers and logs."""
    return {
        "demo": "demo (built-in, offline)",
        "modelscope": f"ModelScope {spec.ref}",
        "hf": f"Hugging Face {spec.ref}",
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
) -> Path:
    """Return a local checkpoint directory for spec, building or downloading it first (progress may come from threads)."""
    report = progress or (lambda update: None)
    if spec.kind == "demo":
        build = build_demo or _build_demo_model
        def on_build(message: str, fraction: float) -> None:
            report(DownloadProgress("build", fraction, None, None, message))

        return build(demo_dir, progress=on_build)
    if spec.kind == "local":
        return _checkpoint_dir(Path(spec.ref), spec)
    if spec.kind == "modelscope":
        path = _download_modelscope(spec.ref, models_dir / "modelscope", report, modelscope_download or _modelscope_snapshot)
    else:
        path = _download_hf(spec.ref, models_dir / "hf", report, hf_download or _hf_snapshot)
    checkpoint = _checkpoint_dir(path, spec)
    report(DownloadProgress("ready", 1.0, None, None, f"{describe(spec)} is ready"))
    return checkpoint


def _checkpoint_dir(path: Path, spec: ModelSpec) -> Path:
    """The directory itself, once we know transformers can load a model from it."""
    if spec.kind == "local" and not path.exists():
        hint = f" To download it, write modelscope:{spec.ref} or hf:{spec.ref}." if _REPO_ID.match(spec.ref) else ""
        raise ModelSourceError(f"local model directory {path} does not exist.{hint} Accepted: {ACCEPTED_FORMS}")
    if not path.is_dir():
        raise ModelSourceError(f"{path} is not a directory; HEALTHMON_MODEL accepts {ACCEPTED_FORMS}")
    if not (path / "config.json").is_file():
        raise ModelSourceError(f"{path} has no config.json, so it is not a Hugging Face style checkpoint")
    return path


def _download_modelscope(model_id: str, cache_dir: Path, report: Progress, download: Downloader) -> Path:
    report(DownloadProgress("connect", None, None, None, f"contacting ModelScope for {model_id}"))
    callback = _modelscope_callback_class(report)
    try:
        return Path(download(model_id, cache_dir=str(cache_dir), progress_callbacks=[callback]))
    except Exception as exc:  # the hub raises many kinds; every one becomes an actionable message
        if isinstance(exc, (ConnectionError, TimeoutError)):
            try:  # offline, but downloaded before: use the cached snapshot
                return Path(download(model_id, cache_dir=str(cache_dir), local_files_only=True))
            except Exception:
                pass
        raise ModelSourceError(f"could not download {model_id} from ModelScope: {_reason(exc)}. {_FIX_HINT}") from exc


def _download_hf(repo_id: str, cache_dir: Path, report: Progress, download: Downloader) -> Path:
    report(DownloadProgress("connect", None, None, None, f"contacting Hugging Face for {repo_id}"))
    try:  # huggingface_hub itself falls back to a cached snapshot when offline
        return Path(download(repo_id, cache_dir=str(cache_dir), tqdm_class=_hf_progress_class(report)))
    except Exception as exc:
        raise ModelSourceError(f"could not download {repo_id} from Hugging Face: {_reason(exc)}. {_FIX_HINT}") from exc


def _reason(exc: BaseException) -> str:
    """The exception's message on one line, short enough for a status bar."""
    text = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _mb(num_bytes: int) -> str:
    return f"{num_bytes / 1e6:.1f} MB"


class _PercentGate:
    """Lets a report through only when the whole percentage changes, so chunk-sized updates don't flood the UI."""

    def __init__(self) -> None:
        self.last_percent = -1

    def opens(self, done: int, total: int) -> bool:
        percent = int(100 * done / total) if total else -1
        if percent == self.last_percent and done < total:
            return False
        self.last_percent = percent
        return True


def _modelscope_callback_class(report: Progress) -> type:
    """A ProgressCallback subclass bound to report: modelscope instantiates it once per file."""
    from modelscope.hub.callback import ProgressCallback

    class _Reporter(ProgressCallback):
        def __init__(self, filename: str, file_size: int) -> None:
            super().__init__(filename, file_size)
            self.bytes_done, self.gate = 0, _PercentGate()

        def update(self, size: int) -> None:
            self.bytes_done += size
            total = self.file_size or None
            if total is None or self.gate.opens(self.bytes_done, total):
                fraction = min(1.0, self.bytes_done / total) if total else None
                message = f"{self.filename}: {_mb(self.bytes_done)}" + (f" of {_mb(total)}" if total else "")
                report(DownloadProgress("download", fraction, self.bytes_done, total, message))

        def end(self) -> None:
            report(DownloadProgress("download", 1.0, self.bytes_done, self.file_size or None, f"{self.filename}: done"))

    return _Reporter


class _Discard(io.TextIOBase):
    """A file that swallows tqdm's drawing: we only want its counts."""

    def write(self, text: str) -> int:
        return len(text)


def _hf_progress_class(report: Progress) -> type:
    """A tqdm subclass bound to report, for huggingface_hub's tqdm_class: it draws nothing and reports bytes."""

    class _Reporter(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("name", None)
            kwargs["file"] = _Discard()
            super().__init__(*args, **kwargs)
            self.gate = _PercentGate()

        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            if self.unit == "B" and self.desc != _HF_NETWORK_BAR_DESC:
                done, total = int(self.n), int(self.total or 0)
                if not total or self.gate.opens(done, total):
                    fraction = min(1.0, done / total) if total else None
                    message = f"{_mb(done)}" + (f" of {_mb(total)}" if total else "")
                    report(DownloadProgress("download", fraction, done, total or None, message))
            return shown

    return _Reporter


def _build_demo_model(target_dir: Path, **kwargs: Any) -> Path:
    from healthmon.runtime.demo import build_demo_model  # imported late: it pulls in torch and transformers

    return build_demo_model(target_dir, **kwargs)


def _modelscope_snapshot(model_id: str, **kwargs: Any) -> str:
    from modelscope import snapshot_download

    return snapshot_download(model_id, **kwargs)


def _hf_snapshot(repo_id: str, **kwargs: Any) -> str:
    from huggingface_hub import snapshot_download

    return snapshot_download(repo_id, **kwargs)
