"""Real SmolLM2 answers to the relevance groups' prompts (relevance_eval_prompts), greedy and sampled.

    python benchmarks/make_relevance_generations.py [--out benchmarks/data/smollm2_relevance_generations.jsonl]

As make_quality_generations.py: the packaged SmolLM2-135M-Instruct through healthmon's GGUF cache, its chat
template, 80 new tokens, every prompt answered greedily and sampled (temperature 0.9, top-p 0.95, fixed seed).
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

from make_quality_generations import MODES, NEW_TOKENS  # noqa: E402
from relevance_eval_prompts import prompts  # noqa: E402

from healthmon.runtime.generate import decode_whole_characters  # noqa: E402
from healthmon.runtime.gguf import cached_checkpoint, packaged_gguf  # noqa: E402


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
    rows, started = [], time.monotonic()
    for mode, sampling in MODES.items():
        torch.manual_seed(1234)
        for item in prompts():
            text = tokenizer.apply_chat_template([{"role": "user", "content": item["prompt"]}], tokenize=False,
                                                 add_generation_prompt=True)
            inputs = tokenizer(text, add_special_tokens=False, return_tensors="pt")
            with torch.inference_mode():
                out = model.generate(**inputs, max_new_tokens=NEW_TOKENS, pad_token_id=tokenizer.pad_token_id,
                                     **sampling)
            ids = out[0, inputs["input_ids"].shape[1]:].tolist()
            ended = end_of_turn in ids
            answer_ids = ids[:ids.index(end_of_turn)] if ended else ids
            rows.append({key: item[key] for key in ("id", "group", "prompt_language", "language", "prompt")}
                        | {"mode": mode, "finish_reason": "stop" if ended else "length",
                           "response": decode_whole_characters(tokenizer, answer_ids)})
        print(f"{mode}: {len(rows)} answers in {time.monotonic() - started:.0f} s", flush=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} answers -> {args.out}")


if __name__ == "__main__":
    main()
