"""Where `low_confidence` means something: the flag's line on every answer, only on short factual questions
(relevance.asks_for_fact), or only on short answers, side by side, offline.

    python benchmarks/bench_confidence_scope.py DUMP [--json]

DUMP is `bench_quality_eval.py --dump` of benchmarks/data/quality_eval.jsonl (every row with its quality
measures, lowest_token_nll among them; its factual labels are read from quality_eval.jsonl by id). The second
set is benchmarks/data/factual_answers.jsonl (bench_confidence.py), whose token figures are stored. For each
candidate it prints the false alarms on SmolLM2's good answers to open (non-factual) prompts and precision /
recall of "wrong" on factual answers, per language. Every line here was read on these rows (in-sample).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from healthmon.quality.metrics import text_units  # noqa: E402
from healthmon.quality.relevance import asks_for_fact  # noqa: E402
from healthmon.quality.uncertainty import LOW_CONFIDENCE_ABOVE, lowest_token_nll  # noqa: E402

EVAL_SET = ROOT / "benchmarks" / "data" / "quality_eval.jsonl"
FACTUAL = ROOT / "benchmarks" / "data" / "factual_answers.jsonl"

# a row here: prompt, response units, lowest_token_nll, and what it is
Row = dict
CANDIDATES: dict[str, Callable[[Row], bool]] = {
    "every answer, > 1.6 (shipped before)": lambda r: r["nll"] > LOW_CONFIDENCE_ABOVE,
    "factual question (asks_for_fact), > 1.6": lambda r: r["fact"] and r["nll"] > LOW_CONFIDENCE_ABOVE,
    "factual question, > 1.4": lambda r: r["fact"] and r["nll"] > 1.4,
    "factual question, > 1.8": lambda r: r["fact"] and r["nll"] > 1.8,
    "answer of at most 32 units, > 1.6": lambda r: r["units"] <= 32 and r["nll"] > LOW_CONFIDENCE_ABOVE,
    "answer of at most 48 units, > 1.6": lambda r: r["units"] <= 48 and r["nll"] > LOW_CONFIDENCE_ABOVE,
}


def _rows(dump: Path) -> tuple[list[Row], list[Row]]:
    """(the developers' set's SmolLM2 rows, the factual set's rows), each reduced to what the candidates read."""
    factual_of = {r["id"]: r.get("factual") for r in map(json.loads, EVAL_SET.read_text(encoding="utf-8").splitlines())}
    dev = []
    for line in dump.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if not r["source"].startswith("smollm2") or r["quality"].get("lowest_token_nll") is None:
            continue
        dev.append({"group": r["id"].split("-")[0], "language": r["language"] or "code", "label": r["label"],
                    "factual": factual_of[r["id"]], "nll": r["quality"]["lowest_token_nll"],
                    "units": r["quality"]["response_units"], "fact": asks_for_fact(r["prompt"])})
    factual = []
    for line in FACTUAL.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        factual.append({"language": r["language"], "factual": r["label"], "nll": lowest_token_nll(r["token_logprobs"]),
                        "units": len(text_units(r["response"])), "fact": asks_for_fact(r["prompt"])})
    return dev, factual


def _precision_recall(rows: list[Row], flag: Callable[[Row], bool]) -> dict:
    flagged = [r for r in rows if flag(r)]
    wrong = sum(r["factual"] == "wrong" for r in rows)
    hits = sum(r["factual"] == "wrong" for r in flagged)
    return {"wrong": wrong, "right": len(rows) - wrong, "caught": hits, "flagged": len(flagged),
            "precision": round(hits / len(flagged), 3) if flagged else None,
            "recall": round(hits / wrong, 3) if wrong else None}


def report(dev: list[Row], factual: list[Row]) -> dict:
    open_good = [r for r in dev if r["label"] == "good" and not r["factual"]]
    out = {}
    for name, flag in CANDIDATES.items():
        figures: dict = {"open_good_flagged": {
            group: f"{sum(flag(r) for r in rows)}/{len(rows)}"
            for group, rows in (("open-en", [r for r in open_good if r["group"] == "open"]),
                                ("ask, code", [r for r in open_good if r["group"] != "open"]),
                                ("all", open_good))}}
        for set_name, rows in (("dev", [r for r in dev if r["factual"]]), ("factual_set", factual)):
            figures[set_name] = {language: _precision_recall([r for r in rows if language in ("both", r["language"])],
                                                             flag) for language in ("en", "zh", "both")}
        out[name] = figures
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = report(*_rows(args.dump))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    for name, figures in result.items():
        print(name)
        print("  good open answers flagged:", figures["open_good_flagged"])
        for set_name in ("dev", "factual_set"):
            print(f"  {set_name:12}", "  ".join(
                f"{lang}: P {f['precision']} R {f['recall']} ({f['caught']}/{f['wrong']}, {f['flagged']} flagged)"
                for lang, f in figures[set_name].items()))


if __name__ == "__main__":
    main()
