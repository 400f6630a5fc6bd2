"""Which confidence signal from the generation's own logits tells SmolLM2's wrong factual answers from right ones.

    python benchmarks/bench_confidence.py [--json]

Reads benchmarks/data/factual_answers.jsonl (make_factual_answers.py: greedy SmolLM2-135M-Instruct answers to
short factual questions in English and Chinese, each labeled right or wrong, with every answer token's
log-probability and entropy under the raw logits); no model is loaded. For each candidate signal (higher = less
sure) it prints, per language and pooled: AUROC of wrong vs right, and the best recall of "wrong" at precision
>= 0.8 with its threshold (in-sample: the threshold is picked on the rows it is scored on). Then the same
recall and precision held out, in English (where right and wrong answers are balanced) and pooled: 5-fold
cross-validation grouped by question (an English question and its Chinese twin fall in the same fold), repeated
over 20 shuffles, the threshold picked on four folds and scored on the fifth. The last line scores the shipped
`low_confidence` flag (healthmon.quality.metrics.text_quality, as the live path computes it).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from healthmon.quality.uncertainty import (  # noqa: E402
    first_sentence_nll,
    first_sentence_tokens,
    lowest_token_nll,
    uncertainty,
)

DATA = ROOT / "benchmarks" / "data" / "factual_answers.jsonl"
TARGET_PRECISION = 0.8
FOLDS, SHUFFLES = 5, 20


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0


def _lowest(values: Sequence[float], k: int) -> list[float]:
    return sorted(values)[:k]


def _head(row: dict, key: str, n: int) -> list[float]:
    return row[key][:n]


def _first_sentence(row: dict, key: str) -> list[float]:
    return row[key][:first_sentence_tokens(row["token_texts"])]


# Every candidate reads a row and returns how unsure the answer is (higher = less sure).
CANDIDATES: dict[str, Callable[[dict], float]] = {
    "lowest_token_nll (5 lowest of first 48; the flag before)": lambda r: lowest_token_nll(r["token_logprobs"]) or 0.0,
    "mean token entropy (the old flag)": lambda r: _mean(r["token_entropies"]),
    "max token entropy": lambda r: max(r["token_entropies"], default=0.0),
    "maximum sequence probability (-sum logprob)": lambda r: -math.fsum(r["token_logprobs"]),
    "mean token NLL (log perplexity)": lambda r: -_mean(r["token_logprobs"]),
    "lowest token probability (-min logprob)": lambda r: -min(r["token_logprobs"], default=0.0),
    "mean of 2 lowest token logprobs (-)": lambda r: -_mean(_lowest(r["token_logprobs"], 2)),
    "mean of 3 lowest token logprobs (-)": lambda r: -_mean(_lowest(r["token_logprobs"], 3)),
    "mean of 5 lowest token logprobs (-)": lambda r: -_mean(_lowest(r["token_logprobs"], 5)),
    "share of tokens with p < 0.5": lambda r: _mean([lp < math.log(0.5) for lp in r["token_logprobs"]]),
    "share of tokens with entropy > 1 nat": lambda r: _mean([e > 1.0 for e in r["token_entropies"]]),
    "first 8 tokens: -min logprob": lambda r: -min(_head(r, "token_logprobs", 8), default=0.0),
    "first 8 tokens: max entropy": lambda r: max(_head(r, "token_entropies", 8), default=0.0),
    "first 16 tokens: -min logprob": lambda r: -min(_head(r, "token_logprobs", 16), default=0.0),
    "first 16 tokens: max entropy": lambda r: max(_head(r, "token_entropies", 16), default=0.0),
    "first 16 tokens: mean entropy": lambda r: _mean(_head(r, "token_entropies", 16)),
    "first 16 tokens: -mean of 3 lowest logprobs": lambda r: -_mean(_lowest(_head(r, "token_logprobs", 16), 3)),
    "smallest top-1/top-2 margin (-)": lambda r: -min((a - b for a, b in zip(r["token_logprobs"],
                                                                                r["second_logprobs"], strict=True)),
                                                       default=0.0),
    "key tokens: -min logprob": lambda r: -min(_key(r, "token_logprobs"), default=0.0),
    "key tokens: max entropy": lambda r: max(_key(r, "token_entropies"), default=0.0),
    "key tokens: mean NLL": lambda r: -_mean(_key(r, "token_logprobs")),
    "first key token: NLL": lambda r: -(_key(r, "token_logprobs") or [0.0])[0],
    "first key token: entropy": lambda r: (_key(r, "token_entropies") or [0.0])[0],
    "first sentence: 5 lowest of the first 48 (-)": lambda r: lowest_token_nll(
        r["token_logprobs"], first_sentence_tokens(r["token_texts"])) or 0.0,
    "first sentence: -mean of 3 lowest logprobs": lambda r: -_mean(_lowest(_first_sentence(r, "token_logprobs"), 3)),
    "first sentence: -sum logprob (preregistered)": lambda r: first_sentence_nll(
        r["token_logprobs"], first_sentence_tokens(r["token_texts"])) or 0.0,
    "first_sentence_nll (-sum logprob of the first sentence past an echo, shipped)": lambda r: first_sentence_nll(
        r["token_logprobs"], first_sentence_tokens(r["token_texts"], r["prompt"])) or 0.0,
}

# Lines picked on factual_answers.jsonl (English, the lowest line at precision >= 0.8, in-sample) and written
# down before benchmarks/data/factual_answers_heldout.jsonl existed: `--data` that file scores them held out.
PREREGISTERED: dict[str, tuple[str, float]] = {
    "before: lowest_token_nll > 1.6": ("lowest_token_nll (5 lowest of first 48; the flag before)", 1.6),
    "first sentence, 5 lowest > 1.3202": ("first sentence: 5 lowest of the first 48 (-)", 1.3202),
    "first sentence, 3 lowest > 1.4461": ("first sentence: -mean of 3 lowest logprobs", 1.4461),
    "first sentence, -sum logprob > 9.8395 (chosen)": ("first sentence: -sum logprob (preregistered)", 9.8395),
    "the same past an echo of the question (shipped)": (
        "first_sentence_nll (-sum logprob of the first sentence past an echo, shipped)", 9.8395),
}

_STOP = {"the", "a", "an", "is", "of", "in", "and", "to", "it", "was", "are", "by", "that", "this", "on", "as",
         "for", "with", "be", "has", "its", "at", "or", "which", "from", "also", "answer", "known"}


def _key(row: dict, key: str) -> list[float]:
    """The figures of the answer's key tokens: words, numbers or CJK text that the prompt does not already hold.

    A token text with a replacement character is part of a multi-byte character: content."""
    prompt = row["prompt"].casefold()
    values = []
    for text, value in zip(row["token_texts"], row[key], strict=True):
        word = text.strip().casefold()
        if "\ufffd" in text or (any(c.isalnum() for c in word) and word not in _STOP and word not in prompt):
            values.append(value)
    return values


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def best_threshold(scored: Sequence[tuple[float, bool]]) -> tuple[float, float, float] | None:
    """(threshold, recall, precision) of the most recall at precision >= TARGET_PRECISION, flagging above the
    threshold; None when no threshold reaches that precision."""
    positives = sum(wrong for _, wrong in scored)
    best = None
    for threshold in sorted({value for value, _ in scored}):
        flagged = [wrong for value, wrong in scored if value > threshold]
        if not flagged or not positives:
            continue
        precision, recall = sum(flagged) / len(flagged), sum(flagged) / positives
        if precision >= TARGET_PRECISION and (best is None or recall > best[1]):
            best = (threshold, recall, precision)
    return best


def cross_validated(rows: list[dict], signal: Callable[[dict], float]) -> dict[str, float]:
    """Held-out recall and precision: thresholds picked on 4 folds of questions, scored on the 5th."""
    groups = sorted({row["id"].rsplit("-", 1)[0] for row in rows})
    hits = flagged = positives = 0
    for shuffle in range(SHUFFLES):
        order = groups[:]
        random.Random(shuffle).shuffle(order)
        fold_of = {group: i % FOLDS for i, group in enumerate(order)}
        for fold in range(FOLDS):
            train = [(signal(r), r["label"] == "wrong") for r in rows if fold_of[r["id"].rsplit("-", 1)[0]] != fold]
            test = [(signal(r), r["label"] == "wrong") for r in rows if fold_of[r["id"].rsplit("-", 1)[0]] == fold]
            chosen = best_threshold(train)
            positives += sum(wrong for _, wrong in test)
            if chosen is None:
                continue
            caught = [wrong for value, wrong in test if value > chosen[0]]
            hits, flagged = hits + sum(caught), flagged + len(caught)
    return {"recall": hits / positives if positives else 0.0, "precision": hits / flagged if flagged else 0.0}


def report(rows: list[dict]) -> dict:
    groups = {"en": [r for r in rows if r["language"] == "en"], "zh": [r for r in rows if r["language"] == "zh"],
              "both": rows}
    out: dict = {"answers": {name: {"wrong": sum(r["label"] == "wrong" for r in group),
                                    "right": sum(r["label"] == "right" for r in group)}
                             for name, group in groups.items()}, "signals": {}}
    for name, signal in CANDIDATES.items():
        figures: dict = {}
        for group_name, group in groups.items():
            values = [(signal(r), r["label"] == "wrong") for r in group]
            best = best_threshold(values)
            figures[group_name] = {
                "auroc": round(auroc([v for v, w in values if w], [v for v, w in values if not w]) or 0, 3),
                "recall_at_p80_in_sample": round(best[1], 3) if best else 0.0,
                "threshold": round(best[0], 4) if best else None}
        figures["held_out"] = {
            group_name: {k: round(v, 3) for k, v in cross_validated(groups[group_name], signal).items()}
            for group_name in ("en", "both")}
        out["signals"][name] = figures
    return out


def shipped(rows: list[dict]) -> dict:
    """The shipped `low_confidence` flag, as text_quality computes it, against the labels."""
    from healthmon.quality.metrics import text_quality

    out = {}
    for group_name in ("en", "zh", "both"):
        group = [r for r in rows if group_name in ("both", r["language"])]
        flagged = [r for r in group if "low_confidence" in text_quality(
            r["prompt"], r["response"], r["finish_reason"], r["token_logprobs"], r["token_entropies"],
            first_sentence_tokens=first_sentence_tokens(r["token_texts"], r["prompt"]))["flags"]]
        wrong = sum(r["label"] == "wrong" for r in group)
        hits = sum(r["label"] == "wrong" for r in flagged)
        out[group_name] = {"precision": round(hits / len(flagged), 3) if flagged else None,
                           "recall": round(hits / wrong, 3) if wrong else None, "flagged": len(flagged)}
    return out


def preregistered(rows: list[dict]) -> dict:
    """Each PREREGISTERED line as it stands, per language: precision, recall of "wrong", answers flagged."""
    out: dict = {}
    for name, (signal_name, line) in PREREGISTERED.items():
        signal = CANDIDATES[signal_name]
        out[name] = {}
        for group_name in ("en", "zh", "both"):
            group = [r for r in rows if group_name in ("both", r["language"])]
            flagged = [r["label"] == "wrong" for r in group if signal(r) > line]
            wrong = sum(r["label"] == "wrong" for r in group)
            out[name][group_name] = {"precision": round(sum(flagged) / len(flagged), 3) if flagged else None,
                                     "recall": round(sum(flagged) / wrong, 3) if wrong else None,
                                     "flagged": len(flagged)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--data", type=Path, default=DATA, help="answers as make_factual_answers.py writes them")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line]
    result = report(rows) | {"shipped_low_confidence": shipped(rows), "preregistered": preregistered(rows),
                             "uncertainty_fields": sorted(uncertainty([-0.1], [0.1]))}
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    print("answers:", result["answers"])
    print(f"{'signal':48} {'AUROC en/zh/both':>17} {'R@P.8 en/zh/both in-sample':>27} "
          f"{'held-out R/P en':>16} {'held-out R/P both':>18}")
    for name, figures in result["signals"].items():
        aurocs = "/".join(f"{figures[g]['auroc']:.2f}" for g in ("en", "zh", "both"))
        recalls = "/".join(f"{figures[g]['recall_at_p80_in_sample']:.2f}" for g in ("en", "zh", "both"))
        held = figures["held_out"]
        print(f"{name:48} {aurocs:>17} {recalls:>27} {held['en']['recall']:>9.2f} / {held['en']['precision']:.2f} "
              f"{held['both']['recall']:>11.2f} / {held['both']['precision']:.2f}")
    print("shipped low_confidence:", result["shipped_low_confidence"])
    print("lines fixed beforehand (precision / recall / flagged):")
    for name, groups in result["preregistered"].items():
        print(f"  {name:40}", "  ".join(f"{g} {v['precision']} / {v['recall']} / {v['flagged']}"
                                         for g, v in groups.items()))


if __name__ == "__main__":
    main()
