"""Round three of the red team (issue 23 items 7 and 8), each against the real app over HTTP with a token set:
refusals quote a client's value only briefly, a streamed prompt past the context is the same 400 as an unstreamed
one, prompt and answer text needs the token, and /api/model/load tells no one what exists on the disk."""

from __future__ import annotations

import json
import os
import struct

import pytest
import requests

from healthmon.config import ConfigError, load_settings

pytestmark = pytest.mark.e2e
TOKEN = "r3d-team-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HUGE = "f" * 500_000  # a 500 KB field name once gave a 1 MB answer and a 500 KB stored error


@pytest.fixture(scope="module")
def app(tmp_path_factory, demo_model_dir):
    import shutil

    from tests.appserver import AppServer

    data = tmp_path_factory.mktemp("round3") / "data"
    data.mkdir()
    shutil.copytree(demo_model_dir, data / "demo-model")
    allowed = data.parent / "allowed-models"
    allowed.mkdir()
    server = AppServer(data, data.parent / "app.log", HEALTHMON_API_TOKEN=TOKEN,
                       HEALTHMON_MODEL_DIRS=str(allowed)).start()
    server.allowed = allowed
    yield server
    server.stop()


def _chat(app, body: dict, **kwargs) -> requests.Response:
    return requests.post(f"{app.url}/v1/chat/completions", json=body, headers=AUTH, timeout=60, **kwargs)


def test_a_refusal_quotes_a_huge_value_briefly_in_the_answer_and_the_history(app):
    message = [{"role": "user", "content": "hi"}]
    refusals = [
        _chat(app, {"model": "m", "messages": message, HUGE: 1}),
        _chat(app, {"model": "m", "messages": message, "stream": True, "stream_options": {HUGE: True}}),
        _chat(app, {"model": "m", "messages": [{"role": "user", "content": "hi", HUGE: "x"}]}),
        _chat(app, {"model": "m", "messages": [{"role": HUGE, "content": "hi"}]}),
        _chat(app, {"model": "m", "messages": message, "max_tokens": 10 ** 4000}),
        app.post("/api/model/generate", json={"prompt": "hi", HUGE: 1, HUGE + "2": 2}, headers=AUTH),
        app.post("/api/model/generate", json={"messages": [{"role": HUGE, "content": "hi"}]}, headers=AUTH),
        app.get("/api/traces?limit=" + "9" * 20_000),
        app.get("/api/" + "x" * 20_000),
    ]
    for answer in refusals:
        assert 400 <= answer.status_code < 500, answer.text[:200]
        assert len(answer.content) < 2_000, (answer.status_code, answer.text[:200])
        assert "…(+" in answer.text  # it says how much it left out
    stored = app.get("/api/traces?limit=20").json()["traces"]
    errors = [row["error"] for row in stored if row["status"] == "rejected"]
    assert len(errors) >= 7 and max(len(error) for error in errors) < 1_000


def test_a_streamed_prompt_past_the_context_is_the_same_400_before_any_event(app):
    """The demo model's context is 1,024 tokens; this prompt is far past it but inside the character limit."""
    prompt = " ".join(f"w{i}" for i in range(3_000))
    body = {"model": "m", "messages": [{"role": "user", "content": prompt}], "max_tokens": 8}
    plain = _chat(app, body)
    streamed = _chat(app, body | {"stream": True}, stream=True)
    assert plain.status_code == 400 and streamed.status_code == 400
    assert streamed.headers["content-type"].startswith("application/json")  # no event stream was started
    assert streamed.json() == plain.json() and "context" in plain.json()["error"]["message"]
    fine = _chat(app, {"model": "m", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 4,
                       "stream": True}, stream=True)
    events = [line for line in fine.iter_lines() if line.startswith(b"data: ")]
    assert fine.status_code == 200 and events[-1] == b"data: [DONE]"
    assert json.loads(events[0][6:])["choices"][0]["delta"]["role"] == "assistant"


def test_prompt_and_answer_text_needs_the_token_and_aggregates_stay_open(app):
    answer = app.post("/api/model/generate", json={"prompt": "a private question", "max_new_tokens": 4},
                      headers=AUTH)
    trace_id = answer.json()["trace_id"]
    assert app.get(f"/api/traces/{trace_id}").status_code == 401
    wrong = app.get(f"/api/traces/{trace_id}", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "private" not in wrong.text
    detail = app.get(f"/api/traces/{trace_id}", headers=AUTH)
    assert detail.status_code == 200 and detail.json()["prompt"] == "a private question"
    for path in ("/api/traces", "/api/health/status", "/api/health/metrics?window=15m", "/api/analysis/requests",
                 "/api/analysis/generation", "/api/alerts", "/api/model/info", "/metrics"):
        open_answer = app.get(path)
        assert open_answer.status_code == 200, path
        assert "a private question" not in open_answer.text, path


def test_model_load_gives_one_answer_for_any_path_it_may_not_load(app, tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    file = tmp_path / "a-file.bin"
    file.write_bytes(b"x")
    answers = [app.post("/api/model/load", json={"model": str(path)}, headers=AUTH)
               for path in (tmp_path / "missing", folder, file, "/etc/passwd", "/", app.allowed / "absent",
                            app.allowed / ".." / "..")]
    assert {(a.status_code, a.text) for a in answers} == {(answers[0].status_code, answers[0].text)}
    assert answers[0].status_code == 403 and app.model_status() == "loaded"


def test_a_huge_file_that_only_starts_with_gguf_fails_at_once_without_being_hashed(app):
    """20 GB (sparse) that starts with the GGUF magic: refused by its header, not after a minute of hashing."""
    fake = app.allowed / "huge.gguf"
    with open(fake, "wb") as handle:
        handle.write(b"GGUF" + struct.pack("<IQQ", 3, 0xFFFF_FFFF_FFFF, 7))
        handle.truncate(20 * 2**30)
    try:
        accepted = app.post("/api/model/load", json={"model": str(fake)}, headers=AUTH)
        assert accepted.status_code == 202, accepted.text
        app.wait_until(lambda: app.model_status() == "error", "the fake GGUF to be refused", 30)
        info = app.get("/api/model/info").json()["model_info"]
        assert "not a GGUF file this can load" in info["error"] and "tensors" in info["error"]
    finally:
        os.remove(fake)
        app.post("/api/model/load", json={"model": "demo"}, headers=AUTH)
        app.wait_until(lambda: app.model_status() == "loaded", "the demo model again", 60)


@pytest.mark.parametrize("token", ["pässwort", "with space", "tab\there", "ключ"])
def test_a_token_that_could_never_match_is_refused_at_start(token):
    with pytest.raises(ConfigError, match="HEALTHMON_API_TOKEN: use printable ASCII") as caught:
        load_settings(env={"HEALTHMON_API_TOKEN": token})
    assert token not in str(caught.value)  # a secret is never quoted
