"""Every metric the monitor samples, declared once: its layer, unit, meaning, label, Prometheus export and which
direction is good. The exporter, the alert rules and the pages read these instead of describing metrics again.

`layer` is the sample a metric is found in: a monitor layer (system, process, gpu, model, service, quality,
score), `gpu_device` for the entries of the gpu sample's `devices` list, `model_info` for facts the exporter
reads live from the runtime, or `model_counter` for the runtime's totals, exported live as counters. Keys the
monitor derives at run time are not listed: the per-GPU `gpu<i>_…` copies
of the all-GPU metrics, and the learned bands `<metric>_baseline_low|high` of the baseline layer
(`samples.undeclared_keys` knows both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PERCENT_TO_RATIO = 0.01
MIB_TO_BYTES = 1024**2
GIB_TO_BYTES = 1024**3
BILLIONS = 1e9
Good = Literal["low", "high"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric: enough to label a chart, format a value, export it and judge which way is worse."""

    key: str
    layer: str
    unit: str  # as shown after a value: "%", "s", "GiB", "tok/s", "of 5"; "" for counts, ratios and scores
    label: str  # short English label for charts and tiles
    description: str  # one sentence; the Prometheus help text where the metric is exported
    prometheus_name: str | None = None  # None: not exported as a gauge of its own
    prometheus_scale: float = 1.0  # multiplies the sample's value into Prometheus base units
    good: Good | None = None  # None where neither direction is healthy in itself (a count, a drift signal)
    alertable: bool = False  # a rule may watch it (rules.METRICS)


_S = MetricSpec
_SPECS: tuple[MetricSpec, ...] = (
    # ---- system (collectors/system.py) ----
    _S("cpu_usage", "system", "%", "CPU", "CPU busy across all cores.", "healthmon_system_cpu_usage_ratio",
       PERCENT_TO_RATIO, "low", True),
    _S("cpu_per_core", "system", "%", "CPU per core", "CPU busy on each core."),
    _S("cpu_count", "system", "", "CPU cores", "Logical CPU cores."),
    _S("load_avg_1m", "system", "", "Load (1 min)", "1-minute load average.", "healthmon_system_load1", good="low"),
    _S("load_avg_5m", "system", "", "Load (5 min)", "5-minute load average.", "healthmon_system_load5", good="low"),
    _S("load_avg_15m", "system", "", "Load (15 min)", "15-minute load average.", "healthmon_system_load15", good="low"),
    _S("memory_usage", "system", "%", "Memory", "Memory in use.", "healthmon_system_memory_usage_ratio",
       PERCENT_TO_RATIO, "low", True),
    _S("memory_used_gb", "system", "GiB", "Memory used", "Memory in use.", "healthmon_system_memory_used_bytes",
       GIB_TO_BYTES, "low"),
    _S("memory_total_gb", "system", "GiB", "Memory total", "Physical memory.", "healthmon_system_memory_total_bytes",
       GIB_TO_BYTES),
    _S("memory_available_gb", "system", "GiB", "Memory available", "Memory available without swapping.",
       "healthmon_system_memory_available_bytes", GIB_TO_BYTES, "high"),
    _S("swap_usage", "system", "%", "Swap", "Swap in use.", "healthmon_system_swap_usage_ratio", PERCENT_TO_RATIO,
       "low"),
    _S("swap_used_gb", "system", "GiB", "Swap used", "Swap in use.", "healthmon_system_swap_used_bytes", GIB_TO_BYTES,
       "low"),
    _S("disk_usage", "system", "%", "Disk", "Share of the data filesystem in use.",
       "healthmon_system_disk_usage_ratio", PERCENT_TO_RATIO, "low", True),
    _S("disk_used_gb", "system", "GiB", "Disk used", "Space used on the data filesystem.",
       "healthmon_system_disk_used_bytes", GIB_TO_BYTES, "low"),
    _S("disk_total_gb", "system", "GiB", "Disk total", "Size of the data filesystem.",
       "healthmon_system_disk_total_bytes", GIB_TO_BYTES),
    _S("disk_read_bytes_per_second", "system", "B/s", "Disk read", "Disk reads over the last collection interval.",
       "healthmon_system_disk_read_bytes_per_second"),
    _S("disk_write_bytes_per_second", "system", "B/s", "Disk write", "Disk writes over the last collection interval.",
       "healthmon_system_disk_written_bytes_per_second"),
    _S("network_recv_bytes_per_second", "system", "B/s", "Network in",
       "Network bytes received over the last collection interval.",
       "healthmon_system_network_receive_bytes_per_second"),
    _S("network_sent_bytes_per_second", "system", "B/s", "Network out",
       "Network bytes sent over the last collection interval.", "healthmon_system_network_transmit_bytes_per_second"),
    _S("system_uptime_hours", "system", "h", "Uptime", "Time since the host booted."),
    # ---- process (collectors/process.py) ----
    _S("process_rss_mb", "process", "MiB", "Process RSS", "Resident memory of the monitored process.",
       "healthmon_process_resident_memory_bytes", MIB_TO_BYTES, "low"),
    _S("process_cpu_percent", "process", "%", "Process CPU",
       "CPU of the monitored process, where 100 % is one core busy: above it when it runs in parallel.",
       "healthmon_process_cpu_usage_ratio", PERCENT_TO_RATIO),
    _S("process_threads", "process", "", "Threads", "Threads of the monitored process.", "healthmon_process_threads"),
    _S("process_open_files", "process", "", "Open files",
       "Regular files the process holds open (all descriptors where files are hidden).",
       "healthmon_process_open_files"),
    # ---- gpu (collectors/gpu.py): all GPUs together, and the torch allocator of this process ----
    _S("gpu_available", "gpu", "", "GPU available", "1 when NVML reports at least one GPU.", "healthmon_gpu_available"),
    _S("gpu_count", "gpu", "", "GPUs", "GPUs NVML reports."),
    _S("gpu_utilization", "gpu", "%", "GPU", "Mean busy share of the GPUs that report it."),
    _S("gpu_memory_used_mb", "gpu", "MiB", "GPU memory used", "GPU memory in use on all GPUs.", good="low"),
    _S("gpu_memory_total_mb", "gpu", "MiB", "GPU memory total", "GPU memory on all GPUs."),
    _S("gpu_memory_usage", "gpu", "%", "GPU memory", "GPU memory in use on all GPUs.", good="low", alertable=True),
    _S("gpu_temperature_c", "gpu", "°C", "GPU temperature", "Hottest GPU's temperature.", good="low"),
    _S("gpu_power_w", "gpu", "W", "GPU power", "Power draw of all GPUs."),
    _S("process_gpu_memory_mb", "gpu", "MiB", "Process GPU memory", "GPU memory held by the monitored process."),
    _S("torch_cuda_allocated_mb", "gpu", "MiB", "Torch allocated", "Torch CUDA memory allocated to tensors.",
       "healthmon_torch_cuda_allocated_bytes", MIB_TO_BYTES),
    _S("torch_cuda_reserved_mb", "gpu", "MiB", "Torch reserved", "Torch CUDA memory reserved by its caching allocator.",
       "healthmon_torch_cuda_reserved_bytes", MIB_TO_BYTES),
    # ---- gpu_device: one entry per GPU, exported with `gpu` and `name` labels ----
    _S("utilization_percent", "gpu_device", "%", "GPU", "GPU busy (DCGM_FI_DEV_GPU_UTIL).",
       "healthmon_gpu_utilization_ratio", PERCENT_TO_RATIO),
    _S("memory_used_mb", "gpu_device", "MiB", "GPU memory used", "GPU memory in use (DCGM_FI_DEV_FB_USED).",
       "healthmon_gpu_memory_used_bytes", MIB_TO_BYTES, "low"),
    _S("memory_total_mb", "gpu_device", "MiB", "GPU memory total",
       "GPU memory size (DCGM FB_USED + FB_FREE).", "healthmon_gpu_memory_total_bytes", MIB_TO_BYTES),
    _S("memory_percent", "gpu_device", "%", "GPU memory", "Share of the GPU's memory in use.",
       "healthmon_gpu_memory_usage_ratio", PERCENT_TO_RATIO, "low"),
    _S("temperature_c", "gpu_device", "°C", "GPU temperature", "GPU temperature (DCGM_FI_DEV_GPU_TEMP).",
       "healthmon_gpu_temperature_celsius", good="low"),
    _S("power_w", "gpu_device", "W", "GPU power", "GPU power draw (DCGM_FI_DEV_POWER_USAGE).",
       "healthmon_gpu_power_usage_watts"),
    _S("process_memory_mb", "gpu_device", "MiB", "Process GPU memory", "GPU memory held by the monitored process.",
       "healthmon_gpu_process_memory_used_bytes", MIB_TO_BYTES),
    # ---- model (loop.model_sample): facts, and the requests (probes included) finished in the last interval ----
    _S("model_status", "model", "", "Model state", "not_loaded, loading, loaded or error."),
    _S("model_loaded", "model", "", "Model loaded", "1 while the model is loaded and serving.", good="high"),
    _S("model_available", "model", "", "Model available", "1 while the model serves, 0 once it failed (to load, or a "
       "remote server that went away); no value while it is still loading.", "healthmon_model_available",
       good="high", alertable=True),
    _S("in_flight", "model", "", "Running", "Requests generating now (vllm:num_requests_running).",
       "healthmon_num_requests_running"),
    _S("queued", "model", "", "Waiting", "Requests waiting for the model (vllm:num_requests_waiting).",
       "healthmon_num_requests_waiting", good="low"),
    _S("queue_usage", "model", "%", "Queue use", "Waiting requests as a share of the queue's limit "
       "(HEALTHMON_QUEUE_MAX): past 100 % new requests are refused as busy.", "healthmon_queue_usage_ratio",
       PERCENT_TO_RATIO, "low", True),
    _S("batch_size", "model", "", "Batch size", "Mean requests carried by each decode step over the last interval "
       "(continuous batching; Prometheus: rate of healthmon_scheduler_decode_step_requests_total over rate of "
       "healthmon_scheduler_decode_steps_total)."),
    _S("tokens_per_step", "model", "", "Tokens per step", "Mean tokens through the model per forward pass over the "
       "last interval: prompts being prefilled and one new token per running request."),
    _S("prefix_cache_hit_ratio", "model", "", "Prefix cache hits", "Share of the prompt tokens of requests that "
       "joined the batch in the last interval taken from the prefix cache instead of prefilled, 0..1 (Prometheus: "
       "rate of healthmon_scheduler_prefix_cache_hit_tokens_total over rate of "
       "healthmon_scheduler_prefix_cache_queried_tokens_total).", good="high"),
    _S("kv_cache_usage_ratio", "model", "", "KV cache", "Share of the KV cache's room the batch holds now, padding "
       "included, 0..1 (vllm:kv_cache_usage_perc).", "healthmon_kv_cache_usage_ratio", good="low"),
    _S("memory_footprint_gb", "model", "GiB", "Model memory", "Weights and buffers in memory."),
    _S("parameters_billions", "model", "billion", "Parameters", "Parameters of the loaded model, in billions."),
    _S("load_seconds", "model", "s", "Load time", "How long the last successful load took.",
       "healthmon_model_load_duration_seconds", good="low"),
    _S("completed_requests", "model", "", "Completed", "Requests (probes included) finished in the last interval."),
    _S("latency_seconds", "model", "s", "Latency", "Mean whole-request time (arrival to last token, the records' "
       "latency_seconds) of the requests finished in the last interval; grows with the answer's length.",
       good="low", alertable=True),
    _S("ttft_seconds", "model", "s", "TTFT", "Mean time to first token of the requests finished in the last interval.",
       good="low", alertable=True),
    _S("tokens_per_second", "model", "tok/s", "Tokens / s, last interval",
       "Mean decoding speed of the requests (probes included) finished in the last interval.", good="high"),
    _S("inter_token_latency_seconds", "model", "s", "Time per token", "Mean time per output token of the requests "
       "finished in the last interval.", good="low", alertable=True),
    # ---- model, remote targets: the server's own /metrics over the last poll (remote/server_metrics.py) ----
    _S("target_health_latency_seconds", "model", "s", "Health check", "How long the remote server's health check took.",
       "healthmon_target_health_latency_seconds", good="low"),
    _S("server_requests_running", "model", "", "Server running", "Requests the server is generating for "
       "(vllm:num_requests_running, llamacpp:requests_processing, tgi_batch_current_size).",
       "healthmon_server_requests_running"),
    _S("server_requests_waiting", "model", "", "Server waiting", "Requests waiting in the server's queue "
       "(vllm:num_requests_waiting, llamacpp:requests_deferred, tgi_queue_size).", "healthmon_server_requests_waiting",
       good="low"),
    _S("server_kv_cache_usage_ratio", "model", "", "KV cache", "Fraction of the server's KV cache in use (0..1).",
       "healthmon_server_kv_cache_usage_ratio", good="low"),
    _S("server_preemptions", "model", "", "Preemptions", "Requests the server preempted in the last poll interval "
       "(vllm:num_preemptions_total).", good="low"),
    _S("server_ttft_seconds", "model", "s", "Server TTFT", "The server's own mean time to first token over the last "
       "poll interval (vllm:time_to_first_token_seconds).", "healthmon_server_time_to_first_token_seconds", good="low"),
    _S("server_request_seconds", "model", "s", "Server latency", "The server's own mean whole-request time over the "
       "last poll interval (vllm:e2e_request_latency_seconds, tgi_request_duration).",
       "healthmon_server_request_duration_seconds", good="low"),
    _S("server_prompt_tokens_per_second", "model", "tok/s", "Server prompt tok/s", "Prompt tokens the server "
       "processed per second over the last poll interval."),
    _S("server_generation_tokens_per_second", "model", "tok/s", "Server tok/s", "Tokens the server generated per "
       "second over the last poll interval, for every client."),
    _S("server_slots_busy", "model", "", "Busy slots", "Slots of llama.cpp's server generating now (its /slots: "
       "is_processing).", "healthmon_server_slots_busy"),
    _S("server_slots_total", "model", "", "Slots", "Slots llama.cpp's server has: requests it runs at once (-np).",
       "healthmon_server_slots_total"),
    _S("server_context_usage_ratio", "model", "", "Context used", "Share of llama.cpp's slot contexts holding tokens "
       "(0..1; its /slots: n_prompt_tokens of n_ctx, summed over the slots); llama.cpp's successor to the KV-cache "
       "gauge.", "healthmon_server_context_usage_ratio", good="low"),
    # ---- model_info: read live from the runtime by the exporter ----
    _S("parameters", "model_info", "", "Parameters", "Parameters of the loaded model.", "healthmon_model_parameters"),
    _S("memory_footprint_bytes", "model_info", "B", "Model memory", "Weights and buffers in memory.",
       "healthmon_model_memory_footprint_bytes"),
    _S("max_batch", "model_info", "", "Batch limit", "Requests decoded at once (HEALTHMON_MAX_BATCH; 1 for a model "
       "that cannot be batched).", "healthmon_num_requests_running_max"),
    _S("kv_cache_capacity_tokens", "model_info", "tokens", "KV cache size", "Token positions the batch's KV cache may "
       "hold (HEALTHMON_KV_CACHE_TOKENS, or max_batch times the model's context).",
       "healthmon_kv_cache_capacity_tokens"),
    _S("prefix_cache_capacity_tokens", "model_info", "tokens", "Prefix cache size", "Prompt tokens whose KV the "
       "prefix cache may keep for requests that start the same way (HEALTHMON_PREFIX_CACHE_TOKENS; 0: off).",
       "healthmon_prefix_cache_capacity_tokens"),
    _S("queue_max", "model_info", "", "Queue limit", "Waiting requests allowed before new ones are rejected as busy.",
       "healthmon_num_requests_waiting_max"),
    # ---- model_counter: the in-process scheduler's totals since start, read live and exported as counters ----
    _S("decode_steps_total", "model_counter", "", "Decode steps", "Decode steps the batch has run.",
       "healthmon_scheduler_decode_steps_total"),
    _S("decode_step_requests_total", "model_counter", "", "Requests per step, summed", "Requests carried by decode "
       "steps, summed over steps: over decode steps, the mean batch size.",
       "healthmon_scheduler_decode_step_requests_total"),
    _S("prefill_passes_total", "model_counter", "", "Prefill passes", "Forward passes that prefilled joining requests.",
       "healthmon_scheduler_prefill_passes_total"),
    _S("step_tokens_total", "model_counter", "", "Tokens through the model", "Tokens through the model, prompts and "
       "new tokens, over all forward passes.", "healthmon_scheduler_step_tokens_total"),
    _S("kv_cache_deferred_total", "model_counter", "", "Waited for KV cache", "Requests that waited for KV-cache room "
       "while a batch row was free (HEALTHMON_KV_CACHE_TOKENS).", "healthmon_scheduler_kv_cache_deferred_total",
       good="low"),
    _S("prefix_cache_queried_tokens_total", "model_counter", "tokens", "Prompt tokens looked up", "Prompt tokens of "
       "requests that joined the batch (vllm:prefix_cache_queries).",
       "healthmon_scheduler_prefix_cache_queried_tokens_total"),
    _S("prefix_cache_hit_tokens_total", "model_counter", "tokens", "Prompt tokens from the prefix cache", "Prompt "
       "tokens taken from the prefix cache instead of prefilled (vllm:prefix_cache_hits; "
       "HEALTHMON_PREFIX_CACHE_TOKENS).", "healthmon_scheduler_prefix_cache_hit_tokens_total", good="high"),
    # ---- service (analysis/stats.py): user requests; totals since start, the rest over its 5-minute window ----
    _S("total_requests", "service", "", "Requests", "User requests since start."),
    _S("succeeded_requests", "service", "", "Succeeded", "User requests answered since start."),
    _S("failed_requests", "service", "", "Failed", "User requests that failed since start.", good="low"),
    _S("rejected_requests", "service", "", "Rejected", "User requests refused (busy, not ready) since start.",
       good="low"),
    _S("success_percent", "service", "%", "Success rate", "Share of user requests answered since start, 0-100.",
       good="high"),
    _S("mean_latency_seconds", "service", "s", "Mean latency",
       "Mean whole-request time of the answered user requests since start.", good="low"),
    _S("requests_per_minute", "service", "", "Requests / min", "User requests received in the last minute."),
    _S("prompt_tokens_total", "service", "", "Prompt tokens",
       "Prompt tokens of the answered user requests since start."),
    _S("output_tokens_total", "service", "", "Output tokens", "Tokens generated for user requests since start."),
    _S("window_requests", "service", "", "Requests in window", "User requests received in the last 5 minutes."),
    _S("failure_percent", "service", "%", "Error rate",
       "Share of the user requests of the last 5 minutes that failed, 0-100.", good="low", alertable=True),
    _S("latency_p50_seconds", "service", "s", "Latency p50", "Median latency over the last 5 minutes.", good="low"),
    _S("latency_p95_seconds", "service", "s", "Latency p95", "95th percentile latency over the last 5 minutes.",
       good="low"),
    _S("latency_p99_seconds", "service", "s", "Latency p99", "99th percentile latency over the last 5 minutes.",
       good="low"),
    _S("ttft_p50_seconds", "service", "s", "TTFT p50", "Median time to first token over the last 5 minutes.",
       good="low"),
    _S("ttft_p95_seconds", "service", "s", "TTFT p95", "95th percentile time to first token over the last 5 minutes.",
       good="low"),
    _S("ttft_p99_seconds", "service", "s", "TTFT p99", "99th percentile time to first token over the last 5 minutes.",
       good="low"),
    _S("window_tokens_per_second", "service", "tok/s", "Tokens / s",
       "Mean decoding speed of the user requests answered in the last 5 minutes.", good="high", alertable=True),
    # ---- quality (quality/window.py over user answers of its window; quality/scorer.py counters) ----
    _S("quality_requests", "quality", "", "Scored answers", "User answers in the quality window."),
    _S("quality_score", "quality", "", "Quality score",
       "Generation quality score of recent user requests, 0-100: relevance, degeneration, language, completion and "
       "confidence, weighted, then capped by the worst flag.", "healthmon_quality_score", good="high", alertable=True),
    _S("relevance", "quality", "", "Relevance", "Prompt-response embedding cosine similarity, -1..1.",
       "healthmon_quality_relevance", good="high", alertable=True),
    _S("perplexity", "quality", "", "Perplexity", "Perplexity of recent outputs under the model itself, "
       "exp(-mean token log-probability): lower reads more fluent to it.", "healthmon_quality_perplexity",
       alertable=True),
    _S("mean_logprob", "quality", "", "Mean log-prob", "Mean token log-probability of recent outputs."),
    _S("repetition_rate", "quality", "", "Repetition", "Share of repeated 3-grams (words; characters for Chinese) in "
       "recent outputs, 0-1: a looping model climbs toward 1.",
       "healthmon_quality_repetition_rate", good="low", alertable=True),
    _S("distinct_1", "quality", "", "Distinct-1", "Distinct words (characters in Chinese) over all, 0-1.", good="high"),
    _S("distinct_2", "quality", "", "Distinct-2",
       "Distinct bigrams over all bigrams in recent outputs, 0-1: near 0 means loops.", "healthmon_quality_distinct_2",
       good="high"),
    _S("mean_token_entropy", "quality", "", "Token entropy", "Mean entropy of the model's next-token distributions; "
       "high is low confidence.", good="low"),
    _S("language_mismatch_percent", "quality", "%", "Wrong language",
       "Share of recent answers not in the expected language.", good="low"),
    _S("empty_response_percent", "quality", "%", "Empty", "Share of recent answers that were empty.", good="low"),
    _S("truncated_percent", "quality", "%", "Truncated", "Share of recent answers cut off by the token limit.",
       good="low"),
    _S("degenerate_percent", "quality", "%", "Degenerate", "Share of recent answers that loop or repeat.", good="low"),
    _S("degenerate_recent", "quality", "of 5", "Degenerate streak",
       "How many of the last 5 user answers were degenerate (looping, repeating).",
       "healthmon_quality_degenerate_recent", good="low", alertable=True),
    _S("language_mismatch_recent", "quality", "of 5", "Wrong-language streak",
       "How many of the last 5 user answers were not in the expected language.",
       "healthmon_quality_language_mismatch_recent", good="low", alertable=True),
    _S("canary_drift_similarity", "quality", "", "Canary drift",
       "Similarity of the latest canary answer to the first one recorded for this model, -1..1: 1 is the same "
       "answer.", "healthmon_quality_canary_drift_similarity", good="high", alertable=True),
    _S("relevance_queue_depth", "quality", "", "Scoring queue", "Answers waiting for relevance scoring.", good="low"),
    _S("relevance_scored_total", "quality", "", "Scored", "Answers scored for relevance since start."),
    _S("relevance_dropped_total", "quality", "", "Dropped",
       "Answers left unscored since start because the queue was full: the scorer waits for an idle model, so "
       "sustained load drops scorings rather than slowing answers.", good="low"),
    _S("relevance_failed_total", "quality", "", "Scoring failures", "Relevance scorings that failed since start.",
       good="low"),
    _S("embedding_model_ready", "quality", "", "Embedder ready", "1 once the embedding model for relevance has loaded.",
       good="high"),
    # ---- slo (slo_service.py: from the stored requests; not gauges, since Prometheus computes them from the
    # healthmon_slo_requests_total counters over any window) ----
    _S("slo_burn_rate_5m", "slo", "×", "Burn rate (5m)", "How fast user requests spent the error budget over the "
       "last 5 minutes: the share of bad requests over the share the objective allows; 1 spends it exactly over the "
       "compliance window, 0 without requests.", good="low", alertable=True),
    _S("slo_burn_rate_30m", "slo", "×", "Burn rate (30m)", "How fast user requests spent the error budget over the "
       "last 30 minutes: the share of bad requests over the share the objective allows; 1 spends it exactly over the "
       "compliance window, 0 without requests.", good="low", alertable=True),
    _S("slo_burn_rate_1h", "slo", "×", "Burn rate (1h)", "How fast user requests spent the error budget over the "
       "last hour: the share of bad requests over the share the objective allows; 1 spends it exactly over the "
       "compliance window, 0 without requests.", good="low", alertable=True),
    _S("slo_burn_rate_6h", "slo", "×", "Burn rate (6h)", "How fast user requests spent the error budget over the "
       "last 6 hours: the share of bad requests over the share the objective allows; 1 spends it exactly over the "
       "compliance window, 0 without requests.", good="low", alertable=True),
    _S("slo_burn_rate_24h", "slo", "×", "Burn rate (24h)", "How fast user requests spent the error budget over the "
       "last 24 hours: the share of bad requests over the share the objective allows; 1 spends it exactly over the "
       "compliance window, 0 without requests.", good="low", alertable=True),
    _S("slo_burn_rate_3d", "slo", "×", "Burn rate (3d)", "How fast user requests spent the error budget over the "
       "last 3 days: the share of bad requests over the share the objective allows; 1 spends it exactly over the "
       "compliance window, 0 without requests.", good="low", alertable=True),
    _S("slo_attainment_ratio", "slo", "", "SLO attainment",
       "Share of user requests over the compliance window that succeeded within every latency objective.",
       good="high"),
    _S("slo_error_budget_remaining_ratio", "slo", "", "Error budget left",
       "Share of the compliance window's error budget not yet spent: 1 untouched, 0 spent, below 0 overspent.",
       good="high"),
    _S("slo_goodput_requests_per_second", "slo", "req/s", "Goodput",
       "User requests per second over the last 5 minutes that met every objective.", good="high"),
    # ---- score (analysis/score.py) ----
    _S("performance_score", "score", "", "Health score", "Health score, 0 (bad) to 100 (good).",
       "healthmon_health_score", good="high"),
    _S("score_system", "score", "", "System score", "Score of the system component, 0-100.", good="high"),
    _S("score_model", "score", "", "Model score", "Score of the model component, 0-100.", good="high"),
    _S("score_service", "score", "", "Service score", "Score of the service component, 0-100.", good="high"),
    _S("score_quality", "score", "", "Quality score", "Score of the quality component, 0-100.", good="high"),
)

# The names a metric had before it got its one name, by layer (issue 22: one name per quantity, with its unit).
# The history store renames such columns once, when it opens a database an earlier version wrote
# (store/schema.rename_former_columns); a rules file or replay recording may still use the alertable ones
# (rules.RENAMED_METRICS). Only the seed-compatible JSON payloads still carry these names, as aliases
# (payloads.SEED_ALIASES).
FORMER_KEYS: dict[str, dict[str, str]] = {
    "model": {"inference_time": "latency_seconds"},
    # a percent (0-100) is named _percent, a 0-1 share _ratio: these two were percents named like repetition_rate,
    # a 0-1 share
    "service": {"avg_response_time": "mean_latency_seconds", "success_rate": "success_percent",
                "failure_rate": "failure_percent"},
}

CATALOG: dict[str, MetricSpec] = {s.key: s for s in _SPECS}
if len(CATALOG) != len(_SPECS):
    raise ValueError(f"metric keys declared twice: {sorted({s.key for s in _SPECS if CATALOG[s.key] is not s})}")


def spec(key: str) -> MetricSpec:
    """The metric's declaration; KeyError names the key, so a typo fails where it is made."""
    return CATALOG[key]


def find(key: str) -> MetricSpec | None:
    """The declaration, or None for keys the catalog does not list (derived or old stored ones)."""
    return CATALOG.get(key)


def unit(key: str) -> str:
    """The metric's unit, "" for unknown keys."""
    found = CATALOG.get(key)
    return found.unit if found else ""


def unit_suffix(key: str) -> str:
    """What follows a number: '92.5%' takes no space, '0.21 s' and '3 of 5' do."""
    text = unit(key)
    return "" if not text else text if text == "%" else " " + text


def label(key: str) -> str:
    """The short label, or the key itself where the catalog has none."""
    found = CATALOG.get(key)
    return found.label if found else key


def by_layer(layer: str) -> tuple[MetricSpec, ...]:
    """The layer's metrics in declaration order."""
    return tuple(s for s in _SPECS if s.layer == layer)


def exported(layer: str) -> tuple[MetricSpec, ...]:
    """The layer's metrics that are Prometheus gauges of their own."""
    return tuple(s for s in by_layer(layer) if s.prometheus_name is not None)


def alertable() -> tuple[str, ...]:
    """The keys a rule may watch, in declaration order."""
    return tuple(s.key for s in _SPECS if s.alertable)
