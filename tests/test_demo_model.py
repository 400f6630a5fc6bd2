"""The built-in demo model: a standard checkpoint that loads through the plain transformers path, built once."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from healthmon.runtime.demo import MARKER_FILE, build_demo_model, is_demo_checkpoint


@pytest.fixture(scope="module")
def tokenizer(demo_model_dir: Path):
    return AutoTokenizer.from_pretrained(demo_model_dir)


@pytest.fixture(scope="module")
def model(demo_model_dir: Path):
    return AutoModelForCausalLM.from_pretrained(demo_model_dir)


def test_checkpoint_is_a_standard_directory_with_marker(demo_model_dir: Path) -> None:
    for name in ("config.json", "model.safetensors", "generation_config.json", "tokenizer.json", MARKER_FILE):
        assert (demo_model_dir / name).is_file(), name
    marker = json.loads((demo_model_dir / MARKER_FILE).read_text())
    assert marker["demo"] is True and marker["builder_version"] == 1 and len(marker["corpus_sha256"]) == 64
    assert not list(demo_model_dir.parent.glob(".demo-model.*")), "staging directories must not be left behind"


@pytest.mark.parametrize("text", ["内存保存着程序此刻正在使用的数据。", "emoji 🙂🚀 ok", "Mixed 中文 and  spaces\n"])
def test_byte_level_tokenizer_round_trips_any_text(tokenizer, text: str) -> None:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text


def test_loaded_tokenizer_encodes_like_the_trained_one(demo_model_dir: Path, tokenizer) -> None:
    from tokenizers import Tokenizer

    trained = Tokenizer.from_file(str(demo_model_dir / "tokenizer.json"))
    text = "The monitor watches memory. 内存用完以后，系统开始使用交换空间。🙂"
    assert tokenizer(text, add_special_tokens=False)["input_ids"] == trained.encode(text, add_special_tokens=False).ids


def test_chat_template_and_stop_tokens(tokenizer, model) -> None:
    rendered = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True,
                                             tokenize=False)
    assert rendered == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    im_end, eos = tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")
    assert tokenizer.eos_token == "<|endoftext|>" and tokenizer.pad_token_id == eos
    assert set(model.generation_config.eos_token_id) == {im_end, eos}


def test_greedy_generation_returns_text(tokenizer, model) -> None:
    inputs = tokenizer("The monitor", return_tensors="pt")
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=20, do_sample=False)
    new_tokens = output[0, inputs["input_ids"].shape[1] :]
    assert len(new_tokens) > 0
    assert tokenizer.decode(new_tokens, skip_special_tokens=True).strip()


def test_chat_answer_stops_at_im_end(tokenizer, model) -> None:
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is latency?"}],
        add_generation_prompt=True, return_dict=True, return_tensors="pt",
    )
    with torch.no_grad():
        output = model.generate(**prompt, max_new_tokens=80, do_sample=False)
    new_tokens = output[0, prompt["input_ids"].shape[1] :].tolist()
    assert tokenizer.convert_tokens_to_ids("<|im_end|>") in new_tokens
    assert tokenizer.decode(new_tokens, skip_special_tokens=True).strip()


def test_fast_path_does_not_rebuild(demo_model_dir: Path) -> None:
    marker = demo_model_dir / MARKER_FILE
    before = marker.stat().st_mtime_ns
    messages: list[str] = []
    built = build_demo_model(demo_model_dir, progress=lambda message, fraction: messages.append(message))
    assert built == demo_model_dir
    assert marker.stat().st_mtime_ns == before
    assert messages == ["demo model ready"]


def test_same_seed_builds_identical_weights_and_vocab(tmp_path: Path) -> None:
    first = build_demo_model(tmp_path / "a", seed=3, train_steps=5)
    second = build_demo_model(tmp_path / "b", seed=3, train_steps=5)
    weights_a, weights_b = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    assert weights_a.keys() == weights_b.keys()
    assert all(torch.equal(weights_a[name], weights_b[name]) for name in weights_a)
    vocab_a, vocab_b = (json.loads((path / "tokenizer.json").read_text())["model"] for path in (first, second))
    assert vocab_a == vocab_b


def test_changed_settings_rebuild_in_place(tmp_path: Path) -> None:
    target = build_demo_model(tmp_path / "m", seed=1, train_steps=2)
    rebuilt = build_demo_model(target, seed=2, train_steps=2)
    assert rebuilt == target and json.loads((target / MARKER_FILE).read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "m.lock"]


def _build_in_child(target: str) -> None:
    build_demo_model(Path(target), train_steps=2)


def test_concurrent_builds_wait_for_each_other(tmp_path: Path) -> None:
    target = tmp_path / "shared"
    child = multiprocessing.get_context("spawn").Process(target=_build_in_child, args=(str(target),))
    child.start()
    build_demo_model(target, train_steps=2)
    child.join(120)
    assert child.exitcode == 0
    assert is_demo_checkpoint(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared", "shared.lock"]


def test_is_demo_checkpoint(demo_model_dir: Path, tmp_path: Path) -> None:
    assert is_demo_checkpoint(demo_model_dir)
    assert is_demo_checkpoint(str(demo_model_dir))
    assert not is_demo_checkpoint(tmp_path)
    (tmp_path / MARKER_FILE).write_text("[1, 2]")
    assert not is_demo_checkpoint(tmp_path)
