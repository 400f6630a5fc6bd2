"""Hub downloads (ModelScope, Hugging Face) with byte progress, and the errors and progress reports they share.

Every failure becomes a ModelSourceError whose message a person can act on (offline, wrong id, no such file).
"""

from __future__ import annotations

import io
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm.std import tqdm

from healthmon.target_info import DownloadProgress as DownloadProgress  # declared in the leaf module

_FIX_HINT = "Check the network, or point HEALTHMON_MODEL at a local checkpoint directory or .gguf file."
# huggingface_hub opens a second byte bar that mirrors network traffic; we report the one counting bytes on disk.
_HF_NETWORK_BAR_DESC = "Downloading bytes"


class ModelSourceError(ValueError):
    """The model setting is malformed or its checkpoint cannot be had; the message says what to do."""


Progress = Callable[[DownloadProgress], None]
Downloader = Callable[..., str]


def download_modelscope(model_id: str, cache_dir: Path, report: Progress, download: Downloader) -> Path:
    report(DownloadProgress("connect", None, None, None, f"contacting ModelScope for {model_id}"))
    callback = _modelscope_callback_class(report)
    try:
        return Path(download(model_id, cache_dir=str(cache_dir), progress_callbacks=[callback]))
    except Exception as exc:  # the hub raises many kinds; every one becomes an actionable message
        if isinstance(exc, (ConnectionError, TimeoutError)):
            try:  # offline, but downloaded before: use the cached snapshot
                return Path(download(model_id, cache_dir=str(cache_dir), local_files_only=True))
            except Exception:  # noqa: BLE001 - not cached either: the first failure is the one to report
                pass
        raise ModelSourceError(f"could not download {model_id} from ModelScope: {reason(exc)}. {_FIX_HINT}") from exc


def download_hf(repo_id: str, cache_dir: Path, report: Progress, download: Downloader) -> Path:
    report(DownloadProgress("connect", None, None, None, f"contacting Hugging Face for {repo_id}"))
    try:  # huggingface_hub itself falls back to a cached snapshot when offline
        return Path(download(repo_id, cache_dir=str(cache_dir), tqdm_class=_hf_progress_class(report)))
    except Exception as exc:
        raise ModelSourceError(f"could not download {repo_id} from Hugging Face: {reason(exc)}. {_FIX_HINT}") from exc


def download_modelscope_file(model_id: str, file: str, cache_dir: Path, report: Progress,
                              download: Downloader) -> Path:
    report(DownloadProgress("connect", None, None, None, f"contacting ModelScope for {model_id} {file}"))
    try:
        return Path(download(model_id, file, cache_dir=str(cache_dir)))
    except Exception as exc:  # noqa: BLE001
        if isinstance(exc, (ConnectionError, TimeoutError)):
            try:
                return Path(download(model_id, file, cache_dir=str(cache_dir), local_files_only=True))
            except Exception:  # noqa: BLE001
                pass
        raise ModelSourceError(f"could not download {file} of {model_id} from ModelScope: {reason(exc)}. "
                               f"{_FIX_HINT}") from exc


def download_hf_file(repo_id: str, file: str, cache_dir: Path, report: Progress, download: Downloader) -> Path:
    report(DownloadProgress("connect", None, None, None, f"contacting Hugging Face for {repo_id} {file}"))
    try:
        return Path(download(repo_id, file, cache_dir=str(cache_dir), tqdm_class=_hf_progress_class(report)))
    except Exception as exc:  # noqa: BLE001
        raise ModelSourceError(f"could not download {file} of {repo_id} from Hugging Face: {reason(exc)}. "
                               f"{_FIX_HINT}") from exc


HF_DEFAULT_ENDPOINT = "https://huggingface.co"
HUB_CHECK_SECONDS = 3.0  # the whole check, DNS included: an offline host must not hold the start for long


def hf_endpoint() -> str:
    """The Hugging Face hub's address as huggingface_hub reads it: HF_ENDPOINT, else huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or HF_DEFAULT_ENDPOINT).rstrip("/")


def hf_hub_unanswered(repo_id: str, *, endpoint: str | None = None,
                      timeout_seconds: float = HUB_CHECK_SECONDS) -> str | None:
    """None when the hub answers for `repo_id` (its model info, 200), else why not, in words. The request runs on
    a daemon thread that is given up on after `timeout_seconds`: urllib's timeout covers each socket operation but
    not name resolution, which on a host without a network can take much longer."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return "HF_HUB_OFFLINE is set"
    base = (endpoint or hf_endpoint()).rstrip("/")
    url = f"{base}/api/models/{repo_id}/revision/main"
    outcome: list[str | None] = []

    def ask() -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout_seconds) as answer:  # noqa: S310 - a configured hub
                outcome.append(None if answer.status == 200 else f"it answered {answer.status}")
        except urllib.error.HTTPError as exc:
            outcome.append(f"it answered {exc.code}")
        except Exception as exc:  # noqa: BLE001 - refused, unresolvable, reset, TLS: all mean "not usable now"
            outcome.append(reason(getattr(exc, "reason", None) or exc))

    thread = threading.Thread(target=ask, name="healthmon-hub-check", daemon=True)
    thread.start()
    thread.join(timeout_seconds)
    if not outcome:
        return f"no answer within {timeout_seconds:g} s"
    return outcome[0]


def hf_cached(repo_id: str, cache_dir: Path) -> bool:
    """Whether a snapshot of `repo_id` was downloaded into `cache_dir` before (huggingface_hub's layout), so it
    can be used while the hub does not answer."""
    snapshots = cache_dir / f"models--{repo_id.replace('/', '--')}" / "snapshots"
    return snapshots.is_dir() and any((folder / "config.json").is_file() for folder in snapshots.iterdir())


def reason(exc: BaseException) -> str:
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


def modelscope_snapshot(model_id: str, **kwargs: Any) -> str:
    from modelscope import snapshot_download

    return snapshot_download(model_id, **kwargs)


def hf_snapshot(repo_id: str, **kwargs: Any) -> str:
    from huggingface_hub import snapshot_download

    return snapshot_download(repo_id, **kwargs)


def modelscope_file(model_id: str, file: str, **kwargs: Any) -> str:
    from modelscope.hub.file_download import model_file_download

    return model_file_download(model_id, file, **kwargs)


def hf_file(repo_id: str, file: str, **kwargs: Any) -> str:
    from huggingface_hub import hf_hub_download

    return hf_hub_download(repo_id, file, **kwargs)
