"""Where the page and the API may aim a load test: this monitor's own /v1, its configured remote target, and the
URLs HEALTHMON_LOAD_TEST_URLS lists. Nothing else: a page visitor must not turn the monitor into a load generator
against an address of their choosing. (The CLI, run by the operator, may aim anywhere.)

Targets are chosen by key ("self", "remote", or a listed URL exactly as configured), never by a URL the caller
sends; the secrets each needs (the monitor's API token for its own /v1, the remote target's key) stay here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from healthmon.analysis.slo import SloObjectives
from healthmon.config import Settings
from healthmon.loadtest.prompts import built_in
from healthmon.loadtest.runner import LoadTestPlan
from healthmon.loadtest.stats import Objectives
from healthmon.remote.target import RemoteTarget
from healthmon.target import Target
from healthmon.textsafe import redact_url

SELF, REMOTE = "self", "remote"
# Bounds on what a page or API caller may ask for: enough for a capacity search, not a tool for flooding.
MAX_LEVELS = 12
MAX_CONCURRENCY = 256
MAX_REQUESTS_PER_LEVEL = 5000
MAX_TOKENS = 4096


class TargetNotAllowed(ValueError):
    """The key names none of the allowed targets."""


@dataclass(frozen=True)
class LoadTarget:
    key: str
    label: str  # for the page: the URL without credentials
    url: str
    api_key: str | None = field(default=None, repr=False)
    model: str | None = None


def own_v1_url(scheme: str, host: str, port: int) -> str:
    """This server's /v1 as a client on this machine reaches it: a wildcard bind address becomes loopback."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a name
    return f"{scheme}://{host}:{port}/v1"


def allowed_targets(*, own_url: str | None, api_token: str, remote_url: str | None, remote_api_key: str,
                    remote_model: str, listed: Sequence[str]) -> tuple[LoadTarget, ...]:
    """The targets, in the order the page offers them; the own /v1 carries the API token when one is set (its
    requests pass the same check as anyone's)."""
    targets = []
    if own_url:
        targets.append(LoadTarget(SELF, f"this monitor's /v1 ({own_url})", own_url, api_token or None))
    if remote_url:
        targets.append(LoadTarget(REMOTE, f"the monitored server ({redact_url(remote_url)})", remote_url,
                                  remote_api_key or None, remote_model or None))
    for url in listed:
        if url.startswith(("http://", "https://")) and all(url != t.url for t in targets):
            targets.append(LoadTarget(url, redact_url(url), url))
    return tuple(targets)


def configured_targets(settings: Settings, target: Target, own_url: str | None) -> tuple[LoadTarget, ...]:
    """The monitor's targets: its own /v1 at `own_url`, its remote target when it watches one, the listed URLs."""
    remote = target.base_url if isinstance(target, RemoteTarget) else None
    return allowed_targets(own_url=own_url, api_token=settings.api_token, remote_url=remote,
                           remote_api_key=settings.target_api_key, remote_model=settings.target_model,
                           listed=settings.load_test_urls)


def objectives_from(slo: SloObjectives) -> Objectives:
    """The monitor's live SLOs as the load test's objectives, so its capacity is judged as live requests are."""
    return Objectives(slo.ttft_seconds, slo.time_per_output_token_seconds, slo.e2e_seconds, slo.objective)


def resolve(targets: Sequence[LoadTarget], key: str) -> LoadTarget:
    for target in targets:
        if target.key == key:
            return target
    raise TargetNotAllowed(f"not an allowed load-test target: {redact_url(key) or 'none given'}; allowed: "
                           f"{', '.join(t.key if t.key in (SELF, REMOTE) else redact_url(t.key) for t in targets)} "
                           "(more with HEALTHMON_LOAD_TEST_URLS)")


def build_plan(target: LoadTarget, levels: Sequence[int], requests_per_level: int, max_tokens: int,
               objectives: Objectives) -> LoadTestPlan:
    """A plan within the page's and API's bounds; ValueError says which bound a request broke."""
    if not levels or len(levels) > MAX_LEVELS:
        raise ValueError(f"give 1 to {MAX_LEVELS} concurrency levels")
    if any(isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= MAX_CONCURRENCY for c in levels):
        raise ValueError(f"concurrency levels are integers from 1 to {MAX_CONCURRENCY}")
    if not 1 <= requests_per_level <= MAX_REQUESTS_PER_LEVEL:
        raise ValueError(f"requests per level: 1 to {MAX_REQUESTS_PER_LEVEL}")
    if not 1 <= max_tokens <= MAX_TOKENS:
        raise ValueError(f"max tokens: 1 to {MAX_TOKENS}")
    if not 0 < objectives.objective <= 1:
        raise ValueError("the objective is a share between 0 and 1")
    return LoadTestPlan(url=target.url, concurrency_levels=tuple(levels), requests_per_level=requests_per_level,
                        max_tokens=max_tokens, prompts=built_in(), objectives=objectives, model=target.model,
                        api_key=target.api_key)


def parse_levels(text: str) -> tuple[int, ...]:
    """"1, 2,4" -> (1, 2, 4); ValueError for anything else."""
    try:
        levels = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError as exc:
        raise ValueError(f"concurrency levels: comma-separated integers, not {text!r}") from exc
    if not levels:
        raise ValueError("give at least one concurrency level")
    return levels
