"""The load test's own cost: how much it adds to TTFT, and how many requests a second it keeps up with.

    python benchmarks/bench_loadtest.py [--requests 400] [--throughput-requests 2000] [--concurrency 16]
        [--tokens 8] [--output FILE]

Against benchmarks/stub_openai.py in a process of its own (first delta at once, then one per event-loop turn:
`--token-ms 0`), so what is measured is the client, not a model.

1. Added TTFT, side by side. Three clients send the same streamed chat request (keep-alive, concurrency 1),
   interleaved request by request in rotating order so a slowdown hits all alike:
   - `raw`: the floor — one prebuilt request written to a kept socket, bytes read until the first `data:` line
     with content; no HTTP parser, no JSON. What any client must spend;
   - `loadtest`: healthmon's `loadtest.client.stream_chat` over the lean h11 client, as `healthmon load` runs it;
   - `httpx`: the same request and SSE parsing over httpx.AsyncClient, the client the project measured at 1-2 ms.
   Reported: median and p90 TTFT of each; the median of the per-round differences (loadtest − raw, httpx − raw)
   with a bootstrap 95 % interval. Target (issue 24): loadtest − raw < 1 ms.
2. Throughput. `run_level` at `--concurrency` workers, `--throughput-requests` requests of `--tokens` tokens:
   the requests a second reached (the stub and the client share the machine's cores), and the client's CPU time
   a request (process time over the run / requests), whose inverse is the rate one core of client could
   sustain. Target: ≥ 200 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from healthmon.loadtest.client import chat_body, stream_chat  # noqa: E402
from healthmon.loadtest.prompts import built_in, to_wire  # noqa: E402
from healthmon.loadtest.runner import LoadTestPlan, StopSignal, run_level  # noqa: E402
from healthmon.loadtest.stats import Objectives, summarize_level  # noqa: E402
from healthmon.openai_stream import SSEReader, read_chunk  # noqa: E402
from healthmon.remote.aio_http import AioStreamingClient  # noqa: E402

clock = time.perf_counter


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_stub(tokens: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.stub_openai", "--port", str(port), "--token-ms",
                                "0", "--tokens", str(tokens)], cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process, f"http://127.0.0.1:{port}/v1"
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the stub did not start")


class RawClient:
    """The floor: a prebuilt request on a kept socket, the first content line found by a byte search."""

    def __init__(self, port: int, body: bytes) -> None:
        self.port = port
        self.request = (f"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: "
                        f"application/json\r\ncontent-length: {len(body)}\r\n\r\n").encode() + body
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def ttft(self) -> float:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        sent = clock()
        self.writer.write(self.request)
        seen = b""
        first = None
        while True:
            data = await self.reader.read(65536)
            if not data:
                raise RuntimeError("the stub closed the connection")
            if first is None and b'"content":"' in seen + data:
                first = clock()
            seen = (seen + data)[-64:]
            if b"0\r\n\r\n" in seen:  # the chunked body's end: the connection is ready for the next request
                break
        return first - sent


async def httpx_ttft(client: httpx.AsyncClient, url: str, body: bytes) -> float:
    sent = clock()
    first = None
    async with client.stream("POST", url, content=body, headers={"content-type": "application/json"}) as answer:
        reader = SSEReader()
        async for part in answer.aiter_bytes():
            now = clock()
            for event in reader.feed(part):
                if first is None and isinstance(event, dict) and read_chunk(event).text:
                    first = now
    assert first is not None
    return first - sent


def bootstrap_median(values: list[float], rounds: int = 2000) -> tuple[float, float]:
    rng = random.Random(24)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(rounds))
    return medians[int(0.025 * rounds)], medians[int(0.975 * rounds)]


def summary_ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 3)}


async def added_ttft(url: str, requests: int, tokens: int) -> dict:
    body = chat_body("stub", to_wire(built_in()[0]), tokens)
    port = int(url.split(":")[2].split("/")[0])
    raw = RawClient(port, body)
    lean = AioStreamingClient()
    chat_url = url + "/chat/completions"
    times: dict[str, list[float]] = {"raw": [], "loadtest": [], "httpx": []}
    async with httpx.AsyncClient(timeout=30, trust_env=False) as hx:
        async def one(kind: str) -> float:
            if kind == "raw":
                return await raw.ttft()
            if kind == "httpx":
                return await httpx_ttft(hx, chat_url, body)
            timing = await stream_chat(lean, chat_url, body, clock)
            assert timing.ok, timing.error
            return timing.content_times_s[0] - timing.sent_s

        kinds = list(times)
        for warm in range(20):  # connections opened, code paths warm
            await one(kinds[warm % 3])
        for index in range(requests):
            order = kinds[index % 3:] + kinds[:index % 3]
            for kind in order:
                times[kind].append(await one(kind))
    await lean.aclose()
    result: dict = {kind: summary_ms(values) for kind, values in times.items()}
    for kind in ("loadtest", "httpx"):
        differences = [a - b for a, b in zip(times[kind], times["raw"], strict=True)]
        low, high = bootstrap_median(differences)
        result[f"{kind}_minus_raw_ms"] = {"median": round(statistics.median(differences) * 1000, 3),
                                          "ci95": [round(low * 1000, 3), round(high * 1000, 3)]}
    result["target_loadtest_added_ms"] = 1.0
    added = result["loadtest_minus_raw_ms"]["ci95"]
    result["verdict"] = "met" if added[1] < 1.0 else ("missed" if added[0] >= 1.0 else "not resolved")
    return result


async def throughput(url: str, requests: int, concurrency: int, tokens: int) -> dict:
    plan = LoadTestPlan(url=url, concurrency_levels=(concurrency,), requests_per_level=requests, max_tokens=tokens,
                        prompts=built_in(), objectives=Objectives(None, None), model="stub")
    bodies = [chat_body("stub", to_wire(p), tokens) for p in plan.prompts]
    cpu_before = time.process_time()
    timings, duration = await run_level(plan, concurrency, bodies, StopSignal(), lambda _timing: None, clock)
    cpu = time.process_time() - cpu_before
    level = summarize_level(concurrency, timings, duration, plan.objectives)
    return {"concurrency": concurrency, "requests": level.requests, "errors": level.errors,
            "tokens_per_request": tokens, "requests_per_second": round(level.requests_per_second, 1),
            "client_cpu_ms_per_request": round(cpu / len(timings) * 1000, 3),
            "client_one_core_requests_per_second": round(len(timings) / cpu, 1), "target_requests_per_second": 200,
            "verdict": "met" if level.requests_per_second >= 200 else "missed"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="rounds of the added-TTFT comparison")
    parser.add_argument("--throughput-requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=8)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    stub, url = start_stub(args.tokens)
    try:
        load_before = os.getloadavg()[0]
        result = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                              "python": platform.python_version(), "load_average_1m_before": load_before},
                  "added_ttft": asyncio.run(added_ttft(url, args.requests, args.tokens)),
                  "throughput": asyncio.run(throughput(url, args.throughput_requests, args.concurrency, args.tokens))}
        result["machine"]["load_average_1m_after"] = os.getloadavg()[0]
    finally:
        stub.terminate()
        stub.wait(10)
    print(json.dumps(result, indent=2))
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
