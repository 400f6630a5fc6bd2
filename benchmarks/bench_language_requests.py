"""Answer-language requests: the parser on its tables, and the language_mismatch flag on the labeled set, before
and after a change to healthmon/quality/language.py.

    python benchmarks/bench_language_requests.py [--before REV] [--json] [--data PATH]

"Before" is language.py as it stood at git revision REV (default HEAD), loaded beside the working tree's. Two
measures, both without a model (the flag needs only py3langid, which is packaged):
- the request parser on tests/test_quality_language_requests.py's tables: recall (the asked language read, and
  the right one) over prompts that ask for a language, and false requests over prompts that only name one;
- language_mismatch on benchmarks/data/quality_eval.jsonl, computed as the live path does (language.judge, on
  prompt and answer bounded as text_quality bounds them; a revision older than judge gets the path of its day:
  expected_language of the prompt, detect of the answer without its echo): per language, precision / recall
  against the wrong-language rows among good + wrong-language rows, and its false alarms on good rows;
- language_mismatch on the same real answers under prompts that ask for a language (TEMPLATES wrap the labeled
  questions; the set has no such prompts of its own): a good answer in the prompt's language under a request
  for the other language is a wrong-language answer, and the other-language answer of a wrong-language row
  under a request for its language is a good one. The first measures recall, the second false alarms.
--data reads another labeled file instead of quality_eval.jsonl (benchmarks/data/relevance_heldout.jsonl, the
held-out set). Where its rows carry a group, the parser is also read on the file's own prompts: a
cross-language or translation prompt asks for the row's language, a short or plain question asks for none.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from healthmon.quality import language as current  # noqa: E402
from healthmon.quality.metrics import bounded_text  # noqa: E402
from healthmon.quality.relevance import translation_source  # noqa: E402
from tests.test_quality_language_requests import NOT_REQUESTS, REQUESTS  # noqa: E402

EVAL_SET = ROOT / "benchmarks" / "data" / "quality_eval.jsonl"
# requests for language {name} around question {q}; English and Chinese phrasings, each with the language named
# in English and in Chinese
TEMPLATES = {
    "en": ["Answer in {name}: {q}", "{q} Reply in {name} please.", "In {name}, {q}", "{q} (in {name})",
           "Your answer must be in {name}. {q}", "{q} Use {name}.", "Could you respond in {name}? {q}",
           "Please write your response in {name}. {q}"],
    "zh": ["用{name}回答：{q}", "{q}请用{name}。", "以{name}作答：{q}", "{q}回答请使用{name}。", "{name}回答：{q}",
           "请用{name}介绍：{q}"],
}
NAMES = {"en": {"en": "English", "zh": "英文"}, "zh": {"en": "Chinese", "zh": "中文"}}  # asked -> template -> name


def module_at(revision: str, path: str = "healthmon/quality/language.py") -> types.ModuleType:
    """The module at `path` as it stood at git revision `revision`, beside the working tree's (its own imports
    resolve as usual; bench_fact_questions.py loads relevance.py this way too)."""
    source = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout
    name = Path(path).stem
    module = types.ModuleType(f"{name}_at_{revision}")
    sys.modules[module.__name__] = module  # dataclasses look their class's module up there
    exec(compile(source, f"{Path(path).name}@{revision}", "exec"), module.__dict__)
    return module


def language_module_at(revision: str) -> types.ModuleType:
    return module_at(revision, "healthmon/quality/language.py")


def parser_figures(module: Any) -> dict[str, Any]:
    read = [module.asked_language(prompt) for prompt, _ in REQUESTS]
    right = sum(got == want for got, (_, want) in zip(read, REQUESTS, strict=True))
    wrong_language = sum(got is not None and got != want for got, (_, want) in zip(read, REQUESTS, strict=True))
    false_requests = [prompt for prompt in NOT_REQUESTS if module.asked_language(prompt) is not None]
    return {"requests": len(REQUESTS), "read_right": right, "read_wrong_language": wrong_language,
            "recall": round(right / len(REQUESTS), 3), "not_requests": len(NOT_REQUESTS),
            "false_requests": len(false_requests), "false_request_prompts": false_requests,
            "missed": [prompt for got, (prompt, want) in zip(read, REQUESTS, strict=True) if got != want]}


def data_parser_figures(module: Any, rows: list[dict]) -> dict[str, Any] | None:
    """The parser on the data file's own prompts, where its rows say which group they are (relevance files)."""
    prompts = {r["prompt"]: r for r in rows if "group" in r}
    if not prompts:
        return None
    asking = [(p, r["language"]) for p, r in prompts.items() if r["group"] in ("cross_language", "translation")]
    plain = [p for p, r in prompts.items() if r["group"] not in ("cross_language", "translation")]
    missed = [(p, module.asked_language(p)) for p, want in asking if module.asked_language(p) != want]
    false_requests = [p for p in plain if module.asked_language(p) is not None]
    return {"requests": len(asking), "read_right": len(asking) - len(missed),
            "recall": round((len(asking) - len(missed)) / len(asking), 3) if asking else None,
            "missed": [f"{p} (read {got})" for p, got in missed], "not_requests": len(plain),
            "false_requests": len(false_requests), "false_request_prompts": false_requests}


def flagged(module: Any, prompt: str, answer: str) -> bool:
    """language_mismatch as text_quality finds it with `module`'s rules."""
    prompt, answer = bounded_text(prompt), bounded_text(answer)
    if hasattr(module, "judge"):
        return module.judge(prompt, answer, translation_source, current.identify).mismatch is True
    expected, _ = module.expected_language(prompt, current.identify)
    answered = module.detect(module.without_echo(prompt, answer), current.identify,
                             quotations_are_prose=module.asks_translation(prompt))
    return module.language_mismatch(expected, answered) is True


def flag_figures(module: Any, rows: list[dict]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for language in ("en", "zh"):
        mine = [r for r in rows if r["language"] == language and r["label"] in ("good", "wrong_language")]
        hits = [flagged(module, r["prompt"], r["response"]) for r in mine]
        wrong = [hit for hit, r in zip(hits, mine, strict=True) if r["label"] == "wrong_language"]
        good = [hit for hit, r in zip(hits, mine, strict=True) if r["label"] == "good"]
        figures[language] = {
            "wrong_language": len(wrong), "good": len(good), "asked_in_prompt": sum(
                module.asked_language(r["prompt"]) is not None for r in mine),
            "precision": round(sum(wrong) / sum(hits), 3) if sum(hits) else None,
            "recall": round(sum(wrong) / len(wrong), 3) if wrong else None,
            "false_alarms_on_good": sum(good)}
    return figures


def asked_pairs(rows: list[dict]) -> list[tuple[str, str, bool]]:
    """(prompt, answer, is wrong language) built from the labeled rows and TEMPLATES, as the docstring says."""
    pairs = []
    for row in rows:
        if row["language"] not in ("en", "zh") or current.asked_language(row["prompt"]) is not None:
            continue
        other = "zh" if row["language"] == "en" else "en"
        if row["label"] == "good":
            asked, wrong = other, True  # a same-language answer under a request for the other language
        elif row["label"] == "wrong_language":
            asked, wrong = other, False  # the other-language answer, now asked for
        else:
            continue
        for style, templates in TEMPLATES.items():
            pairs += [(t.format(name=NAMES[asked][style], q=row["prompt"]), row["response"], wrong) for t in templates]
    return pairs


def asked_figures(module: Any, pairs: list[tuple[str, str, bool]]) -> dict[str, Any]:
    flags = [flagged(module, prompt, answer) for prompt, answer, _ in pairs]
    wrong = [flag for flag, (_, _, is_wrong) in zip(flags, pairs, strict=True) if is_wrong]
    good = [flag for flag, (_, _, is_wrong) in zip(flags, pairs, strict=True) if not is_wrong]
    return {"wrong_language": len(wrong), "good": len(good),
            "precision": round(sum(wrong) / sum(flags), 3) if sum(flags) else None,
            "recall": round(sum(wrong) / len(wrong), 3) if wrong else None,
            "false_alarms_on_good": sum(good), "false_alarm_rate": round(sum(good) / len(good), 3) if good else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="HEAD", help="git revision of language.py to compare against")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--data", type=Path, default=EVAL_SET, help="labeled rows (default: quality_eval.jsonl)")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = asked_pairs(rows)
    report = {name: {"parser": parser_figures(module), "language_mismatch": flag_figures(module, rows),
                     "language_mismatch_asked": asked_figures(module, pairs),
                     "parser_on_data": data_parser_figures(module, rows)}
              for name, module in (("before", language_module_at(args.before)), ("after", current))}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    for name, figures in report.items():
        p = figures["parser"]
        print(f"{name}: parser recall {p['read_right']}/{p['requests']} ({p['recall']}), "
              f"read as another language {p['read_wrong_language']}, false requests "
              f"{p['false_requests']}/{p['not_requests']}")
        for prompt in p["missed"]:
            print(f"    missed: {prompt}")
        for prompt in p["false_request_prompts"]:
            print(f"    false request: {prompt}")
        for language, f in figures["language_mismatch"].items():
            print(f"  language_mismatch {language}: precision {f['precision']} recall {f['recall']} "
                  f"({f['wrong_language']} wrong-language, {f['good']} good rows, {f['asked_in_prompt']} asking "
                  f"in the prompt), false alarms on good {f['false_alarms_on_good']}")
        d = figures["parser_on_data"]
        if d is not None:
            print(f"  parser on {args.data.name}'s prompts: recall {d['read_right']}/{d['requests']} ({d['recall']}), "
                  f"false requests {d['false_requests']}/{d['not_requests']}")
            for prompt in d["missed"]:
                print(f"    missed: {prompt}")
            for prompt in d["false_request_prompts"]:
                print(f"    false request: {prompt}")
        a = figures["language_mismatch_asked"]
        print(f"  language_mismatch under requests: precision {a['precision']} recall {a['recall']} "
              f"({a['wrong_language']} wrong-language, {a['good']} good), false alarms on good "
              f"{a['false_alarms_on_good']} ({a['false_alarm_rate']})")


if __name__ == "__main__":
    main()
