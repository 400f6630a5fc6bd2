"""SLOs: the judgement of a request, the figures, the SQL that counts history, and the service's windows."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from healthmon.analysis.slo import (
    BURN_RATE_ALERTS,
    SloObjectives,
    WindowCounts,
    attainment,
    burn_rate,
    counts_against_service,
    error_budget_remaining,
    is_good,
    slo_report,
)
from healthmon.config import ConfigError, load_settings
from healthmon.records import BUSY_PREFIX, NOT_READY_PREFIX, RequestRecord
from healthmon.slo_service import SETTLE_SECONDS, SloService
from healthmon.store.sqlite import HistoryStore

NOW = 1_800_000_000.0
OBJECTIVES = SloObjectives(ttft_seconds=2.0, time_per_output_token_seconds=0.2, e2e_seconds=None)


def record(status: str = "ok", *, ttft: float | None = 0.5, tpot: float | None = 0.05, latency: float = 3.0,
           synthetic: bool = False, error: str | None = None, ts: float = NOW, trace_id: str = "t",
           stage: str = "finished") -> RequestRecord:
    return RequestRecord(trace_id=trace_id, ts=ts, source="api", status=status, model="m", latency_seconds=latency,
                         synthetic=synthetic, error=error, ttft_seconds=ttft, inter_token_latency_seconds=tpot,
                         stage=stage)  # type: ignore[arg-type]


# ---- the judgement -----------------------------------------------------------------------------------------------
def test_a_request_is_good_when_it_succeeded_within_every_objective_set():
    assert is_good(record(), OBJECTIVES)
    assert not is_good(record(ttft=2.5), OBJECTIVES)
    assert not is_good(record(tpot=0.25), OBJECTIVES)
    assert is_good(record(latency=300.0), OBJECTIVES)  # no end-to-end objective set
    assert not is_good(record(latency=300.0), SloObjectives(e2e_seconds=60.0))
    assert is_good(record(tpot=None), OBJECTIVES)  # a one-token answer has no time per token to break


def test_failures_and_service_refusals_count_as_bad_client_refusals_and_canaries_not_at_all():
    for bad in (record("error", error="timeout"), record("rejected", error=f"{BUSY_PREFIX}queue full; retry later"),
                record("rejected", error=f"{NOT_READY_PREFIX}loading")):
        assert counts_against_service(bad) and not is_good(bad, OBJECTIVES)
    for uncounted in (record("rejected", error="invalid: messages must be a list"),
                      record("rejected", error="rate limit: 120 generate requests per minute per client"),
                      record(synthetic=True)):
        assert not counts_against_service(uncounted) and not is_good(uncounted, OBJECTIVES)


def test_attainment_burn_rate_and_budget_follow_their_definitions():
    counts = WindowCounts(requests=1000, good=985)
    assert attainment(counts) == pytest.approx(0.985)
    assert burn_rate(counts, 0.99) == pytest.approx(1.5)  # 1.5 % bad where 1 % is allowed
    assert error_budget_remaining(counts, 0.99) == pytest.approx(-0.5)
    assert burn_rate(WindowCounts(100, 100), 0.99) == 0.0
    assert attainment(WindowCounts()) is None and burn_rate(WindowCounts(), 0.99) is None


def test_the_report_names_every_window_the_compliance_one_last_and_goodput_over_five_minutes():
    report = slo_report(OBJECTIVES, {"5m": WindowCounts(60, 30), "28d": WindowCounts(1000, 995)})
    assert [w.window for w in report.windows] == ["5m", "30m", "1h", "6h", "24h", "3d", "28d"]
    assert report.goodput_requests_per_second == pytest.approx(30 / 300)
    assert report.error_budget_remaining_ratio == pytest.approx(0.5)
    body = report.to_dict()
    assert body["windows"]["30m"] == {"seconds": 1800.0, "requests": 0, "good": 0, "attainment": None,
                                      "burn_rate": None}
    assert body["compliance_window"] == "28d" and body["objectives"]["objective"] == 0.99


def test_the_burn_rate_alerts_are_the_sre_workbook_s():
    assert [(a.long_window, a.short_window, a.factor, a.level) for a in BURN_RATE_ALERTS] == [
        ("1h", "5m", 14.4, "critical"), ("6h", "30m", 6.0, "critical"), ("3d", "6h", 1.0, "warning")]


# ---- settings ----------------------------------------------------------------------------------------------------
def test_slo_settings_come_from_the_environment_and_the_config_file(tmp_path: Path):
    config = tmp_path / "healthmon.toml"
    config.write_text("slo_objective = 0.995\nslo_window_days = 7\n", encoding="utf-8")
    settings = load_settings({"HEALTHMON_SLO_TTFT_SECONDS": "0.5", "HEALTHMON_SLO_E2E_SECONDS": "30"}, config)
    assert (settings.slo_ttft_seconds, settings.slo_e2e_seconds, settings.slo_objective, settings.slo_window_days,
            settings.slo_time_per_output_token_seconds) == (0.5, 30.0, 0.995, 7.0, 0.2)


@pytest.mark.parametrize(("name", "value", "says"), [
    ("SLO_OBJECTIVE", "1", "between 0 and 1"), ("SLO_OBJECTIVE", "99", "between 0 and 1"),
    ("SLO_WINDOW_DAYS", "0", "positive"), ("SLO_TTFT_SECONDS", "-1", "0 for no objective"),
    ("SLO_TTFT_SECONDS", "fast", "expected float")])
def test_bad_slo_settings_are_refused_with_the_setting_named(tmp_path: Path, name: str, value: str, says: str):
    with pytest.raises(ConfigError, match=f"HEALTHMON_{name}.*{says}"):
        load_settings({f"HEALTHMON_{name}": value}, tmp_path / "none.toml")


# ---- the SQL against the judgement -------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path):
    with HistoryStore(tmp_path / "history.sqlite3", clock=lambda: NOW) as opened:
        yield opened


REQUEST_CASES = st.builds(
    lambda status, ttft, tpot, latency, synthetic, error, age: record(
        status, ttft=ttft, tpot=tpot, latency=latency, synthetic=synthetic, error=error, ts=NOW - age),
    st.sampled_from(["ok", "error", "rejected"]),
    st.one_of(st.none(), st.floats(0, 5)), st.one_of(st.none(), st.floats(0, 0.5)), st.floats(0, 120),
    st.booleans(), st.sampled_from([None, "timeout", f"{BUSY_PREFIX}full", f"{NOT_READY_PREFIX}loading",
                                    "invalid body", "busy", "rate limit"]),
    st.floats(0, 7200))


@settings(max_examples=25, deadline=None)
@given(cases=st.lists(REQUEST_CASES, max_size=40),
       objectives=st.builds(SloObjectives, st.one_of(st.none(), st.floats(0.01, 5)),
                            st.one_of(st.none(), st.floats(0.01, 0.5)), st.one_of(st.none(), st.floats(0.1, 120))))
def test_sql_counts_agree_with_the_judgement_record_for_record(tmp_path_factory, cases, objectives):
    path = tmp_path_factory.mktemp("slo") / "history.sqlite3"
    with HistoryStore(path, clock=lambda: NOW) as history:
        for index, case in enumerate(cases):
            history.append_request(dataclasses.replace(case, trace_id=f"t{index}").to_row())
        limits = (objectives.ttft_seconds, objectives.time_per_output_token_seconds, objectives.e2e_seconds)
        starts = [NOW - 300, NOW - 3600, NOW - 7200]
        expected = [(sum(counts_against_service(c) for c in cases if c.ts >= start),
                     sum(is_good(c, objectives) for c in cases if c.ts >= start)) for start in starts]
        assert history.slo_counts(starts, NOW, limits) == expected
        buckets = history.slo_buckets(NOW - 7200, NOW + 1, 600.0, limits)
        assert sum(b[1] for b in buckets) == expected[2][0] and sum(b[2] for b in buckets) == expected[2][1]


# ---- the service: windows from history, and its counters ---------------------------------------------------------
def fill(history: HistoryStore, ages_seconds: list[float], *, good_every: int = 2) -> None:
    """One request at each age, every `good_every`-th one good (the others too slow to first token)."""
    for index, age in enumerate(ages_seconds):
        ttft = 0.5 if index % good_every == 0 else 5.0
        history.append_request(record(ttft=ttft, ts=NOW - age, trace_id=f"r{index}").to_row())


def test_every_window_counts_exactly(store: HistoryStore):
    ages = [10.0, 200.0, 1000.0, 3000.0, 3700.0, 20_000.0, 80_000.0, 200_000.0, 2_000_000.0, 3_000_000.0,
            3599.5, 3600.5, 21_599.9, 259_200.0]  # either side of a window's start, mid-minute
    fill(store, ages)
    counts = SloService(OBJECTIVES, store, clock=lambda: NOW).window_counts()
    expected = {name: sum(1 for age in ages if age <= seconds) for name, seconds in OBJECTIVES.windows()}
    assert {name: c.requests for name, c in counts.items()} == expected
    good = {name: sum(1 for index, age in enumerate(ages) if age <= seconds and index % 2 == 0)
            for name, seconds in OBJECTIVES.windows()}
    assert {name: c.good for name, c in counts.items()} == good
    assert counts["1h"] == WindowCounts(5, 3) and counts["28d"] == WindowCounts(13, 7)


def test_settled_minutes_are_read_once_and_new_requests_still_count(store: HistoryStore):
    """Minutes settle as the clock moves: the windows stay exact across it."""
    clock = [NOW]
    service = SloService(OBJECTIVES, store, clock=lambda: clock[0])
    fill(store, [5000.0, 10.0])
    assert service.window_counts()["6h"] == WindowCounts(2, 1)
    clock[0] = NOW + 2 * SETTLE_SECONDS  # both have settled into minutes since
    store.append_request(record(ts=clock[0] - 1, trace_id="new").to_row())
    counts = service.window_counts()
    assert counts["6h"] == WindowCounts(3, 2) and counts["5m"] == WindowCounts(1, 1)


def test_random_histories_match_a_plain_count(store: HistoryStore):
    rng = random.Random(24)
    ages = sorted(rng.uniform(0, 4 * 86_400) for _ in range(300))
    fill(store, ages, good_every=3)
    counts = SloService(OBJECTIVES, store, clock=lambda: NOW).window_counts()
    for name, seconds in OBJECTIVES.windows():
        assert counts[name].requests == sum(1 for age in ages if age <= seconds), name
        assert counts[name].good == sum(1 for index, age in enumerate(ages) if age <= seconds and index % 3 == 0)


def test_the_sink_counts_finished_user_requests_once_as_good_or_bad(store: HistoryStore):
    service = SloService(OBJECTIVES, store, clock=lambda: NOW)
    for each in (record(), record(stage="scored"), record(ttft=9.0), record(synthetic=True),
                 record("rejected", error="invalid"), record("rejected", error=f"{BUSY_PREFIX}full"),
                 record("error", error="boom")):
        service.record(each)
    assert service.counters() == (1, 3)


def test_the_sample_feeds_zero_burn_without_requests(store: HistoryStore):
    sample = SloService(OBJECTIVES, store, clock=lambda: NOW).sample(NOW)
    assert sample["slo_burn_rate_5m"] == 0.0 and sample["slo_attainment_ratio"] is None


# ---- the Analysis page's SLO charts ------------------------------------------------------------------------------
def test_the_analysis_charts_buckets_are_whole_minutes_and_their_figures_the_definitions():
    from healthmon.ui.shaping.analysis import burn_rate_limits, slo_bucket_seconds, slo_frame, slo_window_figures

    assert slo_bucket_seconds(NOW - 3600, NOW) == 60.0 and slo_bucket_seconds(NOW - 86_400, NOW) == 360.0
    buckets = [(NOW - 120, 10, 10), (NOW - 60, 10, 5)]
    frame = slo_frame(buckets, 0.9, 60.0)
    assert frame["ts"].tolist() == [NOW - 90, NOW - 30]
    assert frame["attainment_percent"].tolist() == [100.0, 50.0]
    assert frame["cumulative_attainment_percent"].tolist() == [100.0, 75.0]
    assert frame["burn_rate"].round(9).tolist() == [0.0, 5.0]
    assert slo_frame([], 0.9, 60.0).empty
    figures = slo_window_figures(buckets, 0.9)
    assert figures["requests"] == 20 and figures["attainment"] == 0.75 and figures["burn_rate"] == pytest.approx(2.5)
    assert [(value, level) for value, level, _ in burn_rate_limits(lambda text: text)] == [
        (1.0, "warning"), (6.0, "critical"), (14.4, "critical")]
