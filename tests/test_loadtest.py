"""The load test: its figures from known timings (pure), and truth checks against a paced stub of known design.

The stub (tests/paced_openai.py) serves `slots` requests at once; each gets its first token FIRST s after its slot
and then one every INTERVAL s, so one request takes SERVICE = FIRST + (TOKENS − 1) × INTERVAL. What the report
must say follows from that design, and so do the tolerances: a figure is checked against the next value the design
could produce (one more service time of queueing, one more token interval), never against how fast healthmon is.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from typing import Any

import pytest

from healthmon.loadtest import cli
from healthmon.loadtest.client import RequestTiming
from healthmon.loadtest.prompts import PromptFileError, built_in, parse_prompts
from healthmon.loadtest.runner import LoadTestPlan, Progress, StopSignal, run_load_test
from healthmon.loadtest.stats import Objectives, capacity, is_good, measure, percentiles, summarize_level
from tests.appserver import ROOT, free_port
from tests.paced_openai import PacedServer

SLOTS, FIRST, INTERVAL, TOKENS = 2, 0.05, 0.01, 8
SERVICE = FIRST + (TOKENS - 1) * INTERVAL  # 0.12 s a request, once it has a slot
REQUESTS = 16
# Midway between a request served at once (FIRST) and one that waited a whole service time (FIRST + SERVICE).
TTFT_OBJECTIVE = FIRST + SERVICE / 2


def plan(url: str, levels: tuple[int, ...] = (1, 2, 4), **kwargs) -> LoadTestPlan:
    values: dict[str, Any] = {"requests_per_level": REQUESTS, "max_tokens": TOKENS, "prompts": built_in(),
              "objectives": Objectives(TTFT_OBJECTIVE, 2 * INTERVAL)} | kwargs
    return LoadTestPlan(url=url, concurrency_levels=levels, **values)


# --- figures from timings, no server ---

def test_a_request_s_figures_follow_the_definitions():
    timing = RequestTiming(sent_s=10.0, finished_s=10.5, content_times_s=(10.1, 10.2, 10.4), usage_output_tokens=5)
    figures = measure(timing)
    assert figures is not None
    assert figures.ttft_seconds == pytest.approx(0.1) and figures.e2e_seconds == pytest.approx(0.5)
    assert figures.output_tokens == 5 and figures.tokens_from_usage  # usage wins over the chunks counted
    assert figures.time_per_output_token_seconds == pytest.approx(0.4 / 4)
    assert figures.gaps_seconds == pytest.approx((0.1, 0.2))
    counted = measure(RequestTiming(10.0, 10.5, (10.1, 10.2, 10.4)))
    assert counted is not None and counted.output_tokens == 3 and not counted.tokens_from_usage
    assert counted.time_per_output_token_seconds == pytest.approx(0.2)
    one = measure(RequestTiming(10.0, 10.3, (10.3,), 1))
    assert one is not None and one.time_per_output_token_seconds is None
    assert measure(RequestTiming(10.0, 10.3, error="HTTP 500: x", error_kind="http_5xx")) is None


def test_good_means_every_objective_met_and_unset_ones_are_not_judged():
    figures = measure(RequestTiming(0.0, 1.0, (0.5, 1.0), 2))
    assert figures is not None  # TTFT 0.5, TPOT 0.5, e2e 1.0
    assert is_good(figures, Objectives(0.5, 0.5, 1.0))
    assert not is_good(figures, Objectives(0.4, 0.5))
    assert not is_good(figures, Objectives(0.5, 0.4))
    assert not is_good(figures, Objectives(None, None, 0.9))
    assert is_good(figures, Objectives(None, None, None))


def test_percentiles_interpolate_as_numpy_does():
    values = [float(v) for v in range(1, 101)]
    assert percentiles(values).to_dict() == pytest.approx({"p50": 50.5, "p95": 95.05, "p99": 99.01})
    assert percentiles([]).to_dict() == {"p50": None, "p95": None, "p99": None}
    assert percentiles([3.0]).p99 == 3.0


def test_a_level_counts_errors_as_sent_but_not_good_and_capacity_is_the_highest_meeting_level():
    ok = RequestTiming(0.0, 1.0, (0.1, 1.0), 2)
    slow = RequestTiming(0.0, 2.0, (1.5, 2.0), 2)
    failed = RequestTiming(0.0, 0.1, error="cannot connect: refused", error_kind="connect")
    level = summarize_level(4, [ok, ok, slow, failed], 2.0, Objectives(1.0, None, None, 0.5))
    assert (level.requests, level.errors, level.slo_attainment) == (4, 1, 0.5)
    assert level.requests_per_second == 1.5 and level.goodput_requests_per_second == 1.0
    assert level.output_tokens_per_second == 3.0 and level.output_tokens_source == "usage"
    assert level.errors_by_kind == {"connect": 1} and level.error_examples == ("cannot connect: refused",)
    other = summarize_level(8, [slow, slow], 2.0, Objectives(1.0, None, None, 0.5))
    assert capacity([level, other], 0.5) == 4
    assert capacity([other], 0.5) is None
    assert capacity([level, summarize_level(16, [ok], 1.0, Objectives(1.0, None))], 0.5) == 16


def test_prompt_files_take_prompts_or_messages_and_name_a_bad_line():
    prompts = parse_prompts('{"prompt": "hi"}\n\n{"messages": [{"role": "system", "content": "s"}, '
                            '{"role": "user", "content": "你好"}]}\n')
    assert prompts == ((("user", "hi"),), (("system", "s"), ("user", "你好")))
    with pytest.raises(PromptFileError, match="p.jsonl:2"):
        parse_prompts('{"prompt": "hi"}\n{"text": "no"}\n', "p.jsonl")
    with pytest.raises(PromptFileError, match="not JSON"):
        parse_prompts("hello\n")
    assert any(ord(ch) > 0x4E00 for messages in built_in() for _, text in messages for ch in text)  # Chinese too


def test_a_plan_refuses_what_cannot_run():
    good: dict[str, Any] = {"url": "http://x/v1", "concurrency_levels": (1,), "requests_per_level": 1,
                             "max_tokens": 1, "prompts": built_in()}
    bad_values: list[dict[str, Any]] = [{"url": "ftp://x/v1"}, {"url": "localhost:8000/v1"},
                                        {"concurrency_levels": (0,)}, {"requests_per_level": 0}]
    for bad in bad_values:
        with pytest.raises(ValueError):
            LoadTestPlan(**(good | bad))


# --- truth checks against the paced stub ---

def test_the_report_matches_what_the_stub_s_design_implies():
    with PacedServer(slots=SLOTS, first_token_seconds=FIRST, token_interval_seconds=INTERVAL, tokens=TOKENS) as stub:
        report = asyncio.run(run_load_test(plan(stub.url)))
        assert stub.max_serving == SLOTS and stub.requests == 3 * REQUESTS
    by_level = {level.concurrency: level for level in report.levels}
    assert report.model == "paced" and all(level.errors == 0 for level in report.levels)
    for concurrency in (1, 2):  # a slot for every request: TTFT is the first-token delay, with no queueing
        level = by_level[concurrency]
        assert FIRST <= level.ttft_seconds.p50 < FIRST + SERVICE
        assert level.slo_attainment == 1.0
    # Four workers on two slots: after the first two, every request waits one whole service time.
    queued = by_level[4]
    assert FIRST + SERVICE <= queued.ttft_seconds.p50 < FIRST + 2 * SERVICE
    assert queued.slo_attainment == 2 / REQUESTS  # only the two that found a free slot at the start
    assert report.capacity_concurrency == 2
    for level in report.levels:  # paced at a fixed interval whatever the queue: nearer it than to 0 or to two
        assert level.time_per_output_token_seconds.p50 == pytest.approx(INTERVAL, abs=INTERVAL / 2)
        assert level.inter_token_latency_seconds.p50 == pytest.approx(INTERVAL, abs=INTERVAL / 2)
        assert SERVICE <= level.e2e_seconds.p50
        assert level.output_tokens == REQUESTS * TOKENS and level.output_tokens_source == "usage"
        assert level.output_tokens_per_second == pytest.approx(TOKENS * level.requests_per_second)
        design = min(level.concurrency, SLOTS) / SERVICE  # requests a second the slots can serve, at most
        assert 0.75 * design <= level.requests_per_second <= design * 1.001
        assert level.goodput_requests_per_second == pytest.approx(level.slo_attainment * level.requests_per_second)
    # Queueing adds to TTFT only: the whole request grows by the same wait.
    assert queued.e2e_seconds.p50 - queued.ttft_seconds.p50 == pytest.approx(SERVICE - FIRST, abs=INTERVAL)


def test_without_a_usage_chunk_the_content_chunks_are_counted():
    with PacedServer(slots=1, first_token_seconds=0.0, token_interval_seconds=0.0, tokens=5, usage=False) as stub:
        report = asyncio.run(run_load_test(plan(stub.url, (1,), requests_per_level=3)))
    level = report.levels[0]
    assert level.output_tokens == 15 and level.output_tokens_source == "counted chunks"


@pytest.mark.parametrize(("fault", "kind", "says"), [
    ("status:503", "http_5xx", "HTTP 503: the stub refuses"),
    ("status:401", "http_4xx", "HTTP 401: the stub refuses"),
    ("garbage", "protocol", "not an OpenAI stream"),
    ("cut", "protocol", "broke off"),
    ("silent", "timeout", "no data for 0.3 s"),
])
def test_a_misbehaving_server_is_an_error_counted_per_level_never_a_hang(fault, kind, says):
    with PacedServer(fault=fault, first_token_seconds=0.0, token_interval_seconds=0.0) as stub:
        report = asyncio.run(run_load_test(plan(stub.url, (1, 2), requests_per_level=2, read_timeout_seconds=0.3)))
    assert [(level.requests, level.errors) for level in report.levels] == [(2, 2), (2, 2)]
    for level in report.levels:
        assert level.errors_by_kind == {kind: 2} and level.slo_attainment == 0.0
        assert any(says in example for example in level.error_examples), level.error_examples
    assert report.capacity_concurrency is None


def test_a_server_that_is_down_is_a_connect_error():
    report = asyncio.run(run_load_test(plan(f"http://127.0.0.1:{free_port()}/v1", (1,), requests_per_level=2)))
    assert report.model is None
    assert report.levels[0].errors_by_kind == {"connect": 2}
    assert "cannot connect" in report.levels[0].error_examples[0]


def test_stop_ends_the_run_with_the_levels_so_far():
    stop = StopSignal()
    seen: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        seen.append(progress)
        if progress.done == 3:
            threading.Thread(target=stop.set).start()  # as the page's Stop does, from another thread

    with PacedServer(slots=4, first_token_seconds=0.01, token_interval_seconds=0.01, tokens=4) as stub:
        report = asyncio.run(run_load_test(plan(stub.url, (2, 4), requests_per_level=40), stop=stop,
                                           on_progress=on_progress))
    assert report.stopped and len(report.levels) == 1
    assert 3 <= report.levels[0].requests < 40  # requests in flight at the stop were cancelled, not waited for
    assert seen[-1].total == 80


# --- the command line ---

def test_the_cli_writes_the_report_in_the_documented_shape(tmp_path, capsys):
    out = tmp_path / "report.json"
    with PacedServer(slots=2, first_token_seconds=0.0, token_interval_seconds=0.0, tokens=4) as stub:
        code = cli.run(cli_args(["--url", stub.url, "--concurrency", "1,2", "--requests", "4", "--max-tokens",
                                 "4", "--json", str(out), "--slo-ttft", "1", "--slo-tpot", "off"]))
    assert code == 0
    report = json.loads(out.read_text())
    assert_report_shape(report, levels=[1, 2])
    assert report["objectives"]["time_per_output_token_seconds"] is None
    printed = capsys.readouterr().out
    assert "capacity: concurrency 2" in printed and "report written" in printed


def test_the_cli_refuses_bad_input_with_a_message(tmp_path, capsys):
    assert cli.run(cli_args(["--url", "localhost:1/v1"])) == 2
    assert "not an http(s) URL" in capsys.readouterr().err
    (tmp_path / "p.jsonl").write_text("not json\n")
    assert cli.run(cli_args(["--url", "http://x/v1", "--prompts", str(tmp_path / "p.jsonl")])) == 2
    assert "p.jsonl:1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_args(["--url", "http://x/v1", "--concurrency", "1,a"])


def cli_args(argv: list[str]):
    from healthmon.__main__ import build_parser

    return build_parser().parse_args(["load", "--no-progress", *argv])


def assert_report_shape(report: dict, levels: list[int]) -> None:
    assert set(report) >= {"levels", "capacity"} and set(report["capacity"]) == {"concurrency"}
    assert [level["concurrency"] for level in report["levels"]] == levels
    for level in report["levels"]:
        assert set(level) >= {"concurrency", "requests", "errors", "ttft_seconds", "time_per_output_token_seconds",
                              "inter_token_latency_seconds", "e2e_seconds", "output_tokens_per_second",
                              "requests_per_second", "goodput_requests_per_second", "slo_attainment"}
        for name in ("ttft_seconds", "time_per_output_token_seconds", "inter_token_latency_seconds", "e2e_seconds"):
            assert set(level[name]) == {"p50", "p95", "p99"}


@pytest.mark.e2e
def test_the_cli_against_the_real_app_s_v1_writes_a_valid_report_with_no_errors(app_factory, data_dir, tmp_path):
    app = app_factory(data_dir)
    out = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "healthmon", "load", "--url", f"{app.url}/v1", "--concurrency",
                           "1,2", "--requests", "4", "--max-tokens", "8", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert_report_shape(report, levels=[1, 2])
    assert all(level["errors"] == 0 and level["requests"] == 4 for level in report["levels"])
    assert all(level["ttft_seconds"]["p50"] > 0 and level["output_tokens_per_second"] > 0
               for level in report["levels"])
    assert report["model"]  # named by the app's /v1/models
    # The monitor recorded the load: eight requests from /v1.
    traces = app.get("/api/traces?limit=50").json()["traces"]
    assert sum(trace["source"] == "openai" for trace in traces) >= 8
