"""The built-in demo model: a tiny Qwen2 checkpoint trained in seconds on a shipped corpus, so healthmon runs offline.

It is built on first use (20-50 s on two idle CPU cores, longer when they are busy), saved as an ordinary Hugging Face
checkpoint and reused afterwards. It only imitates the look of its corpus: it exists to exercise the monitor, not to
answer.

>>> path = build_demo_model(Path("healthmon-data/demo-model"))  # doctest: +SKIP
>>> AutoModelForCausalLM.from_pretrained(path)                   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

BUILDER_VERSION = 1
MARKER_FILE = "healthmon_demo.json"
CORPUS_PATH = Path(__file__).with_name("demo_corpus.txt")
DEFAULT_TRAIN_STEPS = 250  # ~20 s on two idle cores; the loss has flattened by then
VOCAB_SIZE = 3000
CONTEXT_TOKENS = 1024
EOS, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
# Qwen's chat format without its default system prompt: every message wrapped in role markers.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
# Questions the chat examples ask, chosen by a keyword of the answering paragraph (first match wins).
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("memory", "Why does memory matter?"), ("CPU", "What does a busy CPU mean?"),
    ("processor", "How does a processor work?"), ("latency", "What is latency?"),
    ("token", "How does a language model write text?"), ("model", "Tell me about language models."),
    ("alert", "What makes a good alert?"), ("monitor", "What is monitoring for?"),
    ("soup", "How do I make soup?"), ("rain", "How is the weather?"), ("server", "What is a server?"),
    ("内存", "内存为什么重要？"), ("处理器", "处理器是怎么工作的？"), ("延迟", "什么是延迟？"),
    ("模型", "介绍一下语言模型。"), ("告警", "怎样才算好的告警？"), ("监控", "监控有什么用？"),
    ("汤", "怎么做汤？"), ("雨", "今天天气怎么样？"), ("服务器", "什么是服务器？"),
)
FALLBACK_QUESTIONS = ("Tell me something.", "请说点什么。")
SEQUENCE_TOKENS = 128
BATCH_SIZE = 16
BUILD_THREADS = 2  # fixed, so the float sums (and so the weights) do not depend on the machine's core count

ProgressFn = Callable[[str, float], None]


def is_demo_checkpoint(path: Path | str) -> bool:
    """True for a directory this module built, so the UI can label the model as the demo."""
    return _read_marker(Path(path)).get("demo") is True


def build_demo_model(
    target_dir: Path, *, seed: int = 0, train_steps: int = DEFAULT_TRAIN_STEPS, progress: ProgressFn | None = None
) -> Path:
    """Build the demo checkpoint into target_dir, or return it at once when an identical build is already there."""
    if train_steps < 1:
        raise ValueError(f"train_steps must be at least 1, got {train_steps}")
    target_dir = Path(target_dir).expanduser()
    corpus = CORPUS_PATH.read_text(encoding="utf-8")
    marker = {
        "demo": True,
        "seed": seed,
        "train_steps": train_steps,
        "corpus_sha256": hashlib.sha256(corpus.encode("utf-8")).hexdigest(),
        "builder_version": BUILDER_VERSION,
    }
    report = progress or (lambda message, fraction: None)
    if _read_marker(target_dir) == marker:
        report("demo model ready", 1.0)
        return target_dir
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(target_dir.with_name(target_dir.name + ".lock")):
        if _read_marker(target_dir) == marker:  # another process built it while we waited
            report("demo model ready", 1.0)
            return target_dir
        staging = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.building-", dir=target_dir.parent))
        try:
            _build(staging, corpus, seed=seed, train_steps=train_steps, report=report)
            (staging / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
            for path in [staging, *staging.iterdir()]:  # mkdtemp and the weight writer make them private
                path.chmod(0o755 if path.is_dir() else 0o644)
            _replace_dir(staging, target_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    report("demo model ready", 1.0)
    return target_dir


def _read_marker(path: Path) -> dict:
    try:
        marker = json.loads((path / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return marker if isinstance(marker, dict) else {}


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an flock on lock_path, so a second process building the same directory waits instead of colliding."""
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _replace_dir(staging: Path, target_dir: Path) -> None:
    """Swap the finished build in with renames: readers see the old checkpoint, none, or the new one, never half."""
    if target_dir.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.old-", dir=target_dir.parent))
        os.replace(target_dir, retired / "checkpoint")
        os.replace(staging, target_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, target_dir)


def _build(out_dir: Path, corpus: str, *, seed: int, train_steps: int, report: ProgressFn) -> None:
    """Train tokenizer and model into out_dir, leaving the caller's thread count and random state as they were."""
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(BUILD_THREADS)
    try:
        report("training the demo tokenizer", 0.0)
        paragraphs = [p.strip() for p in corpus.split("\n\n") if p.strip()]
        chats = [_chat_text(question, answer) for question, answer in _chat_examples(paragraphs)]
        tokenizer = _train_tokenizer(paragraphs + chats)
        stream = _token_stream(tokenizer, paragraphs, chats)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = Qwen2ForCausalLM(_model_config(tokenizer))
        _train(model, stream, seed=seed, train_steps=train_steps, report=report)
        report("saving the demo model", 0.98)
        model.generation_config = GenerationConfig(
            eos_token_id=[tokenizer.convert_tokens_to_ids(IM_END), tokenizer.eos_token_id],
            pad_token_id=tokenizer.pad_token_id,
        )
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)
    finally:
        torch.set_num_threads(previous_threads)


def _train_tokenizer(texts: list[str]) -> PreTrainedTokenizerFast:
    """Byte-level BPE with Qwen2's exact pipeline, which AutoTokenizer rebuilds on load for a qwen2 checkpoint."""
    backend = Tokenizer(models.BPE())
    backend.normalizer = normalizers.NFC()
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=[EOS, IM_START, IM_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token=EOS,
        pad_token=EOS,
        extra_special_tokens=[IM_START, IM_END],
        model_max_length=CONTEXT_TOKENS,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _chat_examples(paragraphs: list[str]) -> list[tuple[str, str]]:
    """One (question, answer) pair per paragraph: a question about its topic, answered by its first two sentences."""
    examples = []
    for index, paragraph in enumerate(paragraphs):
        sentences = re.split(r"(?<=[.!?。！？])\s*", paragraph)
        answer = ("" if "。" in paragraph else " ").join(s for s in sentences[:2] if s)
        question = next((q for key, q in QUESTIONS if key in answer), None)
        examples.append((question or FALLBACK_QUESTIONS[index % 2], answer))
    return examples


def _chat_text(question: str, answer: str) -> str:
    return f"{IM_START}user\n{question}{IM_END}\n{IM_START}assistant\n{answer}{IM_END}\n"


def _token_stream(tokenizer: PreTrainedTokenizerFast, paragraphs: list[str], chats: list[str]) -> torch.Tensor:
    """Plain paragraphs and chat turns alternate, each ended by <|endoftext|>, in one long stream of ids."""
    pieces = [text + EOS for pair in zip(paragraphs, chats, strict=True) for text in pair]
    return torch.tensor([i for ids in tokenizer(pieces)["input_ids"] for i in ids], dtype=torch.long)


def _model_config(tokenizer: PreTrainedTokenizerFast) -> Qwen2Config:
    return Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=384,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=CONTEXT_TOKENS,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids(IM_END),
        pad_token_id=tokenizer.pad_token_id,
    )


def _train(model: Qwen2ForCausalLM, stream: torch.Tensor, *, seed: int, train_steps: int, report: ProgressFn) -> None:
    """Next-token prediction on random windows of the stream; AdamW with warm-up and cosine decay."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    warmup = max(1, train_steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: (min(1.0, (step + 1) / warmup)
                      * 0.5 * (1 + math.cos(math.pi * min(step, train_steps) / train_steps))),
    )
    model.train()
    for step in range(train_steps):
        starts = torch.randint(0, len(stream) - SEQUENCE_TOKENS, (BATCH_SIZE,), generator=generator)
        batch = torch.stack([stream[s : s + SEQUENCE_TOKENS] for s in starts.tolist()])
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if step % max(1, train_steps // 20) == 0 or step == train_steps - 1:
            message = f"training the demo model: step {step + 1}/{train_steps}, loss {loss.item():.2f}"
            report(message, 0.02 + 0.95 * (step + 1) / train_steps)
    model.eval()
