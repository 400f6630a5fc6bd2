"""Proxy overhead: the same streamed chat request sent to a model server directly and through healthmon's /v1.

    python benchmarks/bench_proxy.py [--server transformers|stub] [--pairs 60] [--warm-up-pairs 2] [--max-tokens 8]
        [--stub-token-ms 20] [--output FILE]

Starts one `transformers serve` on the packaged SmolLM2 checkpoint (tests/serve_fixture.py, as the tests do) and
one headless healthmon agent (`python -m healthmon agent`) with HEALTHMON_MODEL=openai:<server>/v1, so healthmon's
`/v1/chat/completions` goes through the generate service to the RemoteTarget, which forwards the body and relays
the server's bytes as they come (the transparent proxy; before issue 25 it re-encoded each chunk). Then, pair by
pair, the same greedy streamed chat request (fixed prompt, temperature 0,
top_p 1, max_tokens, `stream_options.include_usage`) goes once to the server and once to healthmon, from the same
kind of client (an httpx.Client per endpoint, connection kept alive, SSE lines read as they arrive). The order
inside a pair alternates (direct first, then proxy first), so a slowdown that follows a request hits both alike.

Per request, on the client:
- TTFT: from just before the request is sent to the arrival of the first chunk with non-empty `delta.content`;
- decode tokens/s: (completion_tokens - 1) / (last content delta - first content delta), completion_tokens
  from `usage` (the first token is TTFT's; the rest arrive over the first-to-last interval);
- whole-stream tokens/s: completion_tokens / (request sent -> stream closed), for reference.

Reported: the median of the pairwise TTFT differences (proxy - direct) with its p25/p75 and a bootstrap 95 %
interval of that median; the median of the pairwise decode tokens/s ratios (proxy / direct), likewise; the
counts, whether every pair generated the same text and token count, and the load average before, during (max)
and after. Targets (issue 14): TTFT added <= 2 ms at p50, tokens/s ratio >= 0.97; each is "met" or "missed"
only when the whole interval is on one side, else "not resolved". Because the server's own TTFT swings by
hundreds of ms on a busy machine, the script also reads healthmon's own timings of each proxied request from
the agent's history store (by X-Trace-Id): the client's TTFT through healthmon minus healthmon's own TTFT of the
same request is the time the proxy adds outside its wait for the server, with no server noise in it, and the
admission before the upstream request starts. Their sum is what the proxy spends on a first token besides
sending the request to the server (which the direct client does too): a low-noise estimate of the added TTFT
where the pairwise difference cannot resolve a few ms.

`--server stub` puts benchmarks/stub_openai.py in place of `transformers serve`: a paced server that answers its
first delta at once and one every `--stub-token-ms` after, at a cost of tens of microseconds. With no model
competing for the cores and no TTFT of its own to swing, the side-by-side difference then measures the proxy
itself, to a fraction of a millisecond, and the tokens/s ratio whether relaying stretches a steady stream.

healthmon runs with probes off (a canary would be a third request on the server), the rate limit off (so that
a fast server's pairs are never refused) and, by default, the relevance embedding off
(`--embedding-model off`): its scorer runs whenever the target has no request in flight, so with it on it would
compute embeddings of the proxied answer during the next *direct* request, on the same two cores, and slow that
one. Pass `--embedding-model multilingual-e5-small` (healthmon's default) to measure with it on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.appserver import free_port  # noqa: E402
from tests.serve_fixture import TransformersServe, packaged_checkpoint  # noqa: E402

PROMPT = "Explain how a language model service is monitored."
TTFT_TARGET_MS = 2.0
RATIO_TARGET = 0.97


class StubServer:
    """benchmarks/stub_openai.py in a process of its own on a free loopback port."""

    model = "stub"

    def __init__(self, token_ms: float, tokens: int) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.command = [sys.executable, "-m", "benchmarks.stub_openai", "--port", str(self.port),
                        "--token-ms", str(token_ms), "--tokens", str(tokens)]
        self.process: subprocess.Popen | None = None

    def start(self, timeout_seconds: float = 30) -> StubServer:
        self.process = subprocess.Popen(self.command, cwd=ROOT)
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base_url.removesuffix("/v1") + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise TimeoutError("the stub server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)


class Agent:
    """`python -m healthmon agent` on a free loopback port, watching the server at `base_url`."""

    def __init__(self, base_url: str, model: str, data_dir: Path, log_path: Path, embedding_model: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = os.environ | {
            "HEALTHMON_MODEL": f"openai:{base_url}", "HEALTHMON_TARGET_MODEL": model,
            "HEALTHMON_DATA_DIR": str(data_dir), "HEALTHMON_PROBE_INTERVAL": "0",
            "HEALTHMON_RATE_LIMIT_PER_MINUTE": "0", "HEALTHMON_EMBEDDING_MODEL": embedding_model,
            "PYTHONUNBUFFERED": "1"}
        self.process: subprocess.Popen | None = None

    def start(self, timeout_seconds: float = 120) -> Agent:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "healthmon", "agent", "--port", str(self.port)],
                                            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"agent exited with {self.process.returncode}:\n{self.log()}")
            try:
                info = httpx.get(self.url + "/api/model/info", timeout=5).json()["model_info"]
                if info["status"] == "loaded":
                    return self
                if info["status"] == "error":
                    raise RuntimeError(f"the agent cannot reach the server: {info['error']}")
            except (httpx.TransportError, ValueError, KeyError):
                pass
            time.sleep(0.25)
        raise TimeoutError(f"agent not serving within {timeout_seconds:g} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""


def timed_stream(client: httpx.Client, url: str, body: dict) -> dict:
    """One streamed chat request: TTFT, first/last content delta, completion tokens, text, finish reason."""
    text, first, last, usage, finish = [], None, None, None, None
    sent = time.perf_counter()
    with client.stream("POST", url, json=body, headers={"Accept": "text/event-stream"}) as response:
        trace_id = response.headers.get("x-trace-id")
        if response.status_code != 200:
            response.read()
            raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            arrived = time.perf_counter()
            for choice in chunk.get("choices") or []:
                content = (choice.get("delta") or {}).get("content")
                if content:
                    first = arrived if first is None else first
                    last = arrived
                    text.append(content)
                finish = choice.get("finish_reason") or finish
            usage = chunk.get("usage") or usage
    ended = time.perf_counter()
    if first is None or not usage:
        raise RuntimeError(f"{url}: no content delta or no usage in the stream")
    tokens = int(usage["completion_tokens"])
    return {"ttft_ms": (first - sent) * 1000, "decode_tokens_per_second": (tokens - 1) / (last - first),
            "stream_tokens_per_second": tokens / (ended - sent), "completion_tokens": tokens,
            "finish_reason": finish, "text": "".join(text), "trace_id": trace_id}


def healthmon_timings(db_path: Path) -> dict[str, dict[str, float]]:
    """healthmon's own view of each proxied request, by trace id, from the agent's history store: its TTFT (the
    request's arrival in the handler -> the server's first delta arriving at healthmon), the admission before the
    upstream request starts (arrival -> the RemoteTarget's request thread running: body, validation, admit, thread
    start), and its first-to-last delta time."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT trace_id, ttft_seconds, decode_seconds, spans FROM requests "
                          "WHERE ttft_seconds IS NOT NULL").fetchall()
    out = {}
    for trace_id, ttft, decode, spans in rows:
        prefill = next((s for s in json.loads(spans or "[]") if s.get("name") == "prefill"), None)
        out[trace_id] = {"ttft_ms": ttft * 1000, "decode_ms": (decode or 0.0) * 1000,
                         "admission_ms": prefill["start_offset_seconds"] * 1000 if prefill else float("nan")}
    return out


def quantiles(values: list[float]) -> dict[str, float]:
    q = statistics.quantiles(values, n=4, method="inclusive")
    return {"p25": q[0], "p50": statistics.median(values), "p75": q[2], "min": min(values), "max": max(values)}


def bootstrap_median(values: list[float], resamples: int = 5000, seed: int = 14) -> list[float]:
    """A 95 % percentile-bootstrap interval of the median."""
    rng = random.Random(seed)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples))
    return [medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]]


def rounded(figures: dict, digits: int) -> dict:
    return {key: round(value, digits) if isinstance(value, float) else value for key, value in figures.items()}


def verdict(met: bool, missed: bool) -> str:
    return "met" if met else "missed" if missed else "not resolved (the interval spans the target)"


def summarize(pairs: list[dict]) -> dict:
    ttft_diff = [p["proxy"]["ttft_ms"] - p["direct"]["ttft_ms"] for p in pairs]
    decode_ratio = [p["proxy"]["decode_tokens_per_second"] / p["direct"]["decode_tokens_per_second"] for p in pairs]
    stream_ratio = [p["proxy"]["stream_tokens_per_second"] / p["direct"]["stream_tokens_per_second"] for p in pairs]
    ttft_interval = bootstrap_median(ttft_diff)
    ratio_interval = bootstrap_median(decode_ratio)
    return {
        "pairs": len(pairs),
        "same_text_and_tokens_every_pair": all(p["direct"]["text"] == p["proxy"]["text"] and
                                               p["direct"]["completion_tokens"] == p["proxy"]["completion_tokens"]
                                               for p in pairs),
        "completion_tokens": sorted({p[side]["completion_tokens"] for p in pairs for side in ("direct", "proxy")}),
        "finish_reasons": sorted({str(p[side]["finish_reason"]) for p in pairs for side in ("direct", "proxy")}),
        "direct_ttft_ms": rounded(quantiles([p["direct"]["ttft_ms"] for p in pairs]), 2),
        "proxy_ttft_ms": rounded(quantiles([p["proxy"]["ttft_ms"] for p in pairs]), 2),
        "ttft_added_ms": rounded(quantiles(ttft_diff), 2),
        "ttft_added_ms_p50_bootstrap95": [round(x, 2) for x in ttft_interval],
        "direct_decode_tokens_per_second": rounded(quantiles([p["direct"]["decode_tokens_per_second"]
                                                              for p in pairs]), 2),
        "proxy_decode_tokens_per_second": rounded(quantiles([p["proxy"]["decode_tokens_per_second"]
                                                             for p in pairs]), 2),
        "decode_ratio_proxy_over_direct": rounded(quantiles(decode_ratio), 4),
        "decode_ratio_p50_bootstrap95": [round(x, 4) for x in ratio_interval],
        "stream_ratio_proxy_over_direct": rounded(quantiles(stream_ratio), 4),
        # met / missed only where the whole 95 % interval of the median is on one side of the target
        "ttft_target": verdict(ttft_interval[1] <= TTFT_TARGET_MS, ttft_interval[0] > TTFT_TARGET_MS),
        "tokens_per_second_target": verdict(ratio_interval[0] >= RATIO_TARGET, ratio_interval[1] < RATIO_TARGET),
    }


def breakdown(pairs: list[dict], own: dict[str, dict[str, float]]) -> dict:
    """Where the proxy's time goes, from healthmon's own timings of the same requests (no server noise in them)."""
    matched = [(p, own[p["proxy"]["trace_id"]]) for p in pairs if p["proxy"]["trace_id"] in own]
    if not matched:
        return {"proxied_requests_matched_in_store": 0}
    return {
        "proxied_requests_matched_in_store": len(matched),
        # the client's TTFT through healthmon minus healthmon's own TTFT of it: the time the proxy adds outside
        # its wait for the server (HTTP parsing and routing before the handler, relaying the first delta)
        "proxy_ttft_outside_upstream_ms": rounded(quantiles([p["proxy"]["ttft_ms"] - o["ttft_ms"]
                                                             for p, o in matched]), 3),
        "proxy_admission_before_upstream_ms": rounded(quantiles([o["admission_ms"] for _, o in matched]), 3),
        # first-to-last delta at the client over the same interval at healthmon: what relaying adds to decode
        "client_over_healthmon_decode_time": rounded(quantiles([
            (p["proxy"]["completion_tokens"] - 1) / p["proxy"]["decode_tokens_per_second"] * 1000 / o["decode_ms"]
            for p, o in matched if o["decode_ms"] > 0]), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--warm-up-pairs", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--embedding-model", default="off", help="HEALTHMON_EMBEDDING_MODEL for the agent")
    parser.add_argument("--server", choices=("transformers", "stub"), default="transformers")
    parser.add_argument("--stub-token-ms", type=float, default=20.0, help="the stub's time between deltas")
    parser.add_argument("--output", type=Path, default=None, help="also write the figures and every pair here")
    args = parser.parse_args()
    load_before = os.getloadavg()
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.server == "stub":
            checkpoint, server_name = "none", f"benchmarks/stub_openai.py, a delta every {args.stub_token_ms:g} ms"
            server: StubServer | TransformersServe = StubServer(args.stub_token_ms, args.max_tokens).start()
        else:
            checkpoint, server_name = str(packaged_checkpoint()), "transformers serve (CPU)"
            server = TransformersServe(Path(checkpoint), Path(tmp)).start()
        agent = Agent(server.base_url, server.model, Path(tmp) / "data", Path(tmp) / "agent.log",
                      args.embedding_model)
        try:
            agent.start()
            body = {"model": server.model, "messages": [{"role": "user", "content": args.prompt}],
                    "max_tokens": args.max_tokens, "temperature": 0.0, "top_p": 1.0, "stream": True,
                    "stream_options": {"include_usage": True}}
            timeout = httpx.Timeout(120.0, connect=5.0)
            with httpx.Client(timeout=timeout) as direct, httpx.Client(timeout=timeout) as proxy:
                targets = {"direct": (direct, f"{server.base_url}/chat/completions"),
                           "proxy": (proxy, f"{agent.url}/v1/chat/completions")}
                pairs = []
                for index in range(args.warm_up_pairs + args.pairs):
                    order = ("direct", "proxy") if index % 2 == 0 else ("proxy", "direct")
                    pair = {"order": order[0] + "_first"}
                    for side in order:
                        client, url = targets[side]
                        pair[side] = timed_stream(client, url, body)
                    if index >= args.warm_up_pairs:
                        pairs.append(pair)
                        loads.append(os.getloadavg()[0])
            agent_log = agent.log()
        finally:
            agent.stop()  # flushes its history store
            server.stop()
        own = healthmon_timings(Path(tmp) / "data" / "history.sqlite3")
    result = {
        "benchmark": "proxy_overhead", "model": checkpoint, "server": server_name,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "prompt": args.prompt, "max_tokens": args.max_tokens, "warm_up_pairs": args.warm_up_pairs,
        "embedding_model": args.embedding_model,
        **summarize(pairs),
        **breakdown(pairs, own),
        "load_average_1min_before_max_after": [round(load_before[0], 2), round(max(loads), 2),
                                               round(os.getloadavg()[0], 2)],
        "agent_log_warnings": [line for line in agent_log.splitlines() if "WARNING" in line or "ERROR" in line][:5],
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.output is not None:
        args.output.write_text(json.dumps({**result, "pairs_detail": [
            {"order": p["order"], **{side: {k: v for k, v in p[side].items() if k != "text"}
                                     for side in ("direct", "proxy")}} for p in pairs]}, indent=1))


if __name__ == "__main__":
    main()
