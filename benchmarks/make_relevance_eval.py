"""Build benchmarks/data/relevance_eval.jsonl, the labeled relevance groups, from written answers and real SmolLM2 ones.

    python benchmarks/make_relevance_generations.py   # the model's answers (minutes), then:
    python benchmarks/make_relevance_eval.py [--show]
    python benchmarks/make_relevance_eval.py --heldout   # benchmarks/data/relevance_heldout.jsonl

--heldout builds the held-out set instead, from relevance_heldout_prompts (written after the lines and rules
were fixed; written and paired rows only, no model answers), with the same builders; its `questions` group
gets good and paired off-topic rows like the others.

Rows as in quality_eval.jsonl (id, prompt, response, finish_reason, language, label, source) plus group
(cross_language, translation, short) and prompt_language. Labels: good, off_topic, wrong_language, degenerate,
incoherent, and `wrong` (on topic, in the right language, but not the answer: SmolLM2 often translates the
wrong way or answers a sum wrongly; it is no relevance failure, so it is reported apart like incoherent).
Sources:
  written          relevance_eval_prompts' right answers (good) and on-topic answers in the prompt's own language
                   where another was asked for (wrong_language)
  paired           written right answers given to another prompt of the same group and language (off_topic); a
                   short answer goes only to a question of another kind (a number to a question about a capital)
  smollm2-greedy   the model's answers (make_relevance_generations.py), labeled by reading them (LABELS; an
                   unlisted answer is good)
  smollm2-paired   the model's good answers given to another prompt of the group, as `paired`
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import relevance_heldout_prompts  # noqa: E402
from relevance_eval_prompts import WRONG_LANGUAGE, prompts  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
GENERATIONS = DATA / "smollm2_relevance_generations.jsonl"
OUT = DATA / "relevance_eval.jsonl"
HELDOUT_OUT = DATA / "relevance_heldout.jsonl"

# Read answer by answer (--show prints them): what is not good. SmolLM2-135M rarely does these tasks: it
# translates into nonsense characters, repeats the source, or answers a sum wrongly. An answer in the wrong
# language is wrong_language whatever its topic, as in quality_eval; one that mixes the source copied out with
# meaningless text in the other language is incoherent, one that loops is degenerate.
LABELS: dict[str, str] = {
    "short-en-0:greedy": "wrong", "short-zh-0:greedy": "wrong_language", "translate-en-0:greedy": "incoherent",
    "translate-zh-0:greedy": "incoherent", "cross-en-0:greedy": "degenerate", "cross-zh-0:greedy": "off_topic",
    "short-zh-1:greedy": "degenerate", "translate-en-1:greedy": "incoherent", "translate-zh-1:greedy": "incoherent",
    "cross-en-1:greedy": "degenerate", "cross-zh-1:greedy": "wrong", "short-en-2:greedy": "wrong",
    "short-zh-2:greedy": "wrong_language", "translate-en-2:greedy": "wrong", "translate-zh-2:greedy": "wrong",
    "cross-en-2:greedy": "wrong_language", "cross-zh-2:greedy": "off_topic", "short-en-3:greedy": "wrong",
    "short-zh-3:greedy": "wrong_language", "translate-en-3:greedy": "incoherent",
    "translate-zh-3:greedy": "wrong_language", "cross-en-3:greedy": "incoherent", "cross-zh-3:greedy": "off_topic",
    "short-en-4:greedy": "wrong", "short-zh-4:greedy": "degenerate", "translate-en-4:greedy": "incoherent",
    "translate-zh-4:greedy": "wrong", "cross-en-4:greedy": "wrong_language", "cross-zh-4:greedy": "degenerate",
    "short-en-5:greedy": "wrong", "short-zh-5:greedy": "degenerate", "translate-en-5:greedy": "incoherent",
    "translate-zh-5:greedy": "wrong_language", "cross-en-5:greedy": "incoherent", "short-zh-6:greedy": "degenerate",
    "translate-en-6:greedy": "degenerate", "translate-zh-6:greedy": "incoherent", "cross-en-6:greedy": "wrong_language",
    "cross-zh-6:greedy": "off_topic", "short-zh-7:greedy": "incoherent", "translate-en-7:greedy": "incoherent",
    "translate-zh-7:greedy": "wrong_language", "cross-en-7:greedy": "wrong_language", "cross-zh-7:greedy": "wrong",
    "short-en-8:greedy": "wrong", "short-zh-8:greedy": "degenerate", "translate-en-8:greedy": "degenerate",
    "translate-zh-8:greedy": "wrong_language", "cross-en-8:greedy": "wrong_language", "cross-zh-8:greedy": "degenerate",
    "short-zh-9:greedy": "wrong_language", "translate-en-9:greedy": "incoherent",
    "translate-zh-9:greedy": "incoherent", "cross-en-9:greedy": "degenerate", "cross-zh-9:greedy": "degenerate",
    "short-en-10:greedy": "wrong", "short-zh-10:greedy": "wrong_language", "translate-en-10:greedy": "incoherent",
    "translate-zh-10:greedy": "incoherent", "cross-en-10:greedy": "wrong_language", "short-en-11:greedy": "wrong",
    "short-zh-11:greedy": "wrong_language", "translate-en-11:greedy": "degenerate",
    "translate-zh-11:greedy": "incoherent", "cross-en-11:greedy": "degenerate", "cross-zh-11:greedy": "wrong_language",
}


def off_topic_partner(items: list[dict], index: int) -> dict | None:
    """Another prompt of the same group and language, half the list away; for a short question one of another
    kind, so that the moved answer is off the topic rather than a wrong answer of the right kind."""
    for step in range(len(items) // 2, len(items) // 2 + len(items)):
        other = items[(index + step) % len(items)]
        kind = items[index].get("kind")
        if other is not items[index] and (kind is None or other.get("kind") != kind):
            return other
    return None


def row(item: dict, row_id: str, response: str, label: str, source: str, finish_reason: str = "stop") -> dict:
    return {"id": row_id, "group": item["group"], "prompt_language": item["prompt_language"], "prompt": item["prompt"],
            "response": response, "finish_reason": finish_reason, "language": item["language"], "label": label,
            "source": source}


def build(generations: list[dict], items: list[dict] | None = None,
          wrong_language: dict[str, list[str]] | None = None) -> list[dict]:
    """The labeled rows of `items` (default: relevance_eval_prompts'), with `wrong_language` answers to their
    cross-language prompts and `generations` (model answers to them, labeled by LABELS)."""
    items = prompts() if items is None else items
    wrong_language = WRONG_LANGUAGE if wrong_language is None else wrong_language
    rows = [row(item, f"{item['id']}:written", item["written"], "good", "written") for item in items]
    for lang, answers in wrong_language.items():
        cross = [item for item in items if item["group"] == "cross_language" and item["prompt_language"] == lang]
        rows += [row(item, f"{item['id']}:wrong-language", answer, "wrong_language", "written")
                 for item, answer in zip(cross, answers, strict=False)]
    by_id = {item["id"]: item for item in items}
    real_good: dict[str, list[dict]] = {}
    for g in generations:
        label = LABELS.get(f"{g['id']}:{g['mode']}", "good")
        rows.append(row(by_id[g["id"]], f"{g['id']}:{g['mode']}", g["response"], label, f"smollm2-{g['mode']}",
                        g["finish_reason"]))
        if label == "good":
            real_good.setdefault(g["id"], []).append(g)
    for group in dict.fromkeys(item["group"] for item in items):  # in the order the prompts give them
        for lang in ("en", "zh"):
            mine = [item for item in items if item["group"] == group and item["prompt_language"] == lang]
            for index, item in enumerate(mine):
                partner = off_topic_partner(mine, index)
                if partner is None:
                    continue
                rows.append(row(partner, f"{item['id']}:to:{partner['id']}", item["written"], "off_topic", "paired"))
                for real in real_good.get(item["id"], [])[:1]:
                    rows.append(row(partner, f"{item['id']}:{real['mode']}:to:{partner['id']}", real["response"],
                                    "off_topic", "smollm2-paired", real["finish_reason"]))
    return rows


def main() -> None:
    if "--heldout" in sys.argv:
        write(build([], relevance_heldout_prompts.prompts(), relevance_heldout_prompts.WRONG_LANGUAGE), HELDOUT_OUT)
        return
    generations = ([json.loads(line) for line in GENERATIONS.read_text(encoding="utf-8").splitlines() if line]
                   if GENERATIONS.exists() else [])
    if "--show" in sys.argv:
        for g in generations:
            print(f"--- {g['id']}:{g['mode']} [{g['finish_reason']}] {g['prompt']}\n{g['response']}")
        return
    write(build(generations), OUT)


def write(rows: list[dict], out: Path) -> None:
    with open(out, "w", encoding="utf-8") as handle:
        for r in rows:
            handle.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for r in rows:
        key = f"{r['group']}/{r['label']}"
        counts[key] = counts.get(key, 0) + 1
    print(f"{len(rows)} rows -> {out}: {json.dumps(counts, sort_keys=True)}")


if __name__ == "__main__":
    main()
