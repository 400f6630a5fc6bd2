"""Real SmolLM2 answers to the relevance groups' prompts (relevance_eval_prompts), greedy and sampled.

    python benchmarks/make_relevance_generations.py [--out benchmarks/data/smollm2_relevance_generations.jsonl]

As make_quality_generations.py: the packaged SmolLM2-135M-Instruct through healthmon's GGUF cache, its chat
template, greedy, NEW_TOKENS (48: the groups' right answers are a sentence or two at most). Each answer is
appended to --out as it comes (a shared 2-core machine took a minute an answer), prompts of the three groups
taken in turn, short answers first; a rerun skips the prompts --out already holds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from relevance_eval_prompts import prompts  # noqa: E402

from healthmon.runtime.generate import decode_whole_characters  # noqa: E402
from healthmon.runtime.gguf import cached_checkpoint, packaged_gguf  # noqa: E402

NEW_TOKENS = 48


def interleaved(items: list[dict]) -> list[dict]:
    """Short questions first, then the groups' prompts in turn, English and Chinese alternating."""
    lanes = [[item for item in items if item["group"] == group and item["prompt_language"] == lang]
             for group in ("short", "translation", "cross_language") for lang in ("en", "zh")]
    return [lane[i] for i in range(max(map(len, lanes))) for lane in lanes if i < len(lane)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=ROOT / "benchmarks" / "data" / "smollm2_relevance_generations.jsonl")
    parser.add_argument("--cache", type=Path, default=ROOT / ".pytest_cache" / "healthmon-gguf")
    args = parser.parse_args()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    checkpoint = cached_checkpoint(packaged_gguf(), args.cache)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32).eval()
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    done = ({json.loads(line)["id"] for line in args.out.read_text(encoding="utf-8").splitlines() if line}
            if args.out.exists() else set())
    started = time.monotonic()
    for count, item in enumerate(item for item in interleaved(prompts()) if item["id"] not in done):
        text = tokenizer.apply_chat_template([{"role": "user", "content": item["prompt"]}], tokenize=False,
                                             add_generation_prompt=True)
        inputs = tokenizer(text, add_special_tokens=False, return_tensors="pt")
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
        ids = out[0, inputs["input_ids"].shape[1]:].tolist()
        ended = end_of_turn in ids
        answer_ids = ids[:ids.index(end_of_turn)] if ended else ids
        row = {key: item[key] for key in ("id", "group", "prompt_language", "language", "prompt")} | {
            "mode": "greedy", "finish_reason": "stop" if ended else "length",
            "response": decode_whole_characters(tokenizer, answer_ids)}
        with open(args.out, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{count + 1} answers in {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
