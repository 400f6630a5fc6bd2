"""The one generate use case: every caller's request ends in exactly one record, refusals included."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from healthmon.generate_service import GenerateLimits, GenerateRefused, GenerateService
from healthmon.ratelimit import RateLimiter
from healthmon.runtime.engine import ModelRuntime
from healthmon.runtime.sources import ModelSpec
from healthmon.tracing import Trace


@pytest.fixture
def runtime(demo_model_dir):
    records: list = []
    runtime = ModelRuntime(ModelSpec("demo", ""), demo_dir=demo_model_dir, models_dir=demo_model_dir,
                           sink=SimpleNamespace(record=records.append), resolver=lambda spec, **_: demo_model_dir)
    runtime.records = records
    yield runtime
    runtime.close()


def service_for(runtime, per_minute: float = 0, burst: int = 1) -> GenerateService:
    return GenerateService(runtime, SimpleNamespace(record=runtime.records.append), RateLimiter(per_minute, burst),
                           GenerateLimits(max_new_tokens_cap=32, max_prompt_chars=100))


def test_an_admitted_request_is_recorded_once_by_the_target_with_its_validate_span(runtime):
    runtime.load()
    service = service_for(runtime)
    record = service.start({"prompt": "Hello", "max_new_tokens": 3}, client="a", source="ui").result(30)
    assert runtime.records == [record] and record.status == "ok" and record.source == "ui"
    assert [span["name"] for span in record.spans][:2] == ["validate", "queue"]


@pytest.mark.parametrize("body, status, reason", [
    ({"prompt": ""}, 422, "invalid"), ([1, 2], 400, "invalid"), ({"prompt": "x" * 101}, 413, "invalid"),
])
def test_an_invalid_body_is_refused_and_recorded_without_a_prompt(runtime, body, status, reason):
    runtime.load()
    with pytest.raises(GenerateRefused) as refused:
        service_for(runtime).start(body, client="a", source="api")
    assert (refused.value.status_code, refused.value.reason) == (status, reason)
    [record] = runtime.records
    assert record.status == "rejected" and record.prompt is None and record.error == refused.value.message


def test_a_model_that_is_not_loaded_is_a_503_with_retry_after_and_the_prompt_is_kept(runtime):
    with pytest.raises(GenerateRefused) as refused:
        service_for(runtime).start({"prompt": "Hello"}, client="a", source="api")
    assert refused.value.status_code == 503 and refused.value.headers == {"Retry-After": "5"}
    [record] = runtime.records
    assert record.status == "rejected" and record.prompt == "Hello" and "not loaded" in record.error


def test_the_rate_limit_is_per_client_and_each_refusal_is_recorded(runtime):
    runtime.load()
    service = service_for(runtime, per_minute=1, burst=1)
    service.start({"prompt": "Hi", "max_new_tokens": 2}, client="a", source="api").result(30)
    with pytest.raises(GenerateRefused) as refused:
        service.start({"prompt": "Hi", "max_new_tokens": 2}, client="a", source="ui")
    assert refused.value.status_code == 429 and refused.value.reason == "rate_limited"
    assert int(refused.value.headers["Retry-After"]) >= 1
    service.start({"prompt": "Hi", "max_new_tokens": 2}, client="b", source="api").result(30)  # another bucket
    assert [(r.source, r.status) for r in runtime.records] == [("api", "ok"), ("ui", "rejected"), ("api", "ok")]


def test_refuse_records_a_request_stopped_before_its_body_was_read(runtime):
    record = service_for(runtime).refuse(Trace(), "api", "missing or wrong API token")
    assert runtime.records == [record] and record.status == "rejected" and record.finish_reason == "error"
    assert record.params is None and record.latency_seconds >= 0
