"""How well the quality signals tell good answers from bad, on the labeled evaluation set.

    python benchmarks/bench_quality_eval.py [--no-model] [--json]

For every row of benchmarks/data/quality_eval.jsonl (how it was made: make_quality_eval.py) it computes what
the live path computes: healthmon.quality.metrics.text_quality with the token log-probabilities and entropies
of the answer under the packaged SmolLM2-135M-Instruct (a teacher-forced pass over the chat-templated prompt
and the answer gives the same logits the generation had), then relevance with the default embedding model.
It prints, per language: AUROC of quality_score for good vs each bad class; precision and recall of each flag
against its class; the uncertainty signals' AUROC for wrong vs right factual answers (SmolLM2's own answers
only); and relevance AUROC (good vs off-topic) for multilingual-e5-small beside all-MiniLM-L6-v2.
Targets: quality_score AUROC good vs degenerate >= 0.95 and good vs off-topic >= 0.85 in each language;
language_mismatch precision >= 0.95 at recall >= 0.9; the uncertainty signal's AUROC >= 0.70.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from healthmon.quality.embedder import load_embedder  # noqa: E402
from healthmon.quality.metrics import text_quality, with_relevance  # noqa: E402
from healthmon.quality.relevance import relevance  # noqa: E402

EVAL_SET = ROOT / "benchmarks" / "data" / "quality_eval.jsonl"
LANGUAGES = ("en", "zh")
BAD_CLASSES = ("degenerate", "off_topic", "wrong_language", "empty")
FLAG_OF_CLASS = {"degenerate": "degenerate", "off_topic": "off_topic", "wrong_language": "language_mismatch",
                 "empty": "empty", "truncated": "truncated"}
UNCERTAINTY = {"first_sentence_nll": 1.0, "lowest_token_nll": 1.0, "mean_token_entropy": 1.0,
               "min_token_logprob": -1.0, "mean_logprob": -1.0, "sequence_logprob": -1.0}


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """P(a positive scores above a negative), ties counted half (Mann-Whitney U); None without both."""
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return round(wins / (len(positives) * len(negatives)), 4)


def precision_recall(rows: list[dict], flag: str, is_positive: Callable[[dict], bool]) -> dict[str, Any]:
    flagged = [r for r in rows if flag in r["quality"]["flags"]]
    positives = [r for r in rows if is_positive(r)]
    hits = sum(is_positive(r) for r in flagged)
    return {"precision": round(hits / len(flagged), 4) if flagged else None,
            "recall": round(hits / len(positives), 4) if positives else None, "positives": len(positives),
            "flagged": len(flagged)}


def token_statistics(rows: list[dict]) -> Callable[[dict], tuple[list[float], list[float], int | None]]:
    """Log-probability and entropy of each answer token under SmolLM2, as the generation would have seen them."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from healthmon.runtime.generate import first_sentence_length
    from healthmon.runtime.gguf import cached_checkpoint, packaged_gguf

    checkpoint = cached_checkpoint(packaged_gguf(), ROOT / ".pytest_cache" / "healthmon-gguf")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32).eval()

    def score(row: dict) -> tuple[list[float], list[float], int | None]:
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": row["prompt"]}], tokenize=False,
                                               add_generation_prompt=True)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(row["response"], add_special_tokens=False)["input_ids"]
        if not answer_ids:
            return [], [], None
        with torch.inference_mode():
            logits = model(torch.tensor([prompt_ids + answer_ids])).logits[0, len(prompt_ids) - 1:-1]
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        chosen = logprobs[torch.arange(len(answer_ids)), torch.tensor(answer_ids)]
        entropies = torch.special.entr(logprobs.exp()).sum(-1)
        return chosen.tolist(), entropies.tolist(), first_sentence_length(tokenizer, answer_ids, row["prompt"])

    return score


def evaluate(rows: list[dict], with_model: bool) -> dict[str, Any]:
    started = time.monotonic()
    statistics = token_statistics(rows) if with_model else (lambda row: (None, None, None))
    e5, minilm = load_embedder("multilingual-e5-small"), load_embedder("all-MiniLM-L6-v2")
    for row in rows:
        logprobs, entropies, sentence_tokens = statistics(row)
        quality = text_quality(row["prompt"], row["response"], row["finish_reason"], logprobs, entropies,
                               first_sentence_tokens=sentence_tokens)
        measured = relevance(e5, row["prompt"], row["response"])
        row["quality"] = with_relevance(quality, measured.value, measured.reason, e5.name, measured.method)
        row["minilm_relevance"] = relevance(minilm, row["prompt"], row["response"]).value
    report: dict[str, Any] = {"rows": len(rows), "seconds": round(time.monotonic() - started, 1), "languages": {}}
    for language in LANGUAGES:
        mine = [r for r in rows if r["language"] == language]
        good = [r for r in mine if r["label"] == "good"]
        figures: dict[str, Any] = {"counts": {label: sum(r["label"] == label for r in mine)
                                              for label in ("good", *BAD_CLASSES, "truncated", "incoherent")}}
        figures["quality_score_auroc"] = {
            f"good_vs_{bad}": auroc([r["quality"]["quality_score"] for r in good],
                                    [r["quality"]["quality_score"] for r in mine if r["label"] == bad])
            for bad in BAD_CLASSES}
        figures["relevance_auroc_good_vs_off_topic"] = {
            name: auroc([r[key] if key else r["quality"]["relevance"] for r in good
                         if (r[key] if key else 1) is not None],
                        [r[key] if key else r["quality"]["relevance"] for r in mine if r["label"] == "off_topic"])
            for name, key in (("multilingual-e5-small", None), ("all-MiniLM-L6-v2", "minilm_relevance"))}
        figures["flags"] = {
            FLAG_OF_CLASS[label]: precision_recall([r for r in mine if r["label"] in ("good", label)],
                                                   FLAG_OF_CLASS[label], lambda r, label=label: r["label"] == label)
            for label in BAD_CLASSES}
        # A real answer cut at max_new_tokens is truncated too, whatever else it is.
        figures["flags"]["truncated"] = precision_recall(
            [r for r in mine if r["label"] in ("good", "truncated")], "truncated",
            lambda r: r["label"] == "truncated" or r["finish_reason"] == "length")
        figures["flags"]["language_mismatch_all_rows"] = precision_recall(
            [r for r in mine if r["label"] != "incoherent"], "language_mismatch",
            lambda r: r["label"] == "wrong_language")
        report["languages"][language] = figures
    factual = [r for r in rows if r.get("factual") and r["source"].startswith("smollm2")]
    wrong = [r for r in factual if r["factual"] == "wrong"]
    right = [r for r in factual if r["factual"] == "right"]
    report["uncertainty_auroc_wrong_vs_right"] = {
        "answers": {"wrong": len(wrong), "right": len(right)},
        **{signal: auroc([sign * r["quality"][signal] for r in wrong if r["quality"].get(signal) is not None],
                         [sign * r["quality"][signal] for r in right if r["quality"].get(signal) is not None])
           for signal, sign in UNCERTAINTY.items()}}
    # The flag before its first-sentence signal (the 5 least likely of the first 48 tokens above 1.6 nats, on
    # factual questions), on the same rows, for the before/after; per language too.
    def before(row: dict) -> bool:
        return bool(row["quality"]["asks_for_fact"]) and (row["quality"].get("lowest_token_nll") or 0.0) > 1.6

    for group, mine in (("both", factual), *((language, [r for r in factual if r["language"] == language])
                                             for language in LANGUAGES)):
        flagged = [r for r in mine if before(r)]
        hits, wrong_here = sum(r["factual"] == "wrong" for r in flagged), sum(r["factual"] == "wrong" for r in mine)
        report[f"low_confidence_flag_before_{group}"] = {
            "precision": round(hits / len(flagged), 4) if flagged else None,
            "recall": round(hits / wrong_here, 4) if wrong_here else None}
        report[f"low_confidence_flag_{group}"] = precision_recall(mine, "low_confidence",
                                                                  lambda r: r["factual"] == "wrong")
    # How often the flag fires on the model's good answers to open questions, where it has no label to be right on.
    open_good = [r for r in rows if r["source"].startswith("smollm2") and r["label"] == "good" and not r.get("factual")]
    report["low_confidence_on_open_good_answers"] = {
        "answers": len(open_good), "now": sum("low_confidence" in r["quality"]["flags"] for r in open_good),
        "before": sum(before(r) for r in open_good)}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-model", action="store_true", help="skip the logits (no uncertainty figures)")
    parser.add_argument("--dump", type=Path, help="write every row with its quality here (JSON lines)")
    args = parser.parse_args()
    rows = [json.loads(line) for line in EVAL_SET.read_text(encoding="utf-8").splitlines() if line]
    report = evaluate(rows, with_model=not args.no_model)
    if args.dump:
        args.dump.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
