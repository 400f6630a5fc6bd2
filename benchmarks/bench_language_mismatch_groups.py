"""language_mismatch per group of a labeled file: false alarms on good rows and recall on wrong_language rows.

    python benchmarks/bench_language_mismatch_groups.py --data benchmarks/data/heldout3_language.jsonl

Reads each row through healthmon.quality.metrics.text_quality (prompt, response, finish_reason), the path an
answer takes at request time, so the figure is the flag a user sees (bench_language_requests reads the parser and
language_mismatch apart). No model: the flag needs only the prompt and the answer. Every miss is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from healthmon.quality.metrics import text_quality  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="rows {id, group, prompt, response, label, ...}")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    groups = list(dict.fromkeys((r["group"], r["prompt_language"]) for r in rows))
    totals = {"good": [0, 0], "wrong_language": [0, 0]}
    misses = []
    for group, language in groups:
        line = [f"{group:15} {language}:"]
        for label, word in (("good", "false alarms"), ("wrong_language", "recall")):
            mine = [r for r in rows if (r["group"], r["prompt_language"], r["label"]) == (group, language, label)]
            if not mine:
                continue
            flagged = [r for r in mine
                       if "language_mismatch" in text_quality(r["prompt"], r["response"], r["finish_reason"])["flags"]]
            totals[label][0] += len(flagged)
            totals[label][1] += len(mine)
            line.append(f"{word} {len(flagged)}/{len(mine)}")
            wrong = flagged if label == "good" else [r for r in mine if r not in flagged]
            misses += [f"  {'false alarm' if label == 'good' else 'missed'}: {r['id']}: {r['prompt']}" for r in wrong]
        print(" ".join(line))
    (fa, good), (hit, wrong) = totals["good"], totals["wrong_language"]
    print(f"all: false alarms on good {fa}/{good} ({fa / good:.1%}), recall on wrong_language {hit}/{wrong} "
          f"({hit / wrong:.1%})")
    print("\n".join(misses))


if __name__ == "__main__":
    main()
