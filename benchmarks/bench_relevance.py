"""Relevance across languages and lengths: candidate off_topic decisions side by side, per group (issue 26).

    python benchmarks/bench_relevance.py [--json] [--data PATH]

Rows: benchmarks/data/relevance_eval.jsonl (groups cross_language, translation, short; make_relevance_eval.py)
and the good, off-topic and wrong-language rows of quality_eval.jsonl (group `questions`). --data reads another
file of the same shape instead (benchmarks/data/relevance_heldout.jsonl, the held-out set); one that has a
`questions` group of its own is measured on it alone, without quality_eval's. No logits are needed
(text_quality without them); relevance is multilingual-e5-small's. Decisions, each adding one thing:
  one_line      e5 cosine of the prompt (query) and the answer (passage) below 0.83: the decision before
  per_pair      the same cosine against a line per kind of pair (relevance.Lines: question, cross-language
                script, answers of at most SHORT_ANSWER_UNITS units)
  stripped      per_pair, the prompt's language request cut out before embedding ("Answer in Chinese:", "用英文")
  translation   stripped, and a translation request compared as the text to translate against the answer
                (passage . passage, its own line)
  mismatch_first  translation, and no off_topic where language_mismatch is raised
  healthmon     mismatch_first, and a bare answer of the wrong kind off-topic (relevance.short_answer_fits):
                what metrics.flags does
Per group and decision: false alarms on good answers, recall and precision on off-topic ones, and how many
on-topic wrong-language answers, and on-topic wrong answers (SmolLM2's "17 * 23 = 381"), were called
off-topic. Then, for the healthmon decision, AUROC of relevance (the cosine it reads, minus its line) and of
quality_score, good vs off-topic, and every flag's precision / recall against its class and false alarm rate
on good answers.
No cross-encoder is measured: the rerankers on PyPI (FlashRank and the like) fetch their weights from the
Hugging Face hub on first use, which this machine cannot reach, and none bundles them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_quality_eval import FLAG_OF_CLASS, auroc  # noqa: E402

from healthmon.quality.embedder import load_embedder  # noqa: E402
from healthmon.quality.metrics import text_quality, with_relevance  # noqa: E402
from healthmon.quality.relevance import (  # noqa: E402
    QUESTION,
    TRANSLATION,
    is_off_topic,
    off_topic_line,
    relevance,
    translation_source,
    without_request,
)

DATA = ROOT / "benchmarks" / "data"
GROUPS = ("cross_language", "translation", "short", "questions")
ONE_LINE = 0.83


def load_rows(data: Path = DATA / "relevance_eval.jsonl") -> list[dict]:
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    if any(row["group"] == "questions" for row in rows):
        # a held-out file brings its own plain questions: quality_eval's were seen when the lines were set
        return [row for row in rows if row["label"] in ("good", "off_topic", "wrong_language", "wrong")]
    for line in (DATA / "quality_eval.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["label"] in ("good", "off_topic", "wrong_language") and row["language"] in ("en", "zh"):
            prompt_language = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in row["prompt"]) else "en"
            rows.append(row | {"group": "questions", "prompt_language": prompt_language})
    return [row for row in rows if row["label"] in ("good", "off_topic", "wrong_language", "wrong")]


def measure(rows: list[dict]) -> None:
    """Every signal the decisions read, on each row (embeddings cached by text)."""
    e5 = load_embedder("multilingual-e5-small")
    queries: dict[str, Any] = {}
    passages: dict[str, Any] = {}

    def query(text: str) -> Any:
        return queries.setdefault(text, e5.query(text))

    def passage(text: str) -> Any:
        return passages.setdefault(text, e5.passage(text))

    for row in rows:
        answer = passage(row["response"])
        row["plain"] = float(query(row["prompt"]) @ answer)
        row["stripped"] = float(query(without_request(row["prompt"]) or row["prompt"]) @ answer)
        source = translation_source(row["prompt"])
        row["translation"] = None if source is None else float(passage(source) @ answer)
        quality = text_quality(row["prompt"], row["response"], row["finish_reason"])
        measured = relevance(e5, row["prompt"], row["response"])
        row["quality"] = with_relevance(quality, measured.value, measured.reason, e5.name, measured.method)


def _with(row: dict, value: float, method: str, language_match: bool | None = None) -> dict:
    """The row's quality as a decision sees it: without the short-answer kinds, the language match as given."""
    return row["quality"] | {"relevance": value, "relevance_method": method, "language_match": language_match,
                             "short_answer_fits": None}


def _translation(row: dict, language_match: bool | None = None) -> dict:
    if row["translation"] is None:
        return _with(row, row["stripped"], QUESTION, language_match)
    return _with(row, row["translation"], TRANSLATION, language_match)


DECISIONS: dict[str, Callable[[dict], bool]] = {
    "one_line": lambda r: r["plain"] < ONE_LINE,
    "per_pair": lambda r: is_off_topic(_with(r, r["plain"], QUESTION)),
    "stripped": lambda r: is_off_topic(_with(r, r["stripped"], QUESTION)),
    "translation": lambda r: is_off_topic(_translation(r)),
    "mismatch_first": lambda r: is_off_topic(_translation(r, r["quality"]["language_match"])),
    "healthmon": lambda r: "off_topic" in r["quality"]["flags"],
}


def rate(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def decision_figures(rows: list[dict], decide: Callable[[dict], bool]) -> dict[str, Any]:
    good = [decide(r) for r in rows if r["label"] == "good"]
    off = [decide(r) for r in rows if r["label"] == "off_topic"]
    wrong_language = [decide(r) for r in rows if r["label"] == "wrong_language"]
    wrong = [decide(r) for r in rows if r["label"] == "wrong"]
    flagged = sum(good) + sum(off)
    return {"good": len(good), "false_alarms": sum(good), "false_alarm_rate": rate(sum(good), len(good)),
            "off_topic": len(off), "caught": sum(off), "recall": rate(sum(off), len(off)),
            "precision": rate(sum(off), flagged), "wrong_language": len(wrong_language),
            "wrong_language_called_off_topic": sum(wrong_language), "wrong": len(wrong),
            "wrong_called_off_topic": sum(wrong),
            "missed": [f"{r['id']}: {r['prompt'][:40]} -> {r['response'][:40]}" for r in rows
                       if r["label"] == "off_topic" and not decide(r)],
            "false_alarm_rows": [f"{r['id']}: {r['prompt'][:40]} -> {r['response'][:40]}" for r in rows
                                 if r["label"] == "good" and decide(r)]}


def healthmon_figures(rows: list[dict]) -> dict[str, Any]:
    good = [r for r in rows if r["label"] == "good"]
    off = [r for r in rows if r["label"] == "off_topic"]

    def margin(r: dict) -> float:
        return r["quality"]["relevance"] - off_topic_line(r["quality"])

    flags: dict[str, Any] = {}
    for label in ("off_topic", "wrong_language"):
        flag = FLAG_OF_CLASS[label]
        mine = [r for r in rows if r["label"] in ("good", label)]
        flagged = [r for r in mine if flag in r["quality"]["flags"]]
        positives = [r for r in mine if r["label"] == label]
        flags[flag] = {"precision": rate(sum(r["label"] == label for r in flagged), len(flagged)),
                       "recall": rate(sum(flag in r["quality"]["flags"] for r in positives), len(positives)),
                       "missed": [r["id"] for r in positives if flag not in r["quality"]["flags"]],
                       "false_alarms": [r["id"] for r in flagged if r["label"] == "good"]}
    every = sorted({flag for r in rows for flag in r["quality"]["flags"]} | {"off_topic", "language_mismatch"})
    return {"relevance_auroc": auroc([margin(r) for r in good], [margin(r) for r in off]),
            "plain_cosine_auroc": auroc([r["plain"] for r in good], [r["plain"] for r in off]),
            "quality_score_auroc": auroc([r["quality"]["quality_score"] for r in good],
                                         [r["quality"]["quality_score"] for r in off]),
            "flags": flags,
            "false_alarm_rate_on_good": {flag: rate(sum(flag in r["quality"]["flags"] for r in good), len(good))
                                         for flag in every}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--data", type=Path, default=DATA / "relevance_eval.jsonl",
                        help="labeled rows (default: relevance_eval.jsonl, with quality_eval's questions)")
    args = parser.parse_args()
    started = time.monotonic()
    rows = load_rows(args.data)
    measure(rows)
    report: dict[str, Any] = {"data": str(args.data), "rows": len(rows), "groups": {}}
    for group in GROUPS:
        mine = [r for r in rows if r["group"] == group]
        report["groups"][group] = {
            "decisions": {name: decision_figures(mine, decide) for name, decide in DECISIONS.items()},
            "by_prompt_language": {lang: decision_figures([r for r in mine if r["prompt_language"] == lang],
                                                          DECISIONS["healthmon"]) for lang in ("en", "zh")},
            "by_source": {source: decision_figures([r for r in mine if r["source"] == source],
                                                   DECISIONS["healthmon"])
                          for source in sorted({r["source"] for r in mine})},
            "healthmon": healthmon_figures(mine)}
    report["seconds"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    for group, figures in report["groups"].items():
        print(f"== {group}")
        for name, f in figures["decisions"].items():
            print(f"  {name:14s} false alarms {f['false_alarms']}/{f['good']} ({f['false_alarm_rate']}), off-topic "
                  f"caught {f['caught']}/{f['off_topic']} (precision {f['precision']}), wrong-language called "
                  f"off-topic {f['wrong_language_called_off_topic']}/{f['wrong_language']}, wrong answers called "
                  f"off-topic {f['wrong_called_off_topic']}/{f['wrong']}")
        for key in ("by_prompt_language", "by_source"):
            for part, f in figures[key].items():
                print(f"    healthmon {part:16s} false alarms {f['false_alarms']}/{f['good']}, caught "
                      f"{f['caught']}/{f['off_topic']}, wrong-language off-topic "
                      f"{f['wrong_language_called_off_topic']}")
        h = figures["healthmon"]
        print(f"  healthmon: relevance AUROC {h['relevance_auroc']} (plain cosine {h['plain_cosine_auroc']}), "
              f"quality_score AUROC {h['quality_score_auroc']}, flags {h['flags']}, "
              f"false alarms on good {h['false_alarm_rate_on_good']}")
        for miss in figures["decisions"]["healthmon"]["missed"]:
            print(f"    missed: {miss}")
        for alarm in figures["decisions"]["healthmon"]["false_alarm_rows"]:
            print(f"    false alarm: {alarm}")
    print(f"{report['rows']} rows in {report['seconds']} s")


if __name__ == "__main__":
    main()
