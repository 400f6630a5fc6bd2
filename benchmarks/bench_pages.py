"""Chart pages with 24 h of 1 s history: server cost per page run, time to first chart in Chromium, RSS soak.

    python benchmarks/bench_pages.py [--soak-minutes 30] [--data-dir DIR] [--runs 8] [--browser-repeats 3]

Targets (issue 3, "Performance"): with 24 h of 1 s history in the store, a chart page shows its first chart
within 3 s of navigation in headless Chromium, one fragment refresh costs <= 200 ms on the server, and server
memory stays flat over a 30-minute auto-refresh soak with a page open.

BENCHMARK FIXTURE, NOT REAL DATA: the data dir is built here from synthetic series (seeded, deterministic):
86,400 one-second samples ending now for every layer the chart pages read (system, process, gpu, model,
service, quality, score), with the metric keys the real Monitor writes, plus a user request every 10 s and a
canary probe every 60 s in the requests table. The series are varied on purpose (a daily cycle, random walks,
noise, bursts, occasional spikes and failures) so that downsampling and charts do real work. By default the
data dir is a fresh temporary directory, removed at the end; --data-dir must name a directory that does not
exist or is empty, so a user's data dir is never touched. The demo model is copied from
.pytest_cache/healthmon-demo-model when present (else the app builds it on first start).

Phases (progress lines on stderr, one JSON object on stdout at the end):
1. fixture: write the history (rows/s reported).
2. server: each chart page (System, Model, Analysis) run through the entry file with AppTest, window 24h,
   against a real Monitor (get_monitor(start=False)) on the fixture; median/p95 of repeated at.run() after a
   warm-up. A full page run (every fragment, plus the entry file's sidebar and navigation) is an upper bound
   on one fragment refresh. `warm` runs reuse panels.history's per-slot frame cache, as refreshes inside one
   point-width slot do (43 s for 24 h); `uncached` runs clear that cache first, as the refresh that
   crosses into a new slot does (every store read hits SQLite). Each st.fragment body is also timed on its
   own (FragmentTimer): that is the cost of one live refresh, the figure the <= 200 ms target is about. A
   24 h chart fragment refreshes once per slot, so its `uncached` time is the one a user's refresh pays.
3. browser: the real app (`streamlit run streamlit_app.py`) on the fixture; in headless Chromium the sidebar
   "Time window" is set to 24h on the Settings page (no charts), then each chart page is opened from the
   sidebar navigation; the time from the click to the first .js-plotly-plot holding data, median of N.
   `goto_ms` is also given: page.goto(url) of the page to its first chart with data (default 1h window, a
   cold session), for comparison.
4. soak: the System page, 24h window, left open and auto-refreshing; the app process's RSS every 10 s for
   --soak-minutes; start/end/max and the least-squares slope over the second half (MB per 10 min). The
   Monitor's live ring grows by design until it holds --ring-size samples per layer (HEALTHMON_RING_SIZE;
   the default 3,600 at a 1 s interval is an hour, about 18 MB): the soak's app gets a ring of 300 (full
   after 5 minutes) so that what it measures after that is the steady state, not the ring filling.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from healthmon.analysis.forecast import predict_linear  # noqa: E402
from healthmon.store.frames import percentiles  # noqa: E402
from tests.appserver import AppServer  # noqa: E402

SECONDS = 86_400
DEMO_MODEL = ROOT / ".pytest_cache" / "healthmon-demo-model"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHART_PAGES = {"system": ("System", "views/system.py"), "model": ("Model", "views/model.py"),
               "analysis": ("Analysis", "views/analysis.py")}
APP_ENV = {"HEALTHMON_INTERVAL": "1", "HEALTHMON_PROBE_INTERVAL": "0", "HEALTHMON_EMBEDDING_MODEL": "off",
           "PYTHONUNBUFFERED": "1"}
FIRST_CHART_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(plot =>
    (plot._fullData || []).some(trace => ((trace.y || trace.x || trace.values || [trace.value]).length || 0) > 0))"""
TARGET_FIRST_CHART_MS = 3000
TARGET_FRAGMENT_MS = 200


def progress(message: str) -> None:
    print(f"[bench_pages {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def summary_ms(values: list[float]) -> dict:
    return {"median_ms": round(statistics.median(values), 1), "p95_ms": round(percentiles(values, (95,))["p95"], 1),
            "min_ms": round(min(values), 1), "max_ms": round(max(values), 1), "runs": len(values)}


# --- 1. fixture -----------------------------------------------------------------------------------
class Walk:
    """A mean-reverting random walk (AR(1)) around 0."""

    def __init__(self, rng: random.Random, keep: float, step: float) -> None:
        self.rng, self.keep, self.step, self.value = rng, keep, step, 0.0

    def __call__(self) -> float:
        self.value = self.value * self.keep + self.rng.gauss(0.0, self.step)
        return self.value


def clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def build_fixture(data_dir: Path, seed: int = 20240601) -> dict:
    """Write the synthetic 24 h of 1 s history (see the module docstring) into data_dir/history.sqlite3."""
    from healthmon.config import load_settings
    from healthmon.store.sqlite import HistoryStore

    rng = random.Random(seed)
    end = float(int(time.time()))
    start = end - SECONDS + 1
    db_path = load_settings(env={}, data_dir=data_dir).db_path
    store = HistoryStore(db_path, flush_interval_seconds=3600, retention_seconds=30 * 86_400,
                         max_pending=SECONDS + 10)
    store.open()
    cores = os.cpu_count() or 2
    mem_total, disk_total = 23.54, 251.97
    started = time.perf_counter()
    rows = 0

    def daily(ts: float, shift: float = 0.0) -> float:
        return math.sin(2 * math.pi * ((ts % 86_400) / 86_400 + shift))

    # system -------------------------------------------------------------------------------------
    cpu_walk, mem_walk, io_walk, net_walk = Walk(rng, 0.995, 1.2), Walk(rng, 0.9995, 0.08), Walk(rng, 0.9, 0.4), \
        Walk(rng, 0.95, 0.3)
    load1 = load5 = load15 = 0.8
    for i in range(SECONDS):
        ts = start + i
        spike = 35.0 if rng.random() < 0.002 else 0.0
        cpu = clamp(28 + 14 * daily(ts) + cpu_walk() + rng.gauss(0, 4) + spike, 0.5, 100)
        runnable = cpu / 100 * cores * (1 + rng.random() * 0.3)
        load1 += (runnable - load1) / 60
        load5 += (runnable - load5) / 300
        load15 += (runnable - load15) / 900
        mem = clamp(46 + 6 * daily(ts, 0.1) + mem_walk() + rng.gauss(0, 0.2), 5, 99)
        swap = clamp(1.5 + 0.5 * daily(ts, 0.3) + rng.gauss(0, 0.05), 0, 100)
        disk = 26.70 + 0.25 * i / SECONDS
        burst = rng.random() < 0.01
        read = max(0.0, math.exp(10 + io_walk()) * (20 if burst else 1) * (rng.random() < 0.6))
        write = max(0.0, math.exp(11 + io_walk() * 0.5) * (rng.random() < 0.8))
        sent = math.exp(9 + net_walk()) + rng.random() * 2000
        store.append_sample("system", ts, {
            "cpu_usage": round(cpu, 1), "cpu_count": cores, "load_avg_1m": round(load1, 2),
            "load_avg_5m": round(load5, 2), "load_avg_15m": round(load15, 2), "memory_usage": round(mem, 1),
            "memory_used_gb": round(mem_total * mem / 100, 3), "memory_total_gb": mem_total,
            "memory_available_gb": round(mem_total * (1 - mem / 100), 3), "swap_usage": round(swap, 1),
            "swap_used_gb": round(swap / 100 * 4, 3), "disk_usage": round(disk, 2),
            "disk_used_gb": round(disk_total * disk / 100, 3), "disk_total_gb": disk_total,
            "disk_read_bytes_per_second": round(read, 2), "disk_write_bytes_per_second": round(write, 2),
            "network_sent_bytes_per_second": round(sent, 2),
            "network_recv_bytes_per_second": round(sent * (1.5 + rng.random()), 2),
            "system_uptime_hours": round(100 + i / 3600, 3)})
    store.flush()
    rows += SECONDS
    progress(f"fixture: system written ({time.perf_counter() - started:.1f} s)")

    # process and gpu ----------------------------------------------------------------------------
    rss, threads, files = 420.0, 22, 12
    for i in range(SECONDS):
        ts = start + i
        rss += rng.gauss(0.004, 0.05)
        if rng.random() < 0.0005:  # a collection frees memory now and then
            rss -= rng.uniform(2, 8)
        rss = clamp(rss, 380, 520)
        if rng.random() < 0.002:
            threads = int(clamp(threads + rng.choice((-1, 1)), 18, 28))
        if rng.random() < 0.003:
            files = int(clamp(files + rng.choice((-1, 1)), 8, 20))
        store.append_sample("process", ts, {
            "process_rss_mb": round(rss + rng.gauss(0, 0.3), 2),
            "process_cpu_percent": round(clamp(6 + 4 * daily(ts) + rng.expovariate(0.3), 0, 200), 1),
            "process_threads": threads, "process_open_files": files})
        store.append_sample("gpu", ts, {"gpu_available": 0, "gpu_count": 0})  # like a GPU-less host
    store.flush()
    rows += 2 * SECONDS
    progress(f"fixture: process and gpu written ({time.perf_counter() - started:.1f} s)")

    # requests, and the model, service, quality and score layers they drive ----------------------
    total = succeeded = failed = prompt_total = output_total = 0
    recent: list[tuple[float, float, float, float, bool]] = []  # (ts, latency, ttft, tps, ok) over 60 s
    lat_walk = Walk(rng, 0.999, 0.004)
    for i in range(SECONDS):
        ts = start + i
        completed: list[dict] = []
        is_probe = i % 60 == 30
        is_user = i % 10 == 3 or (rng.random() < 0.02 * (1.2 + daily(ts)))
        for synthetic in ((True,) if is_probe else ()) + ((False,) if is_user else ()):
            ok = synthetic or rng.random() > 0.01
            out_tokens = 8 if synthetic else rng.randint(8, 64)
            prompt_tokens = 6 if synthetic else rng.randint(4, 120)
            ttft = clamp(0.012 + lat_walk() + rng.gauss(0, 0.002), 0.004, 1)
            itl = clamp(0.0025 + rng.gauss(0, 0.0003) + 0.001 * (daily(ts) + 1), 0.0008, 0.1)
            latency = ttft + itl * out_tokens + (rng.expovariate(20) if rng.random() < 0.03 else 0)
            tps = out_tokens / max(latency - ttft, 1e-3)
            record = {
                "trace_id": uuid.UUID(int=rng.getrandbits(128)).hex, "ts": ts - latency,
                "source": "probe" if synthetic else "api", "synthetic": int(synthetic),
                "status": "ok" if ok else "error",
                "finish_reason": ("stop" if rng.random() < 0.4 else "length") if ok else "error",
                "error": None if ok else "RuntimeError: synthetic failure (benchmark fixture)",
                "model": "demo", "prompt_tokens": prompt_tokens, "output_tokens": out_tokens if ok else 0,
                "queue_seconds": round(rng.expovariate(500), 6), "tokenize_seconds": round(0.0004, 6),
                "ttft_seconds": round(ttft, 6), "decode_seconds": round(latency - ttft, 6),
                "latency_seconds": round(latency, 6), "inter_token_latency_seconds": round(itl, 6),
                "tokens_per_second": round(tps, 3), "prompt_chars": prompt_tokens * 4,
                "response_chars": out_tokens * 4,
                "prompt": "benchmark fixture prompt" if not synthetic else "canary",
                "response": "benchmark fixture response " * 3, "params": {"max_new_tokens": out_tokens},
                "spans": [], "quality": None}
            store.append_request(record)
            if ok:
                completed.append(record)
            if not synthetic:
                total += 1
                succeeded += ok
                failed += not ok
                prompt_total += prompt_tokens
                output_total += out_tokens if ok else 0
                recent.append((ts, latency, ttft, tps, ok))

        def mean(key: str, completed: list[dict] = completed) -> float | None:
            values = [r[key] for r in completed]
            return round(sum(values) / len(values), 6) if values else None

        store.append_sample("model", ts, {
            "model_loaded": 1, "in_flight": int(bool(completed) and rng.random() < 0.3), "queued": 0,
            "memory_footprint_gb": 0.004, "parameters_billions": 0.001, "load_seconds": 2.31,
            "completed_requests": len(completed), "latency_seconds": mean("latency_seconds"),
            "ttft_seconds": mean("ttft_seconds"), "tokens_per_second": mean("tokens_per_second"),
            "inter_token_latency_seconds": mean("inter_token_latency_seconds")})
        while recent and recent[0][0] <= ts - 60:
            recent.pop(0)
        lats = sorted(r[1] for r in recent)
        ttfts = sorted(r[2] for r in recent)
        store.append_sample("service", ts, {
            "total_requests": total, "succeeded_requests": succeeded, "failed_requests": failed,
            "rejected_requests": 0, "success_percent": round(100 * succeeded / total, 2) if total else None,
            "mean_latency_seconds": round(sum(lats) / len(lats), 6) if lats else None,
            "requests_per_minute": len(recent), "prompt_tokens_total": prompt_total,
            "output_tokens_total": output_total, "window_requests": len(recent),
            "failure_percent": round(100 * sum(not r[4] for r in recent) / len(recent), 2) if recent else None,
            **{f"latency_{key}_seconds": round(value, 6) for key, value in percentiles(lats).items()
               if value is not None},
            **{f"ttft_{key}_seconds": round(value, 6) for key, value in percentiles(ttfts).items()
               if value is not None},
            "window_tokens_per_second": round(statistics.fmean(r[3] for r in recent), 3) if recent else None})
        users = [r for r in completed if not r["synthetic"]]
        probes = [r for r in completed if r["synthetic"]]
        quality = {"quality_requests": len(users), "relevance_queue_depth": 0,
                   "relevance_scored_total": total, "relevance_dropped_total": 0, "relevance_failed_total": 0,
                   "embedding_model_ready": 1}
        if users:
            quality |= {
                "quality_score": round(clamp(78 + 8 * daily(ts, 0.2) + rng.gauss(0, 6), 0, 100), 2),
                "relevance": round(clamp(0.62 + rng.gauss(0, 0.08), 0, 1), 4),
                "perplexity": round(math.exp(rng.gauss(2.6, 0.25)), 3),
                "mean_logprob": round(-rng.uniform(1.8, 3.2), 4),
                "repetition_rate": round(clamp(rng.gauss(0.08, 0.04), 0, 1), 4),
                "distinct_1": round(clamp(rng.gauss(0.75, 0.06), 0, 1), 4),
                "distinct_2": round(clamp(rng.gauss(0.9, 0.04), 0, 1), 4),
                "language_mismatch_percent": 100.0 if rng.random() < 0.01 else 0.0,
                "empty_response_percent": 100.0 if rng.random() < 0.005 else 0.0,
                "truncated_percent": 100.0 if rng.random() < 0.6 else 0.0}
        if probes:
            quality["canary_drift_similarity"] = round(clamp(1 - rng.expovariate(60), 0, 1), 4)
        store.append_sample("quality", ts, quality)
        s_system = clamp(100 - max(0.0, (40 + 14 * daily(ts)) - 60) * 3 + rng.gauss(0, 1), 0, 100)
        s_model = clamp(96 + rng.gauss(0, 2), 0, 100)
        s_service = clamp(100 - (failed and 100 * sum(not r[4] for r in recent) / max(1, len(recent))), 0, 100)
        s_quality = clamp(80 + 8 * daily(ts, 0.2) + rng.gauss(0, 2), 0, 100)
        store.append_sample("score", ts, {
            "performance_score": round((s_system + s_model + s_service + s_quality) / 4, 2),
            "score_system": round(s_system, 2), "score_model": round(s_model, 2),
            "score_service": round(s_service, 2), "score_quality": round(s_quality, 2)})
        if i % 20_000 == 19_999:
            store.flush()
    store.flush()
    rows += 4 * SECONDS
    health = store.health()
    store.close()
    seconds = time.perf_counter() - started
    progress(f"fixture: {rows:,} sample rows + {total:,} user requests written in {seconds:.1f} s")
    return {"seconds_of_history": SECONDS, "first_ts": start, "last_ts": end, "sample_rows": rows,
            "user_requests": total, "probe_requests": SECONDS // 60, "write_seconds": round(seconds, 1),
            "db_size_mb": round(health["db_size_bytes"] / 2**20, 1),
            "write_errors_total": health["write_errors_total"]}


# --- 2. server cost (AppTest) ---------------------------------------------------------------------
class FragmentTimer:
    """Times each st.fragment body by name while installed: a fragment's own run is what a live refresh costs,
    where a full page run also pays for the entry file, the sidebar and every other fragment."""

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = {}
        self._original = None

    def install(self, st) -> None:
        import functools

        self._original = original = st.fragment

        def fragment(func=None, **kwargs):
            def decorate(body):
                @functools.wraps(body)  # same module and qualname: Streamlit keys a fragment by them
                def timed(*args, **kw):
                    t0 = time.perf_counter()
                    try:
                        return body(*args, **kw)
                    finally:
                        self.ms.setdefault(body.__name__, []).append((time.perf_counter() - t0) * 1000)
                return original(timed, **kwargs)
            return decorate if func is None else decorate(func)

        st.fragment = fragment

    def uninstall(self, st) -> None:
        if self._original is not None:
            st.fragment = self._original

    def take(self) -> dict[str, list[float]]:
        taken, self.ms = self.ms, {}
        return taken


def fragment_summary(warm: dict[str, list[float]], uncached: dict[str, list[float]]) -> dict:
    return {name: {"warm_median_ms": round(statistics.median(warm[name]), 1),
                   "uncached_median_ms": round(statistics.median(uncached.get(name) or warm[name]), 1)}
            for name in warm}


def server_cost(data_dir: Path, runs: int) -> dict:
    import logging

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from healthmon.registry import get_monitor, release_monitor
    from healthmon.ui.panels import history_cache

    os.environ.update(APP_ENV | {"HEALTHMON_DATA_DIR": str(data_dir)})
    for name in ("streamlit", "streamlit.runtime.caching.cache_data_api",  # bare-mode warnings on every run
                 "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).setLevel(logging.ERROR)
    release_monitor()
    st.cache_resource.clear()
    m = get_monitor(start=False)
    deadline = time.monotonic() + 180
    while m.target.info()["status"] not in ("loaded", "error") and time.monotonic() < deadline:
        time.sleep(0.25)
    m.loop.collect_once()  # a live sample for the 'now' tiles; history comes from the fixture
    results = {"model_status": m.target.info()["status"]}
    timer = FragmentTimer()
    timer.install(st)
    try:
        for name, (title, path) in CHART_PAGES.items():
            at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
            at.session_state["window"] = "24h"
            at.switch_page(path)
            at.run()  # warm-up: imports, first reads, cache fill
            if at.exception:
                raise RuntimeError(f"{title}: exception in AppTest run: {[e.value for e in at.exception]}")
            charts = len(at.get("plotly_chart"))
            timer.take()
            warm, uncached = [], []
            for _ in range(runs):
                t0 = time.perf_counter()
                at.run()
                warm.append((time.perf_counter() - t0) * 1000)
            warm_fragments = timer.take()
            for _ in range(runs):
                history_cache(m).clear()
                t0 = time.perf_counter()
                at.run()
                uncached.append((time.perf_counter() - t0) * 1000)
            fragments = fragment_summary(warm_fragments, timer.take())
            if at.exception:
                raise RuntimeError(f"{title}: exception in AppTest run: {[e.value for e in at.exception]}")
            slowest = max(fragments.values(), key=lambda f: f["uncached_median_ms"])
            results[name] = {"plotly_charts": charts, "warm": summary_ms(warm), "uncached": summary_ms(uncached),
                             "fragments": fragments,
                             "slowest_fragment_uncached_ms": slowest["uncached_median_ms"],
                             "fragment_refresh_within_200_ms": slowest["uncached_median_ms"] <= TARGET_FRAGMENT_MS,
                             "page_run_within_200_ms": statistics.median(warm) <= TARGET_FRAGMENT_MS}
            progress(f"server: {title} 24h page run warm median {statistics.median(warm):.0f} ms, "
                     f"uncached median {statistics.median(uncached):.0f} ms ({charts} charts); fragments "
                     + ", ".join(f"{key} {f['warm_median_ms']:.0f}/{f['uncached_median_ms']:.0f}"
                                 for key, f in fragments.items()) + " ms warm/uncached")
    finally:
        timer.uninstall(st)
        release_monitor()
        st.cache_resource.clear()
    return results


# --- 3./4. the real app in Chromium ---------------------------------------------------------------
def open_session(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    wait_idle(page)
    return page


def wait_idle(page) -> None:
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=60_000)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)


def choose_window(page, window: str) -> None:
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="Time window").click()
    page.get_by_role("option", name=window, exact=True).click()
    page.wait_for_timeout(300)
    wait_idle(page)


def navigate(page, path: str, title: str) -> float:
    """Click the sidebar link to `path`; ms from the click to the first chart holding data."""
    link = page.locator(f"[data-testid='stSidebarNav'] a[href$='/{path}']")
    t0 = time.perf_counter()
    link.click()
    page.wait_for_selector(f"h1:has-text('{title}')", timeout=60_000)
    page.wait_for_function(FIRST_CHART_JS, timeout=60_000)
    return (time.perf_counter() - t0) * 1000


def browser_first_chart(browser, app: AppServer, repeats: int) -> dict:
    results = {}
    for path, (title, _) in CHART_PAGES.items():
        nav, goto = [], []
        for _ in range(repeats):
            page = open_session(browser, f"{app.url}/settings")
            try:
                choose_window(page, "24h")
                nav.append(navigate(page, path, title))
                if page.locator("[data-testid='stException']").count():
                    raise RuntimeError(f"{title} shows an exception")
            finally:
                page.close()
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                t0 = time.perf_counter()
                page.goto(f"{app.url}/{path}")
                page.wait_for_function(FIRST_CHART_JS, timeout=60_000)
                goto.append((time.perf_counter() - t0) * 1000)
            finally:
                page.close()
        results[path] = {"nav_24h_ms": [round(v) for v in nav], "nav_24h_median_ms": round(statistics.median(nav)),
                         "goto_1h_ms": [round(v) for v in goto], "goto_1h_median_ms": round(statistics.median(goto)),
                         "within_3_s": statistics.median(nav) <= TARGET_FIRST_CHART_MS}
        progress(f"browser: {title} first chart, 24h via navigation: median {statistics.median(nav):.0f} ms "
                 f"{[round(v) for v in nav]}; goto (1h): median {statistics.median(goto):.0f} ms")
    return results


def slope_mb_per_10min(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB), per 10 minutes (the alert forecasts' own fit)."""
    if len(points) < 3:
        return None
    fit = predict_linear([p[0] for p in points], [p[1] for p in points], horizon_seconds=0.0)
    return None if fit is None else round(600 * fit.slope_per_second, 2)


def soak(browser, app: AppServer, minutes: float, every: float = 10.0) -> dict:
    import psutil

    proc = psutil.Process(app.process.pid)
    page = open_session(browser, f"{app.url}/settings")
    try:
        choose_window(page, "24h")
        navigate(page, "system", "System")
        samples: list[tuple[float, float]] = []
        t_start = time.monotonic()
        end = t_start + minutes * 60
        next_at = t_start
        while True:
            now = time.monotonic()
            if now >= next_at:
                rss = proc.memory_info().rss / 2**20
                samples.append((now - t_start, rss))
                if len(samples) % 6 == 1:
                    progress(f"soak: {(now - t_start) / 60:5.1f} min, RSS {rss:.1f} MB")
                next_at += every
            if now >= end:
                break
            page.wait_for_timeout(max(0.05, min(next_at, end) - time.monotonic()) * 1000)
        exceptions = page.locator("[data-testid='stException']").count()
        charts_with_data = page.evaluate(FIRST_CHART_JS)
        threads = proc.num_threads()
    finally:
        page.close()
    rss = [s[1] for s in samples]
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    return {"minutes": minutes, "page": "system", "window": "24h", "sample_every_s": every, "samples": len(samples),
            "rss_start_mb": round(rss[0], 1), "rss_end_mb": round(rss[-1], 1), "rss_max_mb": round(max(rss), 1),
            "rss_min_mb": round(min(rss), 1), "rss_growth_mb": round(rss[-1] - rss[0], 1),
            "slope_second_half_mb_per_10min": slope_mb_per_10min(half),
            "slope_all_mb_per_10min": slope_mb_per_10min(samples),
            "threads_at_end": threads, "exceptions_on_page_at_end": exceptions,
            "chart_holds_data_at_end": charts_with_data,
            "rss_series_mb": [[round(t), round(v, 1)] for t, v in samples]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soak-minutes", type=float, default=30.0)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where to build the fixture: must not exist or be empty (default: a temp dir)")
    parser.add_argument("--runs", type=int, default=8, help="timed AppTest runs per page and mode")
    parser.add_argument("--browser-repeats", type=int, default=3)
    parser.add_argument("--ring-size", type=int, default=300,
                        help="HEALTHMON_RING_SIZE for the app (full after ring-size seconds at a 1 s interval)")
    args = parser.parse_args()

    temp = None
    if args.data_dir is None:
        temp = tempfile.mkdtemp(prefix="healthmon-bench-pages-")
        data_dir = Path(temp) / "data"
    else:
        data_dir = args.data_dir.resolve()
        if data_dir.exists() and any(data_dir.iterdir()):
            parser.error(f"--data-dir {data_dir} is not empty: give a new or empty directory (this benchmark "
                         "writes a synthetic fixture and never uses an existing data dir)")
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "BENCHMARK-FIXTURE.txt").write_text("Synthetic history written by benchmarks/bench_pages.py.\n")
    report: dict = {"benchmark": "bench_pages", "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                    "data_dir": str(data_dir), "fixture_is_synthetic": True,
                    "targets": {"first_chart_ms": TARGET_FIRST_CHART_MS, "fragment_refresh_ms": TARGET_FRAGMENT_MS}}
    app = None
    try:
        if DEMO_MODEL.is_dir():
            shutil.copytree(DEMO_MODEL, data_dir / "demo-model")
        report["demo_model_copied"] = DEMO_MODEL.is_dir()
        progress(f"fixture: building 24 h of 1 s history in {data_dir}")
        report["fixture"] = build_fixture(data_dir)
        progress("server: timing page runs through AppTest (window 24h)")
        report["server_page_run"] = server_cost(data_dir, args.runs)
        report["server_page_run"]["note"] = ("one full script run of the page through the entry file: an upper "
                                             "bound on one fragment refresh")
        from playwright.sync_api import sync_playwright

        progress("browser: starting the app")
        app = AppServer(data_dir, Path(tempfile.gettempdir()) / f"bench-pages-app-{os.getpid()}.log",
                        args=("--browser.gatherUsageStats", "false"),
                        **APP_ENV | {"HEALTHMON_RING_SIZE": str(args.ring_size)})
        app.start(api_timeout_seconds=180, model_timeout_seconds=180)
        report["app_log"] = str(app.log_path)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync"])
            try:
                report["browser_first_chart"] = browser_first_chart(browser, app, args.browser_repeats)
                progress(f"soak: {args.soak_minutes:g} min with the System page (24h) open")
                report["soak"] = soak(browser, app, args.soak_minutes) | {"ring_size": args.ring_size}
            finally:
                browser.close()
        s = report["soak"]
        progress(f"soak: RSS start {s['rss_start_mb']} MB, end {s['rss_end_mb']} MB, max {s['rss_max_mb']} MB, "
                 f"second-half slope {s['slope_second_half_mb_per_10min']} MB/10 min")
    finally:
        if app is not None:
            app.stop()
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
            report["data_dir_removed"] = True
        report["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
