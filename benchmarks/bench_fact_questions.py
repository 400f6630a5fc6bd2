"""asks_for_fact (does a prompt ask for one checkable fact) on labeled prompts, before and after a change (issue 26).

    python benchmarks/bench_fact_questions.py [--before REV] [--data PATH] [--json]

Rows: {id, language, prompt, factual} (default benchmarks/data/heldout2_factual.jsonl, the second held-out set,
written blind). Per language: recall on the factual prompts and false positives on the open ones, every miss
listed. "Before" is healthmon/quality/relevance.py as it stood at git revision REV (default HEAD), loaded beside
the working tree's by bench_language_requests' loader; the request parser it calls (without_request) is
language.py at the same revision, so that "before" is the rule as it stood then, not half of it.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_language_requests import module_at  # noqa: E402

from healthmon.quality import relevance as current  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "heldout2_factual.jsonl"
LANGUAGE = "healthmon.quality.language"


def relevance_at(revision: str) -> types.ModuleType:
    """relevance.py at `revision`, importing language.py at the same revision (swapped into sys.modules only while
    the old source runs its imports)."""
    saved = sys.modules[LANGUAGE]
    sys.modules[LANGUAGE] = module_at(revision, "healthmon/quality/language.py")
    try:
        return module_at(revision, "healthmon/quality/relevance.py")
    finally:
        sys.modules[LANGUAGE] = saved


def figures(asks_for_fact: Callable[[str], bool], rows: list[dict]) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for language in sorted({r["language"] for r in rows}):
        mine = [r for r in rows if r["language"] == language]
        factual = [r for r in mine if r["factual"]]
        open_ = [r for r in mine if not r["factual"]]
        missed = [r for r in factual if not asks_for_fact(r["prompt"])]
        false_positives = [r for r in open_ if asks_for_fact(r["prompt"])]
        report[language] = {
            "factual": len(factual), "found": len(factual) - len(missed),
            "recall": round((len(factual) - len(missed)) / len(factual), 3) if factual else None,
            "open": len(open_), "false_positives": len(false_positives),
            "missed": [f"{r['id']}: {r['prompt']}" for r in missed],
            "false_positive_prompts": [f"{r['id']}: {r['prompt']}" for r in false_positives]}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="HEAD", help="git revision of relevance.py to compare against")
    parser.add_argument("--data", type=Path, default=DATA, help="rows {id, language, prompt, factual}")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    report = {name: figures(module.asks_for_fact, rows)
              for name, module in ((f"before ({args.before})", relevance_at(args.before)), ("after", current))}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    for name, by_language in report.items():
        for language, f in by_language.items():
            print(f"{name} {language}: recall {f['found']}/{f['factual']} ({f['recall']}), false positives "
                  f"{f['false_positives']}/{f['open']}")
            for miss in f["missed"]:
                print(f"    missed: {miss}")
            for prompt in f["false_positive_prompts"]:
                print(f"    false positive: {prompt}")


if __name__ == "__main__":
    main()
