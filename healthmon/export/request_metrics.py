"""Per-request Prometheus metrics: counters by outcome, token counters and latency histograms.

The request pipeline hands every request record to `RequestMetrics.record` as it completes, so histograms see
each request exactly once (a scrape-time collector could only see the windowed summaries). Names echo
vLLM (`vllm:e2e_request_latency_seconds` -> `healthmon_e2e_request_latency_seconds`) and buckets follow
the OpenTelemetry GenAI semantic conventions, so existing dashboards and habits carry over.

Canary probes (synthetic records) never touch the user metrics: they are counted in their own
`healthmon_canary_*` families, the way a blackbox probe is kept apart from the traffic it checks. So
`sum(rate(healthmon_requests_total[5m]))` is user traffic with no label filter to remember, and it
agrees with the request statistics and the health score, which also leave probes out.

>>> from healthmon.records import RequestRecord
>>> metrics = RequestMetrics()
>>> metrics.record(RequestRecord("0" * 32, 0.0, "api", "ok", "demo", 0.3, finish_reason="stop", prompt_tokens=5,
...                              output_tokens=7, ttft_seconds=0.05))
>>> from prometheus_client import CollectorRegistry, generate_latest
>>> registry = CollectorRegistry(); registry.register(metrics)
>>> b'healthmon_generation_tokens_total 7.0' in generate_latest(registry)
True
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import Metric

from healthmon.records import STATUSES, RequestRecord

FINISH_REASONS = ("stop", "length", "cancelled")  # what run_generation reports for a completed request
# gen_ai.server.request.duration (OTel GenAI): doubling from 10 ms to 82 s
REQUEST_DURATION_BUCKETS_SECONDS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                                    40.96, 81.92)
# gen_ai.server.time_to_first_token (OTel GenAI)
TTFT_BUCKETS_SECONDS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
# gen_ai.server.time_per_output_token (OTel GenAI)
TPOT_BUCKETS_SECONDS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)


def inference_seconds(record: RequestRecord) -> float | None:
    """Prefill plus decode: the model's own time for the request, which tokens/s is measured over."""
    durations = {span["name"]: span["duration_seconds"] for span in record.spans}
    if "prefill" not in durations:
        return None
    return float(durations["prefill"]) + float(durations.get("decode", 0.0))


class RequestMetrics:
    """A prometheus_client collector fed one record at a time; thread-safe (prometheus_client locks)."""

    def __init__(self) -> None:
        self._requests = Counter("healthmon_requests", "User generate requests by outcome: ok, error (the model "
                                 "failed) or rejected (invalid, not loaded, or the queue was full).",
                                 ["status"], registry=None)
        self._success = Counter("healthmon_request_success", "Completed user requests by why generation ended "
                                "(as vllm:request_success_total).", ["finished_reason"], registry=None)
        self._prompt_tokens = Counter("healthmon_prompt_tokens", "Prompt tokens of completed user requests, "
                                      "counted by the model's tokenizer.", registry=None)
        self._generation_tokens = Counter("healthmon_generation_tokens", "Tokens generated for completed user "
                                          "requests.", registry=None)
        self._e2e = Histogram("healthmon_e2e_request_latency_seconds", "Arrival to last token of completed user "
                              "requests (gen_ai.server.request.duration).", registry=None,
                              buckets=REQUEST_DURATION_BUCKETS_SECONDS)
        self._ttft = Histogram("healthmon_time_to_first_token_seconds", "Arrival to first generated token "
                               "(gen_ai.server.time_to_first_token).", registry=None, buckets=TTFT_BUCKETS_SECONDS)
        self._tpot = Histogram("healthmon_time_per_output_token_seconds", "Mean time between output tokens after the "
                               "first, one observation per request (gen_ai.server.time_per_output_token).",
                               registry=None, buckets=TPOT_BUCKETS_SECONDS)
        self._queue = Histogram("healthmon_request_queue_time_seconds", "Time a request waited for the model.",
                                registry=None, buckets=REQUEST_DURATION_BUCKETS_SECONDS)
        # Not the end-to-end latency (_e2e above, the records' latency_seconds): the model's own time, prefill plus
        # decode, the quantity vLLM exports as vllm:request_inference_time_seconds, so it keeps vLLM's name.
        self._inference = Histogram("healthmon_request_inference_time_seconds", "Prefill plus decode time of a "
                                    "request; tokens/s = rate(generation tokens) / rate(this _sum).",
                                    registry=None, buckets=REQUEST_DURATION_BUCKETS_SECONDS)
        self._canary_requests = Counter("healthmon_canary_requests", "Canary probe generations by outcome; kept "
                                        "out of every user request metric.", ["status"], registry=None)
        self._canary_e2e = Histogram("healthmon_canary_e2e_request_latency_seconds", "End-to-end latency of "
                                     "completed canary probes.", registry=None,
                                     buckets=REQUEST_DURATION_BUCKETS_SECONDS)
        for status in STATUSES:  # every series exists from the start, so rate() sees the first request
            self._requests.labels(status)
            self._canary_requests.labels(status)
        for reason in FINISH_REASONS:
            self._success.labels(reason)
        self._collectors = (self._requests, self._success, self._prompt_tokens, self._generation_tokens, self._e2e,
                            self._ttft, self._tpot, self._queue, self._inference, self._canary_requests,
                            self._canary_e2e)

    def record(self, record: RequestRecord) -> None:
        """Count one request when it finishes (not its scored pass); histograms take completed requests only."""
        if record.stage != "finished":
            return
        status = record.status if record.status in STATUSES else "error"
        completed = status == "ok"
        if record.synthetic:
            self._canary_requests.labels(status).inc()
            if completed:
                self._canary_e2e.observe(float(record.latency_seconds))
            return
        self._requests.labels(status).inc()
        if not completed:
            return
        self._success.labels(str(record.finish_reason or "stop")).inc()
        self._prompt_tokens.inc(int(record.prompt_tokens or 0))
        self._generation_tokens.inc(int(record.output_tokens or 0))
        for histogram, value in ((self._e2e, record.latency_seconds), (self._ttft, record.ttft_seconds),
                                 (self._tpot, record.inter_token_latency_seconds),
                                 (self._queue, record.queue_seconds),
                                 (self._inference, inference_seconds(record))):
            if value is not None:
                histogram.observe(float(value))

    def collect(self) -> Iterable[Metric]:
        """The Collector protocol, so a CollectorRegistry can hold this object directly."""
        for collector in self._collectors:
            yield from collector.collect()
