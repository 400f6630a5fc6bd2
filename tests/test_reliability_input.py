"""Bad input over HTTP: whatever the body, generate answers a 2xx or a 4xx with a JSON error, never a 5xx.

The property test runs the real routes in-process (TestClient on `build_routes`, a real Monitor and the
demo model, `max_new_tokens_cap=8` so valid bodies cost milliseconds); the nastiest cases then go to the
real app (`streamlit run`) over a socket, which is followed by a request that must still succeed.
"""

from __future__ import annotations

import json
import shutil

import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from healthmon.api import build_routes
from healthmon.config import load_settings
from healthmon.monitor import Monitor
from healthmon.params import KNOWN_FIELDS

GENERATE = "/api/model/generate"
JSON_HEADERS = {"Content-Type": "application/json"}
NASTY_STRINGS = ["", " ", "\t\n ", "\x00", "a\x00b", "\x1b[31mred\x1b[0m", "\x7f", "\ud800", "a\udfffb", "\ufeff",
                 "<script>alert(1)</script>", "' OR 1=1 --", "😀" * 50, "第一行\n第二行", "\u202eevil", "5", "true",
                 "null", "NaN", "1e400", "x" * 5000]
NASTY_NUMBERS = [0, -1, 1, 2, 8, 9, 2**31, 2**63, 10**30, -(10**30), 0.5, 1.0, 1e-300, 1e308, -0.0, 2.000001, 1e-7]


# ---- the property, in-process ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api(tmp_path_factory, demo_model_dir):
    """One Monitor with the demo model loaded, served by the real routes; no rate limit, no collection loop."""
    data = tmp_path_factory.mktemp("reliability-input") / "data"
    shutil.copytree(demo_model_dir, data / "demo-model")
    monitor = Monitor(load_settings(env={}, model="demo", data_dir=data, probe_interval=0.0, rate_limit_per_minute=0.0,
                                    max_new_tokens_cap=8, max_prompt_chars=4000))
    assert monitor.target.load(), monitor.target.error
    client = TestClient(Starlette(routes=build_routes(lambda: monitor)), raise_server_exceptions=False)
    yield monitor, client
    monitor.close()


json_scalars = (st.none() | st.booleans() | st.integers() | st.sampled_from(NASTY_NUMBERS)
                | st.floats(allow_nan=True, allow_infinity=True)
                | st.text(st.characters(exclude_categories=()), max_size=40) | st.sampled_from(NASTY_STRINGS))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=10)
# Bodies shaped like a generate request, with any value in any field: this is what reaches the validators.
field_values = {name: json_values for name in KNOWN_FIELDS} | {
    "prompt": (st.sampled_from(NASTY_STRINGS) | st.text(st.characters(exclude_categories=()), max_size=200)
               | json_values),
    "max_new_tokens": st.integers(-5, 20) | json_values,
    "temperature": st.floats(-1, 3) | json_values,
}
generate_like = st.fixed_dictionaries({}, optional=field_values | {"colour": json_values, "": json_values})
# Valid bodies, and valid bodies with one field made odd, so the model itself runs on edge values too.
printable_prompt = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=120)
valid_body = st.fixed_dictionaries({"prompt": printable_prompt}, optional={
    "max_new_tokens": st.integers(1, 8), "max_length": st.integers(1, 300), "temperature": st.floats(0, 2),
    "top_p": st.floats(0, 1, exclude_min=True), "seed": st.integers(0, 2**32 - 1)})
near_valid = st.builds(lambda body, name, value: body | {name: value}, valid_body,
                       st.sampled_from(KNOWN_FIELDS + ("colour",)), json_scalars)


def encode(value, ensure_ascii: bool) -> bytes:
    """json.dumps writes NaN/Infinity literals and, with ensure_ascii, lone surrogates as \\ud800 escapes;
    without it they become CESU-8 bytes, which are not valid UTF-8."""
    return json.dumps(value, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")


def mutate(data: bytes, cut: int, insert: bytes) -> bytes:
    position = cut % (len(data) + 1)
    return data[:position] + insert + data[position:]


bodies = st.one_of(
    st.builds(encode, valid_body, st.booleans()),
    st.builds(encode, near_valid, st.booleans()),
    st.builds(encode, generate_like, st.booleans()),
    st.builds(encode, json_values, st.booleans()),
    st.builds(mutate, st.builds(encode, generate_like, st.just(True)), st.integers(0, 400),
              st.sampled_from([b"", b"\xff", b"\x00", b"{", b"}", b",", b'"', b"\\u", b"NaN", b"-Infinity", b"1e999"])),
    st.binary(max_size=300),
)


def assert_clean_answer(response) -> dict:
    """2xx with the generate fields, or 4xx with a non-empty JSON error; never 5xx, never HTML."""
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    if response.status_code < 300:
        assert isinstance(body["generated_text"], str) and body["trace_id"] and body["output_tokens"] <= 8
    else:
        assert 400 <= response.status_code < 500
        assert isinstance(body["error"], str) and body["error"].strip()
    return body


def accounted(monitor: Monitor) -> int:
    stats = monitor.request_stats.snapshot(monitor.clock())
    assert stats["total_requests"] == (stats["succeeded_requests"] + stats["failed_requests"]
                                       + stats["rejected_requests"])
    return stats["total_requests"]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=bodies)
def test_any_generate_body_gets_a_2xx_or_a_json_4xx(api, body):
    monitor, client = api
    before = accounted(monitor)
    assert_clean_answer(client.post(GENERATE, content=body, headers=JSON_HEADERS))
    assert accounted(monitor) == before + 1  # every request that reaches generate is counted, once


@pytest.mark.parametrize("body, status, fragment", [
    (b'{"prompt": "a\\ud800b"}', 422, "surrogate"),
    (b'{"prompt": "\\udfff"}', 422, "surrogate"),
    (b'{"prompt": "a\\u0000b"}', 422, "control characters"),
    (b'{"prompt": "\\u001b[2J"}', 422, "control characters"),
    (b'{"prompt": "\xed\xa0\x80"}', 400, "not valid JSON"),  # a surrogate encoded as UTF-8 bytes
    (b'{"prompt": "\xff\xfe"}', 400, "not valid JSON"),
    (b'\xef\xbb\xbf{"prompt": "hi"}', 400, "not valid JSON"),  # a UTF-8 byte order mark
    (b'{"prompt": "hi", "temperature": NaN}', 400, "NaN"),
    (b'{"prompt": "hi", "top_p": Infinity}', 400, "Infinity"),
    (b'{"prompt": "hi", "seed": -Infinity}', 400, "Infinity"),
    (b'{"prompt": "hi", "temperature": 1e400}', 422, "finite"),  # json reads 1e400 as inf, not via NaN hooks
    (b'{"prompt": "hi", "max_new_tokens": 1e400}', 422, "integer"),
    (b'{"prompt": "hi", "seed": ' + b"9" * 5000 + b"}", 400, "not valid JSON"),  # beyond int digit limit
    (b'{"prompt": "hi", "max_new_tokens": 99999999999999999999999}', 422, "between"),
    (b'{"prompt": "hi", "max_new_tokens": "5"}', 422, "integer"),
    (b'{"prompt": "hi", "temperature": "0.5"}', 422, "number"),
    (b'{"prompt": "hi", "temperature": true}', 422, "number"),
    (b'{"prompt": "hi", "max_new_tokens": false}', 422, "integer"),
    (b'{"prompt": "hi", "max_new_tokens": 4.0}', 422, "integer"),
    (b'{"prompt": ["hi"]}', 422, "string"),
    (b'{"prompt": {"text": "hi"}}', 422, "string"),
    (b'{"prompt": 42}', 422, "string"),
    (b'{"prompt": null}', 422, "string"),
    (b'{"prompt": "   \\n\\t  "}', 422, "empty"),
    (b'{}', 422, "required"),
    (b'[]', 400, "JSON object"),
    (b'"hi"', 400, "JSON object"),
    (b'null', 400, "JSON object"),
    (b'{"prompt": "hi", "stream": true}', 422, "unknown field"),
    (b'{"prompt": "hi", "prompt": 5}', 422, "string"),  # duplicate keys: the last one wins, and is checked
    (b'{"prompt": "hi", "top_p": 0}', 422, "top_p"),
    (b'{"prompt": "hi", "temperature": -0.5}', 422, "temperature"),
    (b'{"prompt": "hi", "seed": -1}', 422, "seed"),
    (b'{"prompt": "hi", "max_length": 1}', 422, "no room"),
])
def test_nasty_bodies_get_the_right_4xx(api, body, status, fragment):
    monitor, client = api
    before = accounted(monitor)
    response = client.post(GENERATE, content=body, headers=JSON_HEADERS)
    assert response.status_code == status, response.text
    assert fragment in assert_clean_answer(response)["error"]
    assert accounted(monitor) == before + 1


def test_a_prompt_beyond_the_context_is_a_4xx_that_says_so(api):
    monitor, client = api
    context = monitor.target.info().facts.context_tokens
    tokenizer = monitor.target._loaded.tokenizer
    prompt = " ".join(f"w{i}x" for i in range(640))
    assert len(prompt) <= monitor.settings.max_prompt_chars and len(tokenizer(prompt)["input_ids"]) > context
    response = client.post(GENERATE, json={"prompt": prompt, "max_new_tokens": 1})
    assert response.status_code == 422 and "context" in response.json()["error"]
    too_long = client.post(GENERATE, json={"prompt": "x" * (monitor.settings.max_prompt_chars + 1)})
    assert too_long.status_code == 413 and "limit" in too_long.json()["error"]


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_wrong_methods_are_405_with_allow(api, method):
    _, client = api
    response = client.request(method, GENERATE)
    assert response.status_code == 405 and response.headers["allow"] == "POST" and response.json()["error"]


def test_oversized_bodies_are_413_declared_or_streamed(api):
    monitor, client = api
    before = accounted(monitor)
    declared = client.post(GENERATE, content=b"{" + b" " * 1_100_000 + b"}", headers=JSON_HEADERS)
    streamed = client.post(GENERATE, content=iter([b" " * 65_536] * 20), headers=JSON_HEADERS)  # chunked
    assert declared.status_code == 413 and streamed.status_code == 413, (declared.text, streamed.text)
    assert "limit" in declared.json()["error"] and "limit" in streamed.json()["error"]
    assert accounted(monitor) == before + 2
    assert client.post(GENERATE, json={"prompt": "still here?", "max_new_tokens": 2}).status_code == 200


# ---- two 500s these tests found (fixed in 2ea2ab8), kept as regression tests ------------------------------

@pytest.mark.parametrize("body", [b"[" * 2_000, b"[" * 100_000, b'{"prompt": ' + b"[" * 5_000 + b"]" * 5_000 + b"}"])
def test_deeply_nested_json_is_a_counted_400(api, body):
    """json.loads raises RecursionError past about 1,000 levels: it was a 500, and the request went uncounted."""
    monitor, client = api
    before = accounted(monitor)
    response = client.post(GENERATE, content=body, headers=JSON_HEADERS)
    assert response.status_code == 400 and "deeply" in assert_clean_answer(response)["error"], response.text
    assert accounted(monitor) == before + 1


@pytest.mark.parametrize("temperature", [5e-324, 1e-310, 1e-40, 9.99e-6])
def test_a_tiny_positive_temperature_decodes_greedily(api, temperature):
    """Logits divided by a subnormal temperature overflowed to inf and sampling raised: it was a 500."""
    _, client = api
    body = {"prompt": "What does a health monitor watch?", "max_new_tokens": 4}
    tiny = client.post(GENERATE, json=body | {"temperature": temperature})
    greedy = client.post(GENERATE, json=body | {"temperature": 0})
    assert tiny.status_code == 200, tiny.text
    assert tiny.json()["generated_text"] == greedy.json()["generated_text"]


# ---- the nastiest cases against the real app --------------------------------------------------------------

@pytest.fixture(scope="module")
def app(tmp_path_factory, demo_model_dir):
    from tests.conftest import AppServer

    data = tmp_path_factory.mktemp("reliability-input-app") / "data"
    shutil.copytree(demo_model_dir, data / "demo-model")
    server = AppServer(data, data.parent / "app.log", HEALTHMON_RATE_LIMIT_PER_MINUTE="0").start()
    yield server
    server.stop()


REAL_APP_CASES = [
    (b"[" * 100_000, 400),
    (b'{"prompt": "a\\ud800b"}', 422),
    (b'{"prompt": "a\\u0000b"}', 422),
    (b'{"prompt": "\xff\xfe"}', 400),
    (b'{"prompt": "hi", "temperature": NaN}', 400),
    (b'{"prompt": "hi", "temperature": Infinity}', 400),
    (b'{"prompt": "hi", "temperature": 1e400}', 422),
    (b'{"prompt": "hi", "seed": ' + b"9" * 5000 + b"}", 400),
    (b'{"prompt": "hi", "max_new_tokens": "5"}', 422),
    (b'{"prompt": "hi", "top_p": true}', 422),
    (b'{"prompt": ["hi"]}', 422),
    (b'{"prompt": {"text": "hi"}}', 422),
    (b'{"prompt": "hi", "stream": true}', 422),
    (b'{"prompt": "' + b"tok " * 7000 + b'", "max_new_tokens": 1}', 422),  # beyond the demo model's context
    (b'{"prompt": "' + b"x" * 40_000 + b'"}', 413),  # beyond HEALTHMON_MAX_PROMPT_CHARS
    (b"{" + b" " * 1_100_000 + b"}", 413),  # beyond the 1 MiB body limit
]


@pytest.mark.e2e
def test_the_real_app_refuses_the_nastiest_bodies_and_keeps_serving(app):
    before = app.get("/api/health/status").json()["request_stats"]["total_requests"]
    for body, status in REAL_APP_CASES:
        response = requests.post(app.url + GENERATE, data=body, headers=JSON_HEADERS, timeout=60)
        assert response.status_code == status, (body[:80], response.text[:300])
        assert response.json()["error"]
    streamed = requests.post(app.url + GENERATE, data=iter([b" " * 65_536] * 20), headers=JSON_HEADERS, timeout=60)
    assert streamed.status_code == 413, streamed.text  # chunked, no Content-Length: counted as it arrives
    for method in ("GET", "PUT", "DELETE"):
        wrong = requests.request(method, app.url + GENERATE, timeout=30)
        assert wrong.status_code == 405 and wrong.json()["error"]  # never Streamlit's HTML page with 200
    ok = app.post(GENERATE, json={"prompt": "Are you still there?", "max_new_tokens": 4})
    assert ok.status_code == 200, ok.text
    stats = app.get("/api/health/status").json()["request_stats"]
    assert stats["total_requests"] - before == len(REAL_APP_CASES) + 2  # 405s never reach the handler
    assert stats["total_requests"] == (stats["succeeded_requests"] + stats["failed_requests"]
                                       + stats["rejected_requests"])
    assert "Traceback" not in app.log()
